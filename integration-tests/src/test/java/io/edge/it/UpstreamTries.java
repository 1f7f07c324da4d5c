package io.edge.it;

import static io.edge.it.Awaits.await;

import io.edge.core.http.CapturedLog;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * What the next-upstream ITs (proxy and FastCGI) share: a request of any method, and its access log line written with
 * the format {@code "$request_method $request_uri|$status|$upstream_status|$upstream_addr"}.
 */
final class UpstreamTries {

    /** The access log format whose lines {@link #logged} reads. */
    static final String FORMAT = "$request_method $request_uri|$status|$upstream_status|$upstream_addr";

    private static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    private UpstreamTries() {
    }

    /**
     * A location of a test's edge: {@code name} (its path /{name}/ and its group's), the addresses of its group of its
     * own, comma-separated, and its settings; the group's settings those of the test.
     */
    static String[] location(String name, String settings, String... addresses) {
        return locationInGroup(name, settings, "", addresses);
    }

    /** As {@link #location}, with {@code groupSettings} (", " and keys) laid over the group's. */
    static String[] locationInGroup(String name, String settings, String groupSettings, String... addresses) {
        return new String[] {name, String.join(", ", addresses), settings, groupSettings};
    }

    /**
     * Sends {@code method} {@code target} to {@code edge}, with {@code body} (null for none), given up on after 60 s: a
     * test's first request, in a JVM not yet warm on a loaded machine, took more than the 20 s this once allowed.
     */
    static HttpResponse<String> send(EdgeHarness edge, String method, String target, String body) throws Exception {
        return CLIENT.send(HttpRequest.newBuilder(edge.uri(target)).timeout(Duration.ofSeconds(60)).method(method,
                body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
                .build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The line of {@code access} for {@code method} {@code target}: status|upstream_status|upstream_addr. */
    static String logged(CapturedLog access, String method, String target) throws Exception {
        String start = method + " " + target + "|";
        await(() -> access.lines().stream().anyMatch(l -> l.startsWith(start)), "the access log line of " + start);
        return access.lines().stream().filter(l -> l.startsWith(start)).findFirst().orElseThrow()
                .substring(start.length());
    }
}
