package io.edge.it;

import static io.edge.it.CachedPhp.body;
import static io.edge.it.CachedPhp.eventually;
import static io.edge.it.CachedPhp.url;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The response cache when PHP cannot answer: php-fpm stopped, or its one connection slot busy with no
 * queue, or a script failing with 500. Stale copies answer where stale-if-error or the grace allows;
 * everything else gets 503 (or the script's own 500).
 */
class ResponseCacheOutageIT {

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
    void withPhpFpmStoppedStaleIfErrorContentIsServedAndUncachedUrlsGet503() throws Exception {
        // No grace: only the response's own stale-if-error may answer. A stopped php-fpm refuses connects,
        // which the pool treats as busy (a restart), so requests fail at the queue deadline.
        php = CachedPhp.start(dir, 2, "max-connections = 2, queue { max-waiters = 100, timeout = 1 s }",
                "stale-grace = 0");
        String tolerant = url("sie", "public, max-age=10, stale-if-error=600", "");
        String strict = url("strict", "public, max-age=10", "");
        assertThat(php.get(tolerant).body()).isEqualTo(body("sie", 1));
        assertThat(php.get(strict).body()).isEqualTo(body("strict", 1));

        php.stopPhp();
        php.advance(Duration.ofSeconds(30)); // both stale now

        HttpResponse<String> stale = php.get(tolerant);
        assertThat(stale.statusCode()).isEqualTo(200);
        assertThat(stale.body()).isEqualTo(body("sie", 1));
        assertThat(stale.headers().firstValue("age")).contains("30");
        assertThat(php.get(strict).statusCode()).isEqualTo(503);
        assertThat(php.get(url("never-cached", "public, max-age=10", "")).statusCode()).isEqualTo(503);
        assertThat(php.runs("sie")).isEqualTo(1);
    }

    /**
     * While php-fpm is stopped, a stale copy that may answer on error does so at once, as nginx's does on a connect
     * error: it waited out the queue timeout first (30 s by default), each request, for the whole outage (a probe). Told
     * by the queue: none of these requests timed out in it. Once php-fpm is back, they find it so themselves (no other
     * request needs to connect first). A URL with no copy still waits in the queue for a restart (503).
     */
    @Test
    void withPhpFpmStoppedAStaleCopyAnswersWithoutWaitingOutTheQueue() throws Exception {
        php = CachedPhp.start(dir, 2, "max-connections = 2, queue { max-waiters = 100, timeout = 2 s }", "");
        String page = url("outage", "public, max-age=10", "");
        assertThat(php.get(page).body()).isEqualTo(body("outage", 1));

        php.stopPhp();
        php.advance(Duration.ofSeconds(30)); // stale, within the default stale-grace
        for (int i = 0; i < 3; i++) {
            HttpResponse<String> stale = php.get(page);
            assertThat(stale.statusCode()).isEqualTo(200);
            assertThat(stale.body()).isEqualTo(body("outage", 1));
        }
        assertThat(queueTimeouts()).isZero();

        php.startPhp(); // back: the next requests, all with a copy, find it so (none waits for a restart to see it)
        eventually(() -> php.get(page).body(), body -> body.equals(body("outage", 2)));
        assertThat(php.runs("outage")).isEqualTo(2);

        php.stopPhp();
        assertThat(php.get(url("no-copy", "public, max-age=10", "")).statusCode()).isEqualTo(503);
        assertThat(queueTimeouts()).as("a request with no copy waits for a restart").isEqualTo(1);
    }

    private long queueTimeouts() throws Exception {
        return php.get("/edge-status?format=prometheus").body().lines()
                .filter(line -> line.startsWith("edge_fastcgi_queue_timeouts_total{"))
                .mapToLong(line -> (long) Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)))
                .sum();
    }

    @Test
    void aServerErrorIsReplacedByAStaleIfErrorCopyAndOtherwisePassedOn() throws Exception {
        php = CachedPhp.start(dir, 1, "max-connections = 1", "stale-grace = 0");
        String tolerant = url("sie500", "public, max-age=10, stale-if-error=600", "&failfrom=2");
        String strict = url("strict500", "public, max-age=10", "&failfrom=2");
        assertThat(php.get(tolerant).body()).isEqualTo(body("sie500", 1));
        assertThat(php.get(strict).body()).isEqualTo(body("strict500", 1));
        php.advance(Duration.ofSeconds(30));

        HttpResponse<String> stale = php.get(tolerant);
        assertThat(stale.statusCode()).isEqualTo(200);
        assertThat(stale.body()).isEqualTo(body("sie500", 1));
        HttpResponse<String> error = php.get(strict);
        assertThat(error.statusCode()).isEqualTo(500);
        assertThat(error.body()).isEqualTo(body("strict500", 2));
        assertThat(php.runs("sie500")).isEqualTo(2);
    }

    @Test
    void withTheQueueSaturatedCachedKeysAreAnsweredFromStale() throws Exception {
        // One slot, no waiting room: while a held script has the slot, every other request finds the queue full.
        php = CachedPhp.start(dir, 2, "max-connections = 1, queue { max-waiters = 0, timeout = 20 s }",
                "stale-grace = 1 h");
        String cached = url("sat", "public, max-age=10", "");
        assertThat(php.get(cached).body()).isEqualTo(body("sat", 1));
        php.advance(Duration.ofSeconds(30)); // stale, inside the grace
        // The answer is out before its worker is free (its slot is held until the worker reads again): with no
        // waiting room, a holder sent meanwhile found the queue full (503) and never ran.
        eventually(() -> php.metric("edge_fastcgi_connections_open{group=\"php\"}")
                - php.metric("edge_fastcgi_connections_idle{group=\"php\"}"), busy -> busy == 0);

        CompletableFuture<HttpResponse<String>> holder = php.getAsync(url("holder", null, "&hold=release-holder"));
        eventually(() -> php.runs("holder"), runs -> runs == 1);

        HttpResponse<String> stale = php.get(cached);
        assertThat(stale.statusCode()).isEqualTo(200);
        assertThat(stale.body()).isEqualTo(body("sat", 1));
        HttpResponse<String> uncached = php.get(url("uncached", "public, max-age=10", ""));
        assertThat(uncached.statusCode()).isEqualTo(503);
        assertThat(uncached.headers().firstValue("retry-after")).isPresent();

        php.release("release-holder");
        assertThat(holder.get().statusCode()).isEqualTo(200);
        assertThat(php.runs("sat")).isEqualTo(1);
        assertThat(php.runs("uncached")).isZero();
    }

    /**
     * Requests coalesced behind a leader that waits out the backend's queue have waited for the queue as long (they
     * joined as it queued): each gets its 503 with Retry-After when the leader does, having no queue wait left, and the
     * script never runs. (A follower that joined later queues for what is left of its own: BackendPoolTest.)
     */
    @Test
    void requestsCoalescedBehindALeaderTheQueueTurnsAwayAreAnsweredWithIt() throws Exception {
        php = CachedPhp.start(dir, 2, "max-connections = 1, queue { max-waiters = 100, timeout = 3 s }",
                "stale-grace = 0");
        CompletableFuture<HttpResponse<String>> holder = php.getAsync(url("holder", null, "&hold=release-holder"));
        eventually(() -> php.runs("holder"), runs -> runs == 1);
        String busy = url("busy", "public, max-age=10", "");
        long coalesced = php.metric("edge_response_cache_coalesced_total");
        List<CompletableFuture<HttpResponse<String>>> misses = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            misses.add(php.getAsync(busy));
        }
        eventually(() -> php.metric("edge_response_cache_coalesced_total") - coalesced, n -> n == 3);
        for (CompletableFuture<HttpResponse<String>> miss : misses) {
            assertThat(miss.get().statusCode()).isEqualTo(503);
            assertThat(miss.get().headers().firstValue("retry-after")).isPresent();
        }
        assertThat(holder).as("the worker is still held: every answer came while no slot was free").isNotDone();
        php.release("release-holder");
        assertThat(holder.get().statusCode()).isEqualTo(200);
        assertThat(php.runs("busy")).isZero();
    }

    @Test
    void purgeFromAnAddressNotAllowedIsForbidden() throws Exception {
        php = CachedPhp.start(dir, 1, "max-connections = 1", "purge-allow = [\"10.99.99.99\"]");
        String url = url("forbidden", "public, max-age=60", "");
        assertThat(php.get(url).body()).isEqualTo(body("forbidden", 1));
        assertThat(php.send("PURGE", url).statusCode()).isEqualTo(403);
        assertThat(php.send("PURGE", "/cache.php?id=forbid*").statusCode()).isEqualTo(403);
        assertThat(php.get(url).body()).isEqualTo(body("forbidden", 1));
        assertThat(php.runs("forbidden")).isEqualTo(1);
    }
}
