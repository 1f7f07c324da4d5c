package io.edge.core.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.conf.LocationSettings;
import io.edge.conf.Return;
import io.edge.conf.SecureLink;
import io.edge.conf.ServerSettings;
import io.edge.conf.VariableText;
import io.edge.core.EdgeServer;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A location's secure link met as the request enters it ({@link LocationChecks}), with vectors made as nginx's
 * documentation makes them: {@code echo -n '/t/link127.0.0.1 secret' | openssl md5 -binary | openssl base64 | tr +/ -_
 * | tr -d =}. None depends on the day it runs: one link has no time, the other's is in 2001.
 */
class SecureLinkCheckTest {

    /** The MD5 of "/t/link127.0.0.1 secret": a link without a time. */
    private static final String TIMELESS = "FRolL8BS8t18li5ZhJ40iQ";
    /** The MD5 of "1000000000/s/link127.0.0.1 secret": a link of 2001-09-09, past. */
    private static final String PAST = "UIngCYIigrobPw-tBCrI1A";

    @TempDir
    Path root;

    private EdgeServer server;

    @AfterEach
    void stop() throws Exception {
        if (server != null) {
            server.shutdown();
        }
    }

    private static Return.Part variable(String name) {
        return new Return.Part(null, name);
    }

    private static Return.Part literal(String text) {
        return new Return.Part(text, null);
    }

    /**
     * nginx's secure_link $arg_md5,$arg_expires; secure_link_md5 "$secure_link_expires$uri$remote_addr secret" in /s/;
     * secure_link $arg_md5 (no time) in /t/.
     */
    private InetSocketAddress start() throws Exception {
        List<Return.Part> md5 = List.of(variable("secure_link_expires"), variable("uri"), variable("remote_addr"),
                literal(" secret"));
        SecureLink expiring = new SecureLink(List.of(variable("arg_md5"), literal(","), variable("arg_expires")), md5,
                new Return(403, List.of()), new Return(410, List.of()));
        SecureLink timeless = new SecureLink(List.of(variable("arg_md5")), md5, new Return(403, List.of()),
                new Return(410, List.of()));
        ServerSettings settings = TestServers.server(TestServers.limits(), TestServers.timeouts(Duration.ofSeconds(10)),
                100);
        LocationChecks checks = new LocationChecks(null, null);
        server = new EdgeServer(TestServers.settings(settings, root, List.of(location("/s/", expiring),
                location("/t/", timeless))), l -> checks.guard(exchange -> {
                    if (exchange.query().endsWith("&then=none")) {
                        exchange.retarget(exchange.path(), ""); // the link gone once the check passed it
                    }
                    DefaultFullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                            HttpResponseStatus.OK);
                    response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, 0);
                    exchange.complete(exchange.writeAndFlush(response));
                }, l));
        server.start();
        return server.boundAddresses().get(0);
    }

    /** A location of {@code prefix} with {@code link}, its headers saying $secure_link and $secure_link_expires. */
    private static LocationSettings location(String prefix, SecureLink link) {
        Map<String, VariableText> headers = Map.of("X-Link", new VariableText(List.of(variable("secure_link"),
                literal("/"), variable("secure_link_expires")), null));
        return LocationSettings.builder(prefix, LocationSettings.Kind.PREFIX, prefix, null, null,
                LocationSettings.Handler.STATIC, null).headers(headers).secureLink(link).build();
    }

    private static RawHttpClient.Response get(RawHttpClient client, String target) throws Exception {
        return client.send("GET " + target + " HTTP/1.1\r\nHost: a\r\n\r\n").read();
    }

    @Test
    void aGoodLinkPassesAWrongOneGetsTheInvalidAnswerAnExpiredOneTheExpiredAnswer() throws Exception {
        try (RawHttpClient client = new RawHttpClient(start())) {
            RawHttpClient.Response good = get(client, "/t/link?md5=" + TIMELESS);
            assertThat(good.status()).isEqualTo(200);
            assertThat(good.header("x-link")).as("$secure_link, and no time").isEqualTo("1/");
            assertThat(get(client, "/t/link?md5=" + TIMELESS + "==").status()).as("padded").isEqualTo(200);
            assertThat(get(client, "/t/other?md5=" + TIMELESS).status()).isEqualTo(403);
            assertThat(get(client, "/t/link?md5=" + TIMELESS.toLowerCase()).status()).as("tampered").isEqualTo(403);
            assertThat(get(client, "/t/link").status()).isEqualTo(403);

            // worked out once, as nginx keeps $secure_link: the headers say the verdict the check had
            RawHttpClient.Response kept = get(client, "/t/link?md5=" + TIMELESS + "&then=none");
            assertThat(kept.status()).isEqualTo(200);
            assertThat(kept.header("x-link")).isEqualTo("1/");

            assertThat(get(client, "/s/link?md5=" + PAST + "&expires=1000000000").status()).isEqualTo(410);
            assertThat(get(client, "/s/link?md5=" + PAST + "&expires=1000000001").status()).isEqualTo(403);
            assertThat(get(client, "/s/link?md5=" + PAST).status())
                    .as("\"hash,\": a comma and no time is invalid, as nginx's").isEqualTo(403);
        }
    }
}
