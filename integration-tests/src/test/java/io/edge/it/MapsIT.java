package io.edge.it;

import static io.edge.it.Awaits.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.edge.core.http.CapturedLog;
import io.edge.core.http.RawHttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server's maps (nginx's map) in front of a real php-fpm: nginx's CORS idiom sends Access-Control-Allow-Origin to
 * the origin its regex allows and to no other; PHP sees the params the bot and the host maps make; a return and the
 * access log name a map too.
 */
class MapsIT {

    @TempDir
    static Path dir;

    static PhpFpm fpm;
    static EdgeHarness edge;

    @BeforeAll
    static void start() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.writeString(www.resolve("app.php"), """
                <?php
                echo 'IS_BOT=', $_SERVER['IS_BOT'] ?? '-', ' APP_ENV=', $_SERVER['APP_ENV'] ?? '-', "\\n";
                """);
        fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 2\n");
        edge = EdgeHarness.start(dir, """
                server {
                  access-log = "-", access-log-format = "$request_uri bot=$is_bot"
                  maps {
                    cors_origin { source = "$http_origin", default = "", values = [
                      { match = "~^https://(www\\\\.)?example\\\\.(com|org)$", value = "$http_origin" }
                    ]}
                    is_bot { source = "$http_user_agent", default = "0", values = [{ match = "~*(googlebot|bingbot)", value = "1" }] }
                    app_env { source = "$host", hostnames = true, default = prod, values = [
                      { match = ".staging.example.org", value = staging }
                    ]}
                  }
                }
                sites = [{
                  server-names = ["_"], default = true, root = "www"
                  locations = [
                    { match = "/", fastcgi = php, front-controller = "/app.php"
                      fastcgi-params { IS_BOT = "$is_bot", APP_ENV = "$app_env" }
                      headers { Access-Control-Allow-Origin = "$cors_origin", Vary = "Origin" } }
                    { match = "= /go", return = "302 https://$app_env.example.net/" }
                  ]
                }]
                fastcgi.backends.php { addresses = ["%s"], max-connections = 2 }
                """.formatted(fpm.address()));
    }

    @AfterAll
    static void stop() {
        EdgeHarness.close(edge, fpm);
    }

    @Test
    void corsIsAllowedForTheOriginTheMapTakesAndForNoOther() throws Exception {
        try (RawHttpClient client = new RawHttpClient(edge.address())) {
            RawHttpClient.Response allowed = client.send("GET /app.php HTTP/1.1\r\nHost: a.staging.example.org\r\n"
                    + "Origin: https://www.example.com\r\nUser-Agent: Mozilla/5.0 (compatible; Googlebot/2.1)\r\n\r\n")
                    .read();
            assertThat(allowed.status()).isEqualTo(200);
            assertThat(allowed.header("access-control-allow-origin")).isEqualTo("https://www.example.com");
            assertThat(allowed.text()).isEqualTo("IS_BOT=1 APP_ENV=staging\n");

            RawHttpClient.Response refused = client.send("GET /app.php HTTP/1.1\r\nHost: shop.example\r\n"
                    + "Origin: https://www.example.com.evil.example\r\nUser-Agent: curl/8.0\r\n\r\n").read();
            assertThat(refused.status()).isEqualTo(200);
            assertThat(refused.headers()).as("the default, \"\": not sent").doesNotContainKey(
                    "access-control-allow-origin");
            assertThat(refused.header("vary")).isEqualTo("Origin");
            assertThat(refused.text()).isEqualTo("IS_BOT=0 APP_ENV=prod\n");
        }
    }

    @Test
    void aReturnAndTheAccessLogNameAMap() throws Exception {
        try (CapturedLog access = CapturedLog.of("edge.access");
             RawHttpClient client = new RawHttpClient(edge.address())) {
            RawHttpClient.Response moved = client.send("GET /go HTTP/1.1\r\nHost: staging.example.org\r\n"
                    + "User-Agent: bingbot/2.0\r\n\r\n").read();
            assertThat(moved.status()).isEqualTo(302);
            assertThat(moved.header("location")).isEqualTo("https://staging.example.net/");
            await(() -> access.lines().contains("/go bot=1"), "the line of /go");
        }
    }
}
