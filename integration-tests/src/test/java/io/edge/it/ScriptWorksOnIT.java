package io.edge.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.core.http.CapturedLog;
import io.edge.core.http.RawHttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A script that sends its page with a Content-Length and then works on (the mod_php habit: the page first, the mail
 * or the thumbnails after, without fastcgi_finish_request), on a real edge and a real php-fpm: the client's answer is
 * whole once the declared bytes are out, and the next request on its connection is answered while the script still
 * works. It waited for the script (and behind one working past timeouts.read it was dropped, the page logged as cut).
 */
class ScriptWorksOnIT {

    @TempDir
    Path dir;

    @Test
    void theNextRequestOnTheConnectionIsAnsweredWhileTheScriptWorksOn() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.writeString(www.resolve("page.txt"), "static");
        // After its page, works until the test lets it go (at most 30 s), then says how it ended
        Files.writeString(www.resolve("work.php"), """
                <?php
                ignore_user_abort(true);
                $page = 'done';
                header('Content-Length: ' . strlen($page));
                echo $page;
                while (ob_get_level()) { ob_end_flush(); }
                flush();
                $go = __DIR__ . '/../go';
                for ($i = 0; $i < 300 && !file_exists($go); $i++) { usleep(100000); }
                file_put_contents(__DIR__ . '/../ended', file_exists($go) ? 'let go' : 'gave up');
                """);
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 2\n");
             EdgeHarness edge = EdgeHarness.start(dir, """
                     sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                       { match = "/" }
                       { match = "~ \\\\.php$", fastcgi = php }
                     ] }]
                     fastcgi.backends.php { addresses = ["%s"], max-connections = 2 }
                     """.formatted(fpm.address()));
             CapturedLog log = CapturedLog.of("io.edge.core.http.ServerExchange");
             RawHttpClient client = new RawHttpClient(edge.address())) {
            RawHttpClient.Response page = get(client, "/work.php");
            assertThat(page.status()).isEqualTo(200);
            assertThat(page.header("Content-Length")).isEqualTo("4");
            assertThat(page.text()).isEqualTo("done");

            RawHttpClient.Response next = get(client, "/page.txt");
            assertThat(next.status()).isEqualTo(200);
            assertThat(next.text()).isEqualTo("static");
            assertThat(dir.resolve("ended")).as("answered while the script works on").doesNotExist();

            Files.writeString(dir.resolve("go"), "");
            assertThat(PhpScripts.noted(dir.resolve("ended"), "the script's end")).isEqualTo("let go");
            assertThat(get(client, "/page.txt").text()).as("the same connection, still").isEqualTo("static");
            assertThat(log.warnings()).as("the page was whole: nothing was cut").isEmpty();
        }
    }

    private static RawHttpClient.Response get(RawHttpClient client, String target) throws Exception {
        return client.send("GET " + target + " HTTP/1.1\r\nHost: example.org\r\n\r\n").read();
    }
}
