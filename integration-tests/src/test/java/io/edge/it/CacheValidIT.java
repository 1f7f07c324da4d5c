package io.edge.it;

import static io.edge.it.CachedPhp.body;
import static io.edge.it.CachedPhp.url;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * nginx's cache settings in edge's terms, in front of a real php-fpm. cache.responses.valid (fastcgi_cache_valid): a
 * page that sends no caching headers (most PHP pages) is stored for its status's lifetime; one that opens a PHP session
 * is not (PHP sends a past Expires and no-store with it), nor one with its own shorter max-age kept longer.
 * stale-while-updating (use_stale updating, background_update on): a stale page answers while one run refreshes it.
 */
class CacheValidIT {

    @TempDir
    Path dir;

    CachedPhp php;

    @AfterEach
    void stop() {
        if (php != null) {
            php.close();
        }
    }

    @Test
    void aPageThatSaysNothingIsKeptForItsStatusLifetimeAndASessionPageIsNot() throws Exception {
        php = CachedPhp.start(dir, 2, "max-connections = 2", "valid { 200 = 1 m }");
        Files.writeString(dir.resolve("www/session.php"), """
                <?php
                session_start();
                file_put_contents(__DIR__ . '/../count.txt', "session\\n", FILE_APPEND | LOCK_EX);
                echo 'hello ', session_id() === '' ? 'nobody' : 'visitor';
                """);
        String plain = url("plain", null, "");
        for (int i = 0; i < 3; i++) {
            HttpResponse<String> page = php.get(plain);
            assertThat(page.statusCode()).isEqualTo(200);
            assertThat(page.body()).isEqualTo(body("plain", 1));
            assertThat(page.headers().firstValue("x-accel-expires")).as("never to a client").isEmpty();
        }
        assertThat(php.runs("plain")).isEqualTo(1);
        php.advance(Duration.ofSeconds(61));
        assertThat(php.get(plain).body()).as("its minute over").isEqualTo(body("plain", 2));

        String own = url("own", "max-age=5", "");
        assertThat(php.get(own).body()).isEqualTo(body("own", 1));
        php.advance(Duration.ofSeconds(6));
        assertThat(php.get(own).body()).as("its own max-age, not the minute").isEqualTo(body("own", 2));

        for (int i = 0; i < 2; i++) {
            HttpResponse<String> session = php.get("/session.php");
            assertThat(session.statusCode()).isEqualTo(200);
            assertThat(session.headers().firstValue("expires")).hasValueSatisfying(
                    expires -> assertThat(expires).contains("1981"));
        }
        assertThat(php.runs("session")).as("a session page is never stored").isEqualTo(2);
    }

    @Test
    void aStalePageAnswersWhileOneRunRefreshesIt() throws Exception {
        php = CachedPhp.start(dir, 2, "max-connections = 2", "stale-while-updating = 1 m");
        String page = url("updating", "max-age=1", "");
        assertThat(php.get(page).body()).isEqualTo(body("updating", 1));
        php.advance(Duration.ofSeconds(5));
        HttpResponse<String> stale = php.get(page);
        assertThat(stale.body()).as("the stale copy, at once").isEqualTo(body("updating", 1));
        assertThat(stale.headers().firstValue("age")).contains("5");
        CachedPhp.eventually(() -> php.get(page).body(), body -> body.equals(body("updating", 2)));
        assertThat(php.runs("updating")).isEqualTo(2);
    }
}
