package io.edge.it;

import static io.edge.it.Awaits.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.edge.core.http.CapturedLog;
import io.edge.core.http.RawHttpClient;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Base64;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A location's {@code secure-link}, nginx's secure_link with secure_link_md5 and its two ifs, on a real edge with real
 * files and a real HTTP client: a thumbnail URL signed as a PHP page signs it (MD5 of the expiry time, the URI, the
 * client's address and a secret, base64url) is served, a tampered, missing or foreign one gets 403, one past its time
 * 410; $secure_link and $secure_link_expires are variables of its headers and the access log.
 */
class SecureLinkIT {

    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    /** 2100-01-01: a link good whatever day the test runs. */
    private static final long FUTURE = 4_102_444_800L;
    /** 2001-09-09: a link long past its time. */
    private static final long PAST = 1_000_000_000L;

    @TempDir
    static Path dir;

    static EdgeHarness edge;
    static byte[] thumb;

    @BeforeAll
    static void start() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www/thumbs/ab"));
        thumb = new byte[5120];
        for (int i = 0; i < thumb.length; i++) {
            thumb[i] = (byte) (i * 17);
        }
        Files.write(www.resolve("0123.jpg"), thumb);
        edge = EdgeHarness.start(dir, """
                server { access-log = "-", access-log-format = "$uri link=$secure_link expires=$secure_link_expires" }
                sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                  { match = "/thumbs/", headers { X-Link = "$secure_link/$secure_link_expires" }
                    secure-link { link = "$arg_md5,$arg_expires", md5 = "$secure_link_expires$uri$remote_addr secret" } }
                  { match = "~ ^/signed/(.*)$", return = "200 signed $1"
                    secure-link { link = "$arg_h", md5 = "$uri s3cr$$t", invalid = "302 /login?next=$1", expired = 444 } }
                  { match = "/ifs/", return = "200 through $secure_link"
                    rewrites = [{ if = "$secure_link = \\"\\"", return = "302 /login" }
                                { if = "$secure_link = \\"0\\"", return = "200 renew $secure_link_expires" }]
                    secure-link { link = "$arg_md5,$arg_expires", md5 = "$secure_link_expires$uri secret"
                                  invalid = null, expired = null } }
                  { match = "/told/", return = "200 [$secure_link]"
                    secure-link { link = "$arg_md5,$arg_expires", md5 = "$secure_link_expires$uri secret"
                                  invalid = null, expired = null } }
                ] }]
                """);
    }

    @AfterAll
    static void stop() {
        if (edge != null) {
            edge.close();
        }
    }

    /** nginx's secure_link_md5 hash of {@code text}, as PHP makes it: base64url of the binary MD5, no padding. */
    private static String hash(String text) throws Exception {
        byte[] md5 = MessageDigest.getInstance("MD5").digest(text.getBytes(StandardCharsets.UTF_8));
        return Base64.getUrlEncoder().withoutPadding().encodeToString(md5);
    }

    private static HttpResponse<byte[]> get(String target) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + edge.address().getPort() + target))
                .build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    @Test
    void aSignedLinkIsServedATamperedOrMissingOne403AndAnExpiredOne410() throws Exception {
        String uri = "/thumbs/ab/0123.jpg";
        String good = hash(FUTURE + uri + "127.0.0.1 secret");
        try (CapturedLog access = CapturedLog.of("edge.access")) {
            HttpResponse<byte[]> served = get(uri + "?md5=" + good + "&expires=" + FUTURE);
            assertThat(served.statusCode()).isEqualTo(200);
            assertThat(served.body()).isEqualTo(thumb);
            assertThat(served.headers().firstValue("x-link")).contains("1/" + FUTURE);
            await(() -> access.lines().contains(uri + " link=1 expires=" + FUTURE), "the good link's line");

            assertThat(get(uri + "?md5=" + good + "&expires=" + (FUTURE + 1)).statusCode()).as("time moved on")
                    .isEqualTo(403);
            assertThat(get("/thumbs/ab/0124.jpg?md5=" + good + "&expires=" + FUTURE).statusCode())
                    .as("another file").isEqualTo(403);
            assertThat(get(uri + "?md5=" + good.substring(1) + "X&expires=" + FUTURE).statusCode()).as("tampered")
                    .isEqualTo(403);
            assertThat(get(uri + "?expires=" + FUTURE).statusCode()).as("no hash").isEqualTo(403);
            assertThat(get(uri).statusCode()).as("no link at all").isEqualTo(403);
            await(() -> access.lines().contains(uri + " link=- expires=-"), "the missing link's line");

            String old = hash(PAST + uri + "127.0.0.1 secret");
            HttpResponse<byte[]> expired = get(uri + "?md5=" + old + "&expires=" + PAST);
            assertThat(expired.statusCode()).isEqualTo(410);
            await(() -> access.lines().contains(uri + " link=0 expires=" + PAST), "the expired link's line");
        }
    }

    /**
     * The answers are written as a return's: a redirect with the location regex's captures, and 444. A link whose
     * value has no comma never expires.
     */
    @Test
    void theAnswersAreReturnsWithCapturesAndALinkWithoutATimeNeverExpires() throws Exception {
        String uri = "/signed/report.pdf";
        HttpResponse<byte[]> served = get(uri + "?h=" + hash(uri + " s3cr$t"));
        assertThat(served.statusCode()).isEqualTo(200);
        assertThat(new String(served.body(), StandardCharsets.UTF_8)).isEqualTo("signed report.pdf");

        HttpResponse<byte[]> refused = get(uri + "?h=" + hash(uri + " other"));
        assertThat(refused.statusCode()).isEqualTo(302);
        assertThat(refused.headers().firstValue("location")).contains(edge.uri("/login?next=report.pdf").toString());

        try (RawHttpClient client = new RawHttpClient(edge.address())) {
            // the link's own value names a time: the hash good, past it
            client.send("GET " + uri + "?h=" + hash(uri + " s3cr$t") + "," + PAST + " HTTP/1.1\r\nHost: a\r\n\r\n");
            assertThat(client.isClosedByPeer()).as("444: no answer at all").isTrue();
        }
    }

    /**
     * nginx's idiom written literally: a location's rewrites see $secure_link as the link makes it (the rewrite phase
     * comes before the secure-link's own answers), and with invalid and expired null (nginx's secure_link without its
     * ifs) nothing is refused but by them; a location without rewrites then lets every link through, $secure_link
     * telling its answer (a script) which it was.
     */
    @Test
    void rewritesSeeTheLinkAndNullAnswersLetItThrough() throws Exception {
        String uri = "/ifs/a";
        HttpResponse<byte[]> good = get(uri + "?md5=" + hash(FUTURE + uri + " secret") + "&expires=" + FUTURE);
        assertThat(new String(good.body(), StandardCharsets.UTF_8)).isEqualTo("through 1");
        HttpResponse<byte[]> bad = get(uri + "?md5=" + hash(FUTURE + uri + " other") + "&expires=" + FUTURE);
        assertThat(bad.statusCode()).isEqualTo(302);
        assertThat(bad.headers().firstValue("location")).contains(edge.uri("/login").toString());
        HttpResponse<byte[]> old = get(uri + "?md5=" + hash(PAST + uri + " secret") + "&expires=" + PAST);
        assertThat(old.statusCode()).isEqualTo(200);
        assertThat(new String(old.body(), StandardCharsets.UTF_8)).isEqualTo("renew " + PAST);

        String told = "/told/a";
        assertThat(new String(get(told + "?md5=" + hash(FUTURE + told + " secret") + "&expires=" + FUTURE).body(),
                StandardCharsets.UTF_8)).isEqualTo("[1]");
        assertThat(new String(get(told + "?md5=" + hash(PAST + told + " secret") + "&expires=" + PAST).body(),
                StandardCharsets.UTF_8)).isEqualTo("[0]");
        HttpResponse<byte[]> none = get(told);
        assertThat(none.statusCode()).isEqualTo(200);
        assertThat(new String(none.body(), StandardCharsets.UTF_8)).isEqualTo("[]");
    }
}
