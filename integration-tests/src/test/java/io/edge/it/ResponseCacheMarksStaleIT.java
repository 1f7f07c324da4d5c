package io.edge.it;

import static io.edge.it.CachedPhp.body;
import static io.edge.it.CachedPhp.eventually;
import static io.edge.it.CachedPhp.url;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The response cache with {@code purge-marks-stale = true} in front of a real php-fpm (see {@link CachedPhp}): a
 * POST's invalidation, and a PURGE, mark a copy stale rather than remove it.
 */
class ResponseCacheMarksStaleIT {

    @TempDir
    static Path dir;

    static CachedPhp php;

    @BeforeAll
    static void start() throws Exception {
        php = CachedPhp.start(dir, 4, "max-connections = 4, queue { max-waiters = 100, timeout = 20 s }",
                "purge-marks-stale = true, coalesce-timeout = 120 s");
    }

    @AfterAll
    static void stop() {
        if (php != null) {
            php.close();
        }
    }

    /**
     * A POST to a page while its stale copy is revalidated (PHP holds the conditional GET until the test lets it go):
     * the script's 304 answers the revalidation's request, and the request that waited for it since before the POST
     * from the copy it renewed, a HIT without a run of its own; the one that came after the POST asks PHP again, with
     * the copy's validators. The 304's renewal was dropped, and the waiting requests went to PHP in turn: five runs.
     */
    @Test
    void theRequestWaitingForARevalidationSinceBeforeAPostHasItsAnswer() throws Exception {
        String url = url("post304", "public, max-age=10",
                "&etag=%22v1%22&self304=1&hold=release-post304&holdfrom=2&holdto=2");
        assertThat(php.get(url).body()).isEqualTo(body("post304", 1));
        php.advance(Duration.ofSeconds(11));
        long coalesced = php.metric("edge_response_cache_coalesced_total");
        CompletableFuture<HttpResponse<String>> leader = php.getAsync(url);
        eventually(() -> php.runs("post304"), runs -> runs == 2);
        CompletableFuture<HttpResponse<String>> beforePost = php.getAsync(url);
        eventually(() -> php.metric("edge_response_cache_coalesced_total") - coalesced, n -> n == 1);
        assertThat(php.send("POST", url).statusCode()).isEqualTo(200);
        CompletableFuture<HttpResponse<String>> afterPost = php.getAsync(url);
        eventually(() -> php.metric("edge_response_cache_coalesced_total") - coalesced, n -> n == 2);
        php.advance(Duration.ofSeconds(1)); // the answer comes after the requests, on the cache's clock too
        php.release("release-post304");

        assertThat(leader.get().body()).isEqualTo(body("post304", 1));
        assertThat(leader.get().headers().firstValue("x-cache")).contains("REVALIDATED");
        assertThat(beforePost.get().body()).isEqualTo(body("post304", 1));
        assertThat(beforePost.get().headers().firstValue("x-cache")).contains("HIT");
        assertThat(afterPost.get().body()).isEqualTo(body("post304", 1));
        assertThat(afterPost.get().headers().firstValue("x-cache")).contains("REVALIDATED");
        assertThat(php.runs("post304")).as("the revalidation, the POST, the one after it").isEqualTo(4);
    }
}
