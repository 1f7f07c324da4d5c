package io.edge.it;

import static io.edge.it.Awaits.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.edge.core.http.BackendChoice;
import io.edge.core.http.CapturedLog;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code fastcgi = "$php_pool"} and {@code proxy = "$pool"} (nginx's {@code fastcgi_pass $php_pool} and {@code
 * proxy_pass http://$pool}), the group chosen by the client's X-Tenant header through a map: two real php-fpm pools,
 * two small HTTP backends. A value that names no group is answered as nginx 1.22 answers it (measured: an empty one
 * 500, another 502 for a proxy and 500 for FastCGI), with a line in the error log and no backend in the access log's.
 */
class BackendChoiceIT {

    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @TempDir
    Path dir;

    @Test
    void aMapChoosesThePhpFpmPoolForEachRequest() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.writeString(www.resolve("pool.php"), "<?php echo getenv('POOL');\n");
        CapturedLog access = CapturedLog.of("edge.access");
        try (PhpFpm alpha = PhpFpm.unix(Files.createDirectories(dir.resolve("alpha")),
                "pm = static\npm.max_children = 1\nenv[POOL] = alpha\n");
             PhpFpm beta = PhpFpm.unix(Files.createDirectories(dir.resolve("beta")),
                     "pm = static\npm.max_children = 1\nenv[POOL] = beta\n");
             CapturedLog errors = CapturedLog.of(BackendChoice.class);
             EdgeHarness edge = EdgeHarness.start(dir, """
                     server {
                       access-log = "-", access-log-format = "$http_x_tenant|$status|$upstream_addr"
                       maps.php_pool { source = "$http_x_tenant", default = php, values = [
                         { match = beta, value = php_beta }, { match = empty, value = "" }, { match = nowhere, value = nosuch }
                         { match = upper, value = PHP_BETA }
                       ] }
                     }
                     sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                       { match = "~ \\\\.php$", fastcgi = "$php_pool" }
                     ] }]
                     fastcgi.backends.php { addresses = ["%s"], max-connections = 1 }
                     fastcgi.backends.php_beta { addresses = ["%s"], max-connections = 1 }
                     """.formatted(alpha.address(), beta.address()))) {
            assertAnswer(edge, access, "/pool.php", "", 200, "alpha", alpha.address());
            assertAnswer(edge, access, "/pool.php", "beta", 200, "beta", beta.address());
            // nginx: 500, "no port in upstream "nosuch"" and "no host in upstream """
            assertAnswer(edge, access, "/pool.php", "nowhere", 500, null, "-");
            assertThat(errors.lines()).singleElement().asString().isEqualTo("GET /pool.php -> 500: fastcgi ="
                    + " \"$php_pool\" came out \"nosuch\", which names no group of edge.fastcgi.backends");
            assertAnswer(edge, access, "/pool.php", "empty", 500, null, "-");
            // nginx finds an upstream by its name ignoring case (measured: fastcgi_pass $php_pool with "PHP" was 200)
            assertAnswer(edge, access, "/pool.php", "upper", 200, "beta", beta.address());
            assertAnswer(edge, access, "/pool.php", "beta", 200, "beta", beta.address());
        } finally {
            access.close();
        }
    }

    /**
     * The group chosen is the request's whole way: its $proxy_host (the Host the backend sees by default), its
     * addresses tried in turn (nginx's proxy_next_upstream), its queue and its 503 + Retry-After while its one
     * connection is busy, when the other group still answers.
     */
    @Test
    void aMapChoosesTheProxyGroupWithItsQueueAndAddresses() throws Exception {
        Files.createDirectories(dir.resolve("www"));
        CountDownLatch held = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        String closed = "127.0.0.1:" + FakeHttpBackend.closedPort();
        CapturedLog access = CapturedLog.of("edge.access");
        try (JdkBackend alpha = JdkBackend.start(exchange -> answer(exchange, "alpha"
                + (exchange.getRequestURI().getPath().equals("/users") ? " users?" + exchange.getRequestURI().getQuery()
                : "")));
             JdkBackend beta = JdkBackend.start(exchange -> {
                 if (exchange.getRequestURI().getPath().equals("/hold")) {
                     held.countDown();
                     try {
                         release.await();
                     } catch (InterruptedException e) {
                         Thread.currentThread().interrupt();
                     }
                 }
                 answer(exchange, "beta");
             });
             CapturedLog errors = CapturedLog.of(BackendChoice.class);
             EdgeHarness edge = EdgeHarness.start(dir, """
                     server {
                       access-log = "-", access-log-format = "$http_x_tenant|$status|$upstream_addr"
                       maps.pool { source = "$http_x_tenant", default = app, values = [
                         { match = beta, value = app_beta }, { match = retry, value = app_retry }
                         { match = empty, value = "" }, { match = nowhere, value = nosuch }
                         { match = upper, value = APP_BETA }, { match = ip, value = "%s" }
                       ] }
                     }
                     sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                       { match = "/", proxy = "$pool" }
                       { match = "/api/", proxy = "$pool", proxy-uri = "/" }
                     ] }]
                     proxy.backends.app { addresses = ["%s"] }
                     proxy.backends.app_beta {
                       addresses = ["%s"], max-connections = 1
                       queue { max-waiters = 1, timeout = 100 ms, retry-after = 7 s }
                     }
                     proxy.backends.app_retry { addresses = ["%s", "%s"] }
                     """.formatted(alpha.address(), alpha.address(), beta.address(), closed, alpha.address()))) {
            assertAnswer(edge, access, "/x", "", 200, "alpha " + alpha.address(), alpha.address());
            assertAnswer(edge, access, "/x", "beta", 200, "beta " + beta.address(), beta.address());
            // the first address refuses: the group's next, each try in $upstream_addr; Host its first address's
            assertAnswer(edge, access, "/x", "retry", 200, "alpha " + closed, closed + ", " + alpha.address());
            // the location's prefix replaced, as with a group written (nginx's proxy_pass http://$pool/ sends "/" alone)
            assertAnswer(edge, access, "/api/users?id=1", "", 200, "alpha users?id=1 " + alpha.address(),
                    alpha.address());
            // nginx: 500 ("invalid URL prefix in "http://"") and 502 ("no resolver defined to resolve nosuch")
            assertAnswer(edge, access, "/x", "empty", 500, null, "-");
            assertThat(errors.lines()).singleElement().asString().isEqualTo("GET /x -> 500: proxy = \"$pool\" came"
                    + " out empty, which names no group of edge.proxy.backends");
            assertAnswer(edge, access, "/x", "nowhere", 502, null, "-");
            // an address names no group either (nginx connects to it): a client's header never chooses where edge goes
            assertAnswer(edge, access, "/x", "ip", 502, null, "-");
            // as nginx's proxy_pass http://$pool with "APP_BETA" (measured: 200 from upstream app_beta)
            assertAnswer(edge, access, "/x", "upper", 200, "beta " + beta.address(), beta.address());

            CompletableFuture<HttpResponse<String>> holding = HTTP.sendAsync(request(edge, "/hold", "beta"),
                    HttpResponse.BodyHandlers.ofString());
            held.await();
            int beforeBusy = access.lines().size();
            HttpResponse<String> busy = HTTP.send(request(edge, "/x", "beta"), HttpResponse.BodyHandlers.ofString());
            assertThat(busy.statusCode()).as("app_beta's one connection is taken: its queue's answer").isEqualTo(503);
            assertThat(busy.headers().firstValue("retry-after")).as("app_beta's retry-after").hasValue("7");
            // its line may follow its answer: waited for, so that the next request's line is the next one
            await(() -> access.lines().size() > beforeBusy, "the busy answer's access log line");
            assertThat(access.lines().get(beforeBusy)).isEqualTo("beta|503|-");
            assertAnswer(edge, access, "/x", "", 200, "alpha " + alpha.address(), alpha.address());
            release.countDown();
            assertThat(holding.get().statusCode()).isEqualTo(200);
            assertThat(holding.get().body()).isEqualTo("beta " + beta.address());
        } finally {
            release.countDown();
            access.close();
        }
    }

    /**
     * $proxy_host where a variable names the group: the chosen group's first address, and empty where none is chosen
     * yet (a set's value, in the location's rewrite phase) or the value names none (an always-header of the 502).
     */
    @Test
    void proxyHostIsTheChosenGroupsOrEmpty() throws Exception {
        Files.createDirectories(dir.resolve("www"));
        CapturedLog access = CapturedLog.of("edge.access");
        try (JdkBackend alpha = JdkBackend.start(exchange -> answer(exchange, "alpha"));
             EdgeHarness edge = EdgeHarness.start(dir, """
                     server {
                       access-log = "-", access-log-format = "$http_x_tenant|$status|$early|$sent_http_x_proxy_host"
                       maps.pool { source = "$http_x_tenant", default = app, values = [{ match = nowhere, value = nosuch }] }
                     }
                     sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                       { match = "/", proxy = "$pool", rewrites = [{ set = "$early <$proxy_host>" }]
                         always-headers { X-Proxy-Host = "$proxy_host" } }
                     ] }]
                     proxy.backends.app { addresses = ["%s"] }
                     """.formatted(alpha.address()))) {
            assertAnswer(edge, access, "/x", "", 200, "alpha " + alpha.address(), "<>|" + alpha.address());
            assertAnswer(edge, access, "/x", "nowhere", 502, null, "<>|-");
        } finally {
            access.close();
        }
    }

    /**
     * {@code cache = true} beside {@code proxy = "$pool"}, as nginx's proxy_cache beside proxy_pass http://$pool (measured:
     * its key $scheme$proxy_host$request_uri is "httpapp/x" and "httpapp_beta/x", each group's answer a HIT of its own):
     * each group's answers are kept apart, a PURGE and a POST's invalidation reach every group's entry of the URL, and
     * misses coalesce within a group only, so that one group's slow answer holds no other's request.
     */
    @Test
    void theCacheKeepsEachProxyGroupsAnswersApart() throws Exception {
        Files.createDirectories(dir.resolve("www"));
        CountDownLatch release = new CountDownLatch(1);
        Map<String, AtomicInteger> asked = new ConcurrentHashMap<>();
        try (JdkBackend alpha = JdkBackend.start(exchange -> counted(exchange, "alpha", asked, release));
             JdkBackend beta = JdkBackend.start(exchange -> counted(exchange, "beta", asked, release));
             EdgeHarness edge = EdgeHarness.start(dir, """
                     server {
                       maps.pool { source = "$http_x_tenant", default = app, values = [
                         { match = beta, value = app_beta }, { match = upper, value = APP_BETA }
                       ] }
                     }
                     sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                       { match = "/", proxy = "$pool", cache = true, headers { X-Cache = "$upstream_cache_status" } }
                       { match = "= /edge-status", status = true }
                     ] }]
                     proxy.backends.app { addresses = ["%s"] }
                     proxy.backends.app_beta { addresses = ["%s"] }
                     cache.responses { coalesce-timeout = 120 s }
                     """.formatted(alpha.address(), beta.address()))) {
            String alphaHost = " " + alpha.address();
            String betaHost = " " + beta.address();
            assertCached(edge, "/p", "", "MISS", "alpha 1" + alphaHost);
            assertCached(edge, "/p", "beta", "MISS", "beta 1" + betaHost);
            assertCached(edge, "/p", "", "HIT", "alpha 1" + alphaHost);
            assertCached(edge, "/p", "beta", "HIT", "beta 1" + betaHost);
            // a value naming app_beta in other case is app_beta: its entry (nginx's key holds the value as it came)
            assertCached(edge, "/p", "upper", "HIT", "beta 1" + betaHost);

            HttpResponse<String> purged = HTTP.send(HttpRequest.newBuilder(edge.uri("/p"))
                    .method("PURGE", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(purged.statusCode()).isEqualTo(200);
            assertThat(purged.body()).as("each group's entry of the URL").isEqualTo("purged 2\n");
            assertCached(edge, "/p", "", "MISS", "alpha 2" + alphaHost);
            assertCached(edge, "/p", "beta", "MISS", "beta 2" + betaHost);

            // a POST through one group changes the URL's resource: no group's copy of it answers after
            assertThat(HTTP.send(HttpRequest.newBuilder(edge.uri("/p")).header("X-Tenant", "beta")
                    .POST(HttpRequest.BodyPublishers.ofString("x")).build(), HttpResponse.BodyHandlers.ofString())
                    .body()).isEqualTo("beta 3" + betaHost);
            assertCached(edge, "/p", "", "MISS", "alpha 3" + alphaHost);
            assertCached(edge, "/p", "beta", "MISS", "beta 4" + betaHost);

            // two misses of app's /hold coalesce; app_beta's of the same URL goes on to its own group meanwhile
            long coalesced = metric(edge, "edge_response_cache_coalesced_total");
            List<CompletableFuture<HttpResponse<String>>> held = new ArrayList<>();
            held.add(HTTP.sendAsync(request(edge, "/hold", ""), HttpResponse.BodyHandlers.ofString()));
            await(() -> asked.containsKey("alpha /hold"), "app's /hold at its backend");
            held.add(HTTP.sendAsync(request(edge, "/hold", ""), HttpResponse.BodyHandlers.ofString()));
            Awaits.until(() -> metric(edge, "edge_response_cache_coalesced_total") - coalesced, n -> n == 1,
                    "the second waiting for the first");
            CompletableFuture<HttpResponse<String>> other = HTTP.sendAsync(request(edge, "/hold", "beta"),
                    HttpResponse.BodyHandlers.ofString());
            Awaits.until(() -> other.isDone() || metric(edge, "edge_response_cache_coalesced_total") - coalesced > 1,
                    done -> done, "app_beta's /hold answered, or waiting");
            assertThat(metric(edge, "edge_response_cache_coalesced_total") - coalesced)
                    .as("app_beta's miss waits for no flight of app's").isEqualTo(1);
            assertThat(other.get().body()).isEqualTo("beta 1" + betaHost);
            release.countDown();
            for (CompletableFuture<HttpResponse<String>> answer : held) {
                assertThat(answer.get().body()).isEqualTo("alpha 1" + alphaHost);
            }
            assertThat(asked.get("alpha /hold").get()).isEqualTo(1);
        } finally {
            release.countDown();
        }
    }

    /**
     * A group a reload takes away and a later one brings back: a PURGE of the URL meanwhile reaches the entry it left
     * (the response cache, and that entry, outlive the reload), so the group's first request after it is a MISS, not
     * the answer the PURGE said was gone.
     */
    @Test
    void aPurgeReachesTheEntriesOfAGroupAReloadTookAway() throws Exception {
        Files.createDirectories(dir.resolve("www"));
        CountDownLatch release = new CountDownLatch(0);
        Map<String, AtomicInteger> asked = new ConcurrentHashMap<>();
        String site = """
                server.maps.pool { source = "$http_x_tenant", default = app, values = [{ match = beta, value = app_beta }] }
                sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                  { match = "/", proxy = "$pool", cache = true, headers { X-Cache = "$upstream_cache_status" } }
                ] }]
                proxy.backends.app { addresses = ["%s"] }
                """;
        try (JdkBackend alpha = JdkBackend.start(exchange -> counted(exchange, "alpha", asked, release));
             JdkBackend beta = JdkBackend.start(exchange -> counted(exchange, "beta", asked, release))) {
            String both = site.formatted(alpha.address()) + "proxy.backends.app_beta { addresses = [\"%s\"] }\n"
                    .formatted(beta.address());
            try (EdgeHarness edge = EdgeHarness.start(dir, both)) {
                String betaHost = " " + beta.address();
                assertCached(edge, "/p", "beta", "MISS", "beta 1" + betaHost);
                assertCached(edge, "/p", "", "MISS", "alpha 1 " + alpha.address());

                edge.reload(site.formatted(alpha.address()));
                HttpResponse<String> purged = HTTP.send(HttpRequest.newBuilder(edge.uri("/p"))
                        .method("PURGE", HttpRequest.BodyPublishers.noBody()).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(purged.body()).as("app's entry and the one app_beta left").isEqualTo("purged 2\n");

                edge.reload(both);
                assertCached(edge, "/p", "beta", "MISS", "beta 2" + betaHost);

                // a prefix reaches each group's entries in one walk of the cache
                assertCached(edge, "/p", "", "MISS", "alpha 2 " + alpha.address());
                HttpResponse<String> prefix = HTTP.send(HttpRequest.newBuilder(edge.uri("/p*"))
                        .method("PURGE", HttpRequest.BodyPublishers.noBody()).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(prefix.body()).isEqualTo("purged 2\n");
                assertCached(edge, "/p", "beta", "MISS", "beta 3" + betaHost);
            }
        }
    }

    /**
     * A group whose backend fails answers with its own stale copy (stale-if-error, the grace), never another group's;
     * a value naming no group is its 502, no group's copy, and nothing stored for it.
     */
    @Test
    void eachGroupsStaleCopyAnswersForItsFailingBackend() throws Exception {
        Files.createDirectories(dir.resolve("www"));
        Map<String, AtomicInteger> asked = new ConcurrentHashMap<>();
        com.sun.net.httpserver.HttpHandler[] handlers = new com.sun.net.httpserver.HttpHandler[2];
        for (int i = 0; i < 2; i++) {
            String name = i == 0 ? "alpha" : "beta";
            handlers[i] = exchange -> {
                int n = asked.computeIfAbsent(name, k -> new AtomicInteger()).incrementAndGet();
                exchange.getRequestBody().readAllBytes();
                exchange.getResponseHeaders().add("Cache-Control", "max-age=0, stale-if-error=600");
                exchange.getResponseHeaders().add("ETag", "\"" + name + n + "\"");
                answer(exchange, name + " " + n);
            };
        }
        JdkBackend alpha = JdkBackend.start(handlers[0]);
        JdkBackend beta = JdkBackend.start(handlers[1]);
        try (EdgeHarness edge = EdgeHarness.start(dir, """
                     server.maps.pool { source = "$http_x_tenant", default = app, values = [
                       { match = beta, value = app_beta }, { match = none, value = nosuch } ] }
                     sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                       { match = "/", proxy = "$pool", cache = true, headers { X-Cache = "$upstream_cache_status" } }
                     ] }]
                     proxy.backends.app { addresses = ["%s"] }
                     proxy.backends.app_beta { addresses = ["%s"] }
                     """.formatted(alpha.address(), beta.address()))) {
            String alphaHost = " " + alpha.address();
            String betaHost = " " + beta.address();
            assertCached(edge, "/s", "", "MISS", "alpha 1" + alphaHost);
            assertCached(edge, "/s", "beta", "MISS", "beta 1" + betaHost);
            alpha.close();
            assertCached(edge, "/s", "", "STALE", "alpha 1" + alphaHost);
            assertCached(edge, "/s", "beta", "EXPIRED", "beta 2" + betaHost);
            beta.close();
            assertCached(edge, "/s", "beta", "STALE", "beta 2" + betaHost);
            HttpResponse<String> none = HTTP.send(request(edge, "/s", "none"), HttpResponse.BodyHandlers.ofString());
            assertThat(none.statusCode()).isEqualTo(502);
        } finally {
            alpha.close();
            beta.close();
        }
    }

    /**
     * A value naming no group in a cached location is logged as the cache looked it up: nginx 1.22 looks its cache up
     * before it finds no upstream of that name (measured, proxy_pass http://$pool and fastcgi_pass $pool with a map and
     * a cache: MISS beside the 502 and the 500, BYPASS where proxy_cache_bypass holds; "-" for a POST, which is not
     * looked up, and for an empty value, which fails before the lookup). Before, $upstream_cache_status was "-" for each.
     */
    @Test
    void aValueNamingNoGroupInACachedLocationIsLoggedAsTheCacheLookedItUp() throws Exception {
        Files.createDirectories(dir.resolve("www"));
        String closed = "127.0.0.1:" + FakeHttpBackend.closedPort();
        CapturedLog access = CapturedLog.of("edge.access");
        try (EdgeHarness edge = EdgeHarness.start(dir, """
                     server {
                       access-log = "-", access-log-format = "$request_method|$http_x_tenant|$status|$upstream_cache_status"
                       maps.pool { source = "$http_x_tenant", default = app, values = [
                         { match = empty, value = "" }, { match = nowhere, value = nosuch } ] }
                     }
                     cache.responses.bypass = ["$http_x_bypass"]
                     sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                       { match = "/", proxy = "$pool", cache = true }
                       { match = "~ \\\\.php$", fastcgi = "$pool", cache = true }
                     ] }]
                     proxy.backends.app { addresses = ["%s"] }
                     fastcgi.backends.app { addresses = ["%s"] }
                     """.formatted(closed, closed))) {
            assertLogged(edge, access, HttpRequest.newBuilder(edge.uri("/x")).header("X-Tenant", "nowhere"),
                    "GET|nowhere|502|MISS");
            assertLogged(edge, access, HttpRequest.newBuilder(edge.uri("/x")).header("X-Tenant", "nowhere")
                    .method("HEAD", HttpRequest.BodyPublishers.noBody()), "HEAD|nowhere|502|MISS");
            assertLogged(edge, access, HttpRequest.newBuilder(edge.uri("/x")).header("X-Tenant", "nowhere")
                    .header("X-Bypass", "1"), "GET|nowhere|502|BYPASS");
            assertLogged(edge, access, HttpRequest.newBuilder(edge.uri("/x")).header("X-Tenant", "nowhere")
                    .POST(HttpRequest.BodyPublishers.ofString("a=b")), "POST|nowhere|502|-");
            assertLogged(edge, access, HttpRequest.newBuilder(edge.uri("/x")).header("X-Tenant", "empty"),
                    "GET|empty|500|-");
            assertLogged(edge, access, HttpRequest.newBuilder(edge.uri("/a.php")).header("X-Tenant", "nowhere"),
                    "GET|nowhere|500|MISS");
            assertLogged(edge, access, HttpRequest.newBuilder(edge.uri("/a.php")).header("X-Tenant", "empty"),
                    "GET|empty|500|-");
        }
    }

    /** Sends {@code request} and checks the access log's line for it. */
    private static void assertLogged(EdgeHarness edge, CapturedLog access, HttpRequest.Builder request, String line)
            throws Exception {
        int before = access.lines().size();
        HTTP.send(request.build(), HttpResponse.BodyHandlers.discarding());
        await(() -> access.lines().size() > before, "the access log's line");
        assertThat(access.lines().get(before)).isEqualTo(line);
    }

    /**
     * {@code cache = true} beside {@code fastcgi = "$php_pool"} (nginx wants a fastcgi_cache_key there; edge's key is
     * the one of every cached location, with the group chosen): each pool's answer to one URL is its own entry.
     */
    @Test
    void theCacheKeepsEachPhpPoolsAnswersApart() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.writeString(www.resolve("pool.php"),
                "<?php header('Cache-Control: max-age=60'); echo getenv('POOL'), ' ', uniqid();\n");
        try (PhpFpm alpha = PhpFpm.unix(Files.createDirectories(dir.resolve("alpha")),
                "pm = static\npm.max_children = 1\nenv[POOL] = alpha\n");
             PhpFpm beta = PhpFpm.unix(Files.createDirectories(dir.resolve("beta")),
                     "pm = static\npm.max_children = 1\nenv[POOL] = beta\n");
             EdgeHarness edge = EdgeHarness.start(dir, """
                     server.maps.php_pool { source = "$http_x_tenant", default = php, values = [
                       { match = beta, value = php_beta }
                     ] }
                     sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                       { match = "~ \\\\.php$", fastcgi = "$php_pool", cache = true
                         headers { X-Cache = "$upstream_cache_status" } }
                     ] }]
                     fastcgi.backends.php { addresses = ["%s"], max-connections = 1 }
                     fastcgi.backends.php_beta { addresses = ["%s"], max-connections = 1 }
                     """.formatted(alpha.address(), beta.address()))) {
            String alphaAnswer = assertCached(edge, "/pool.php", "", "MISS", null);
            String betaAnswer = assertCached(edge, "/pool.php", "beta", "MISS", null);
            assertThat(alphaAnswer).startsWith("alpha ");
            assertThat(betaAnswer).startsWith("beta ");
            assertCached(edge, "/pool.php", "", "HIT", alphaAnswer);
            assertCached(edge, "/pool.php", "beta", "HIT", betaAnswer);
            HttpResponse<String> purged = HTTP.send(HttpRequest.newBuilder(edge.uri("/pool.php"))
                    .method("PURGE", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(purged.body()).isEqualTo("purged 2\n");
            assertThat(assertCached(edge, "/pool.php", "beta", "MISS", null)).startsWith("beta ")
                    .isNotEqualTo(betaAnswer);
        }
    }

    /**
     * Answers "{@code name} n Host", n counting {@code name}'s requests for the path in {@code asked}, cacheable for a
     * minute; alpha's /hold once {@code release} is counted down.
     */
    private static void counted(com.sun.net.httpserver.HttpExchange exchange, String name, Map<String, AtomicInteger> asked,
            CountDownLatch release) throws java.io.IOException {
        String path = exchange.getRequestURI().getPath();
        int n = asked.computeIfAbsent(name + " " + path, k -> new AtomicInteger()).incrementAndGet();
        if (path.equals("/hold") && name.equals("alpha")) {
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        exchange.getRequestBody().readAllBytes();
        exchange.getResponseHeaders().add("Cache-Control", "max-age=60");
        answer(exchange, name + " " + n);
    }

    /**
     * Sends a GET of {@code path} with X-Tenant {@code tenant} ("": none), checks its X-Cache and its body ({@code null}:
     * not checked); returns the body.
     */
    private static String assertCached(EdgeHarness edge, String path, String tenant, String status,
            String body) throws Exception {
        HttpResponse<String> response = HTTP.send(request(edge, path, tenant), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        assertThat(response.headers().firstValue("X-Cache")).as(tenant + " " + path).hasValue(status);
        if (body != null) {
            assertThat(response.body()).isEqualTo(body);
        }
        return response.body();
    }

    private static long metric(EdgeHarness edge, String name) throws Exception {
        String page = HTTP.send(HttpRequest.newBuilder(edge.uri("/edge-status?format=prometheus")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        return page.lines().filter(line -> line.startsWith(name + " "))
                .mapToLong(line -> (long) Double.parseDouble(line.substring(name.length() + 1).strip()))
                .findFirst().orElseThrow(() -> new AssertionError(name + " not on the status page:\n" + page));
    }

    /** Answers {@code name} and the Host it was sent. */
    private static void answer(com.sun.net.httpserver.HttpExchange exchange, String name) throws java.io.IOException {
        byte[] body = (name + " " + exchange.getRequestHeaders().getFirst("Host")).getBytes(StandardCharsets.UTF_8);
        exchange.sendResponseHeaders(200, body.length);
        exchange.getResponseBody().write(body);
        exchange.close();
    }

    private static HttpRequest request(EdgeHarness edge, String path, String tenant) {
        HttpRequest.Builder builder = HttpRequest.newBuilder(edge.uri(path));
        return (tenant.isEmpty() ? builder : builder.header("X-Tenant", tenant)).build();
    }

    /**
     * Sends a GET of {@code path} with X-Tenant {@code tenant} ("": none) and checks its status, its body ({@code null}: not checked)
     * and the access log's $upstream_addr.
     */
    private static void assertAnswer(EdgeHarness edge, CapturedLog access, String path, String tenant, int status,
            String body, String upstream) throws Exception {
        int before = access.lines().size();
        HttpResponse<String> response = HTTP.send(request(edge, path, tenant), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
        if (body != null) {
            assertThat(response.body()).isEqualTo(body);
        }
        await(() -> access.lines().size() > before, "the access log's line");
        assertThat(access.lines().get(before)).isEqualTo((tenant.isEmpty() ? "-" : tenant) + "|" + status + "|"
                + upstream);
    }
}
