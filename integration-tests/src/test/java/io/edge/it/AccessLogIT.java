package io.edge.it;

import static io.edge.it.Awaits.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.edge.core.http.CapturedLog;
import io.edge.core.http.RawHttpClient;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The access log's upstream timings, in front of a real php-fpm: queue wait, connect and response per request. */
class AccessLogIT {

    @TempDir
    Path dir;

    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    /** The end of a line: request time, then queue wait, connect and response, or "- - -". */
    private static final Pattern TIMINGS = Pattern.compile(
            ".*\"(GET [^\"]+)\" (\\d{3}) \\d+ \"[^\"]*\" \"[^\"]*\" \\d+\\.\\d{3} (?:(\\d+\\.\\d{3}) (\\d+\\.\\d{3}) (\\d+\\.\\d{3})|- - -)");

    /**
     * An IPv6 client is written as nginx writes it, RFC 5952's short form ({@code ::1}, not
     * {@code 0:0:0:0:0:0:0:1}), in the access log and in PHP's REMOTE_ADDR and SERVER_ADDR, which scripts compare
     * with {@code '::1'} and log-watchers match.
     */
    @Test
    void anIpv6ClientIsWrittenInItsShortForm() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.writeString(www.resolve("a.txt"), "static\n");
        Files.writeString(www.resolve("addr.php"), "<?php echo $_SERVER['REMOTE_ADDR'], ' ', $_SERVER['SERVER_ADDR'];");
        CapturedLog access = CapturedLog.of("edge.access");
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 1\n");
             EdgeHarness edge = EdgeHarness.start(dir, """
                     server { listen = ["[::1]:0"], access-log = "-" }
                     sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                       { match = "/" }, { match = "~ \\\\.php$", fastcgi = php }
                     ] }]
                     fastcgi.backends.php { addresses = ["%s"], max-connections = 1 }
                     """.formatted(fpm.address()))) {
            assertThat(edge.address().getAddress().getHostAddress()).as("listening on ::1").isEqualTo("0:0:0:0:0:0:0:1");
            int port = edge.address().getPort();
            HttpResponse<String> file = HTTP.send(HttpRequest.newBuilder(URI.create("http://[::1]:" + port + "/a.txt"))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertThat(file.statusCode()).isEqualTo(200);
            HttpResponse<String> php = HTTP.send(HttpRequest.newBuilder(URI.create("http://[::1]:" + port + "/addr.php"))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertThat(php.body()).isEqualTo("::1 ::1");
        } finally {
            access.close();
        }
        assertThat(access.lines()).hasSize(2).allSatisfy(line -> assertThat(line).startsWith("::1 - - ["));
    }

    /**
     * The request behind the other is seen queued before the one ahead of it is let go, and that one's script then
     * sleeps 300 ms: the wait is at least that long whatever the machine's speed. (The two were sent together
     * before, and a second request reaching edge late, on a loaded machine, would have found the worker nearly free.)
     */
    @Test
    void eachRequestABackendAnsweredCarriesItsQueueWaitConnectAndResponseTimes() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        PhpScripts.install(www);
        Files.writeString(www.resolve("a.txt"), "static\n");
        // Says it started, holds its worker until the test creates "release" (30 s at most), then sleeps.
        Files.writeString(www.resolve("gate.php"), """
                <?php
                touch(__DIR__ . '/../started');
                for ($i = 0; $i < 3000 && !file_exists(__DIR__ . '/../release'); $i++) { usleep(10000); }
                usleep((int)$_GET['sleep'] * 1000);
                echo 'let go';
                """);
        CapturedLog access = CapturedLog.of("edge.access");
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 1\n");
             EdgeHarness edge = EdgeHarness.start(dir, """
                     server.access-log = "-"
                     sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                       { match = "/" }, { match = "~ \\\\.php$", fastcgi = php }, { match = "= /edge-status", status = true }
                     ] }]
                     fastcgi.backends.php { addresses = ["%s"], max-connections = 1, keep-alive.enabled = true }
                     """.formatted(fpm.address()))) {
            assertThat(get(edge, "/a.txt").statusCode()).isEqualTo(200);
            // One connection, kept: the second request waits in the queue while the first holds it, then sleeps 300 ms.
            CompletableFuture<HttpResponse<String>> first = HTTP.sendAsync(
                    HttpRequest.newBuilder(edge.uri("/gate.php?sleep=300&id=1")).build(), HttpResponse.BodyHandlers.ofString());
            EdgeProcess.awaitExists(dir.resolve("started")); // the first script running
            CompletableFuture<HttpResponse<String>> second = HTTP.sendAsync(
                    HttpRequest.newBuilder(edge.uri("/count.php?id=2")).build(), HttpResponse.BodyHandlers.ofString());
            await(() -> edge.status().contains(" waiters=1 "), "the second request queued");
            Files.writeString(dir.resolve("release"), "");
            assertThat(first.get().statusCode()).isEqualTo(200);
            assertThat(second.get().statusCode()).isEqualTo(200);
            assertThat(get(edge, "/count.php?id=3").statusCode()).isEqualTo(200);
        } finally {
            Files.writeString(dir.resolve("release"), "");
            access.close();
        }
        List<String> logged = access.lines().stream()
                .filter(line -> !line.contains("/edge-status")).toList();
        assertThat(logged).hasSize(4);
        // Lower bounds only, each a sleep that happened before the time it bounds ended: no timing is asserted.
        for (String line : logged) {
            Matcher m = TIMINGS.matcher(line);
            assertThat(m.matches()).as(line).isTrue();
            assertThat(m.group(2)).isEqualTo("200");
            if (m.group(1).startsWith("GET /a.txt")) {
                assertThat(m.group(3)).as("a static file has no backend: - - -").isNull();
                continue;
            }
            assertThat(m.group(3)).as("a script's line carries the backend's times").isNotNull();
            double wait = Double.parseDouble(m.group(3));
            double connect = Double.parseDouble(m.group(4));
            double response = Double.parseDouble(m.group(5));
            if (!m.group(1).contains("sleep=300")) {
                assertThat(connect).as("the one php-fpm connection, kept from the first script: no connect").isZero();
            }
            if (m.group(1).contains("sleep=300")) {
                assertThat(response).as("the response took the script's sleep").isGreaterThanOrEqualTo(0.3);
            }
            if (m.group(1).contains("id=2")) {
                // queued before the first was released, which then slept 300 ms holding the one connection
                assertThat(wait).as("the request behind the other waited for its 300 ms").isGreaterThanOrEqualTo(0.3);
            }
        }
    }

    /**
     * A request that waited in the queue and never had a connection carries its wait, with no connect or answer
     * ("- -", as HAProxy's -1): its 503 when the queue's timeout ran out, its 499 when its client left (also a POST's,
     * which stays queued and runs without its client). They said "- - -", as if they had not waited, and a full
     * queue's pressure showed in the log only as 503s.
     */
    @Test
    void aRequestThatWaitedAndHadNoConnectionCarriesItsWait() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.writeString(www.resolve("gate.php"), """
                <?php
                touch(__DIR__ . '/../started');
                for ($i = 0; $i < 3000 && !file_exists(__DIR__ . '/../release'); $i++) { usleep(10000); }
                echo 'let go';
                """);
        CapturedLog access = CapturedLog.of("edge.access");
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 1\n");
             EdgeHarness edge = EdgeHarness.start(dir, """
                     server.access-log = "-"
                     sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                       { match = "~ \\\\.php$", fastcgi = php }, { match = "= /edge-status", status = true }
                     ] }]
                     fastcgi.backends.php { addresses = ["%s"], max-connections = 1, queue.timeout = 1 s }
                     """.formatted(fpm.address()))) {
            CompletableFuture<HttpResponse<String>> holding = HTTP.sendAsync(
                    HttpRequest.newBuilder(edge.uri("/gate.php?holds")).build(), HttpResponse.BodyHandlers.ofString());
            EdgeProcess.awaitExists(dir.resolve("started"));
            assertThat(get(edge, "/gate.php?times-out").statusCode()).isEqualTo(503);
            try (RawHttpClient leaving = new RawHttpClient(edge.address())) {
                leaving.send("GET /gate.php?leaves HTTP/1.1\r\nHost: a\r\n\r\n");
                await(() -> edge.status().contains(" waiters=1 "), "the request queued");
            }
            await(() -> access.lines().stream().anyMatch(line -> line.contains("leaves")), "the 499 logged");
            // A POST whose client leaves stays queued, and its script runs without it; its 499 carries its wait too
            try (RawHttpClient posting = new RawHttpClient(edge.address())) {
                posting.send("POST /gate.php?posts HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello");
                await(() -> edge.status().contains(" waiters=1 "), "the POST queued");
            }
            await(() -> access.lines().stream().anyMatch(line -> line.contains("posts")), "its 499 logged");
            Files.writeString(dir.resolve("release"), "");
            assertThat(holding.get().statusCode()).isEqualTo(200);
        } finally {
            Files.writeString(dir.resolve("release"), "");
            access.close();
        }
        Pattern queued = Pattern.compile(".*\"(?:GET|POST) /gate\\.php\\?(\\S+) HTTP/1\\.1\" (\\d{3}) .* (\\d+\\.\\d{3}) - -");
        List<String> waited = access.lines().stream().map(queued::matcher).filter(Matcher::matches)
                .map(m -> m.group(1) + " " + m.group(2) + (Double.parseDouble(m.group(3)) >= 1.0 ? " (its timeout)" : ""))
                .toList();
        assertThat(waited).as("a wait, then '- -'").containsExactlyInAnyOrder("times-out 503 (its timeout)", "leaves 499",
                "posts 499");
    }

    /**
     * A script's 204 or 304 with a body (PHP sends what a script echoes whatever its status): the client gets no
     * body, the answer after it is whole, and the access log counts no body bytes (nginx's $body_bytes_sent is 0),
     * also for a 204 the response cache stored and answers (it keeps no body for it either).
     */
    @Test
    void theBodyOfAStatusThatHasNoneIsNeitherSentNorCounted() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.writeString(www.resolve("bodiless.php"), """
                <?php
                header('Cache-Control: public, max-age=60');
                http_response_code((int)$_GET['status']);
                echo str_repeat('x', 1000);
                """);
        CapturedLog access = CapturedLog.of("edge.access");
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 1\n");
             EdgeHarness edge = EdgeHarness.start(dir, """
                     server.access-log = "-"
                     sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                       { match = "~ \\\\.php$", fastcgi = php, cache = true }
                     ] }]
                     fastcgi.backends.php { addresses = ["%s"], max-connections = 1 }
                     """.formatted(fpm.address()))) {
            for (int status : new int[] {204, 204, 304, 200}) {
                HttpResponse<String> response = get(edge, "/bodiless.php?status=" + status);
                assertThat(response.statusCode()).isEqualTo(status);
                assertThat(response.body()).hasSize(status == 200 ? 1000 : 0);
            }
            assertThat(get(edge, "/bodiless.php?status=204").headers().firstValue("age"))
                    .as("the 204 answered by the response cache").isPresent();
        } finally {
            access.close();
        }
        Pattern line = Pattern.compile(".*\"GET /bodiless\\.php\\?status=(\\d+) HTTP/1\\.1\" (\\d{3}) (\\d+) .*");
        List<String> counted = access.lines().stream().map(line::matcher).filter(Matcher::matches)
                .map(m -> m.group(1) + " " + m.group(2) + " " + m.group(3)).toList();
        // (a request on a new connection may log before the one before it: any order)
        assertThat(counted).containsExactlyInAnyOrder("204 204 0", "204 204 0", "304 304 0", "200 200 1000", "204 204 0");
    }

    /**
     * nginx's access_log off in a location: a tree of thumbnails or a health check keeps out of the log, decided by the
     * location that answers (after an internal redirect, the one it landed in).
     */
    @Test
    void aLocationWithAccessLogOffKeepsItsRequestsOutOfTheLog() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.createDirectories(www.resolve("thumbs"));
        Files.writeString(www.resolve("thumbs/a.jpg"), "jpeg");
        Files.writeString(www.resolve("page.html"), "page");
        CapturedLog access = CapturedLog.of("edge.access");
        try (EdgeHarness edge = EdgeHarness.start(dir, """
                server.access-log = "-"
                sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                  { match = "/" }
                  { match = "^~ /thumbs/", access-log = false }
                  { match = "= /healthz", return = "200 ok", access-log = false }
                  { match = "= /old-thumb", rewrite = "/thumbs/a.jpg" }
                ] }]
                """)) {
            assertThat(get(edge, "/thumbs/a.jpg").body()).isEqualTo("jpeg");
            assertThat(get(edge, "/thumbs/missing.jpg").statusCode()).isEqualTo(404);
            assertThat(get(edge, "/healthz").body()).isEqualTo("ok");
            assertThat(get(edge, "/old-thumb").body()).isEqualTo("jpeg");
            assertThat(get(edge, "/page.html").body()).isEqualTo("page");
            await(() -> access.lines().stream().anyMatch(line -> line.contains("GET /page.html ")), "the page's line");
            assertThat(access.lines()).as("one connection, its lines in order: only the page's")
                    .filteredOn(line -> line.contains("\"GET ")).singleElement().asString().contains("GET /page.html ");
        } finally {
            access.close();
        }
    }

    private static HttpResponse<String> get(EdgeHarness edge, String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(edge.uri(path)).build(), HttpResponse.BodyHandlers.ofString());
    }
}
