package io.edge.core.cache;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.cache.ResponseCacheSettings;
import io.edge.cache.http.ResponseCache;
import io.edge.conf.ConfigLoader;
import io.edge.conf.LocationSettings;
import io.edge.conf.Return;
import io.edge.conf.SiteSettings;
import io.edge.conf.VariableMap;
import io.edge.conf.VariableText;
import io.edge.core.http.BackendGate;
import io.edge.core.http.CacheStatus;
import io.edge.core.http.Exchange;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.Timeout;
import io.netty.util.Timer;
import io.netty.util.TimerTask;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The gate between clients and a script, with a fake backend that records each call (its request and tap) and
 * answers only when a test feeds the tap, and fake exchanges on one {@link EmbeddedChannel}'s loop: followers
 * resume there when the test runs its pending tasks. Time is a fake ticker and a timer the test fires.
 */
class ResponseCacheGateTest {

    static final Duration HIT_FOR_MISS = Duration.ofSeconds(120);

    final EmbeddedChannel client = new EmbeddedChannel();
    final AtomicLong nanos = new AtomicLong(1);
    final ManualTimer timer = new ManualTimer();
    final List<Call> calls = new ArrayList<>();
    final BackendGate.Backend backend = (exchange, backendRequest, tap) ->
            calls.add(new Call(exchange, backendRequest, tap));
    ResponseCache cache = cache(64 * 1024);
    ResponseCacheGate gate = new ResponseCacheGate(cache, "", false);

    ResponseCache cache(long maxObjectSize) {
        return new ResponseCache(new ResponseCacheSettings(1 << 20, maxObjectSize, false, Duration.ofSeconds(10),
                HIT_FOR_MISS, Duration.ZERO, List.of(), false), timer, nanos::get);
    }

    @AfterEach
    void close() {
        cache.close();
        client.finishAndReleaseAll();
    }

    record Call(Exchange exchange, HttpRequest backendRequest, BackendGate.ResponseTap tap) {
        /** Feeds the tap a whole answer: head, one body chunk (released here), end. */
        void answer(HttpResponse head, String body) {
            boolean passed = tap.onHead(head);
            assertThat(passed).isTrue();
            ByteBuf chunk = Unpooled.copiedBuffer(body, StandardCharsets.UTF_8);
            try {
                tap.onBody(chunk);
            } finally {
                chunk.release();
            }
            tap.onEnd();
        }
    }

    FakeExchange enter(HttpMethod method, String uri, String... headers) {
        HttpRequest request = new DefaultHttpRequest(HttpVersion.HTTP_1_1, method, uri);
        for (int i = 0; i < headers.length; i += 2) {
            request.headers().add(headers[i], headers[i + 1]);
        }
        FakeExchange exchange = new FakeExchange(client, request);
        gate.enter(exchange, backend);
        return exchange;
    }

    static HttpResponse head(String... headers) {
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        for (int i = 0; i < headers.length; i += 2) {
            head.headers().add(headers[i], headers[i + 1]);
        }
        return head;
    }

    @Test
    void followersOfAnAnswerThatCannotBeStoredGoToTheBackendAtItsHeadNotAtItsEnd() {
        for (int i = 0; i < 3; i++) {
            enter(HttpMethod.GET, "/slow.php");
        }
        assertThat(calls).as("concurrent misses of a URL not known yet: one leads").hasSize(1);
        // The script says nothing of caching: its head is all it takes to know the followers cannot share it.
        assertThat(calls.get(0).tap().onHead(head("Content-Type", "text/plain"))).isTrue();
        client.runPendingTasks();
        assertThat(calls).as("both followers at the backend while the first answer still streams").hasSize(3);
        assertThat(calls).allSatisfy(call -> assertThat(call.backendRequest().method()).isEqualTo(HttpMethod.GET));
        calls.get(0).tap().onEnd();
        calls.get(1).answer(head(), "b");
        calls.get(2).answer(head(), "c");
        assertThat(cache.stats().entries()).isZero();
    }

    /**
     * nginx's cache lock: when its holder's answer is not cached, one waiter takes the lock and the others wait on. Without
     * hit-for-miss nothing tells the followers the next answer will not be stored either: they take turns, one script
     * run at a time, each answered by its own run, as nginx's waiters are (it used to send them all at once).
     */
    @Test
    void withoutHitForMissTheFollowersOfAnAnswerNotStoredTakeTurnsAsNginxsCacheLock() {
        cache.close();
        cache = new ResponseCache(new ResponseCacheSettings(1 << 20, 64 * 1024, false, Duration.ofSeconds(10),
                Duration.ZERO, Duration.ZERO, List.of(), false), timer, nanos::get);
        gate = new ResponseCacheGate(cache, "", false);
        List<FakeExchange> clients = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            clients.add(enter(HttpMethod.GET, "/session.php"));
        }
        HttpResponse cookie = head("Cache-Control", "max-age=60", "Set-Cookie", "s=1");
        assertThat(calls.get(0).tap().onHead(cookie)).isTrue();
        client.runPendingTasks();
        assertThat(calls).as("one follower leads the next try, the other waits for it").hasSize(2);
        calls.get(0).tap().onEnd();
        calls.get(1).answer(cookie, "b");
        client.runPendingTasks();
        assertThat(calls).hasSize(3);
        calls.get(2).answer(cookie, "c");
        assertThat(calls).extracting(Call::exchange).as("each ran the script once").containsExactlyInAnyOrderElementsOf(clients);
        assertThat(cache.stats().entries()).isZero();
        assertThat(cache.stats().coalesced()).as("each counted once").isEqualTo(2);
    }

    /**
     * A script's error marks nothing (hit-for-miss): its followers do not all go to a failing backend at once; one tries
     * again, and its stored answer answers the others.
     */
    @Test
    void theFollowersOfAnErrorSendOneOfThemAndAreAnsweredByItsStoredAnswer() {
        List<FakeExchange> clients = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            clients.add(enter(HttpMethod.GET, "/busy.php"));
        }
        HttpResponse error = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.INTERNAL_SERVER_ERROR);
        calls.get(0).answer(error, "try later");
        client.runPendingTasks();
        assertThat(calls).as("one try at a time").hasSize(2);
        calls.get(1).answer(head("Cache-Control", "max-age=60"), "page");
        client.runPendingTasks();
        assertThat(calls).hasSize(2);
        List<FakeExchange> others = new ArrayList<>(clients.subList(1, 4));
        assertThat(others.remove((FakeExchange) calls.get(1).exchange())).as("a follower tried again").isTrue();
        assertThat(others).allSatisfy(exchange -> {
            assertThat(exchange.statuses).containsExactly(HttpResponseStatus.OK);
            assertThat(exchange.cacheStatus).isEqualTo(CacheStatus.HIT);
        });
    }

    /**
     * A backend that fails the fill itself (connection refused, its read timeout, no connection within the queue
     * timeout) does not get the followers all at once either: nginx's waiters take its cache lock in turn whatever
     * became of its holder, each failing on its own, until one's answer is stored and answers the rest.
     */
    @Test
    void theFollowersOfAFillTheBackendFailedTakeTurns() {
        List<FakeExchange> clients = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            clients.add(enter(HttpMethod.GET, "/down.php"));
        }
        assertThat(calls.get(0).tap().onError(new ConnectException("Connection refused")))
                .as("no stale copy: the responder answers its error").isFalse();
        client.runPendingTasks();
        assertThat(calls).as("one try at a time").hasSize(2);
        assertThat(calls.get(1).tap().onError(new IOException("read timed out"))).isFalse();
        client.runPendingTasks();
        assertThat(calls).as("then the next").hasSize(3);
        calls.get(2).answer(head("Cache-Control", "max-age=60"), "page");
        client.runPendingTasks();
        assertThat(calls).hasSize(3);
        assertThat(calls).extracting(Call::exchange).doesNotHaveDuplicates();
        List<FakeExchange> answered = new ArrayList<>(clients);
        calls.forEach(call -> answered.remove((FakeExchange) call.exchange()));
        assertThat(answered).singleElement().satisfies(exchange -> {
            assertThat(exchange.statuses).containsExactly(HttpResponseStatus.OK);
            assertThat(exchange.cacheStatus).isEqualTo(CacheStatus.HIT);
        });
        assertThat(cache.stats().coalesced()).as("each counted once").isEqualTo(3);
    }

    /**
     * A follower in its second wait (its first flight's answer not stored) has a timer of its own, for what is left of
     * coalesce-timeout: its client leaving cancels it, and its place goes, rather than the timer holding the follower
     * (and its exchange) until coalesce-timeout.
     */
    @Test
    void aFollowerWhoseClientLeavesInItsSecondWaitCancelsItsTimer() {
        enter(HttpMethod.GET, "/busy.php");
        FakeExchange first = enter(HttpMethod.GET, "/busy.php");
        FakeExchange second = enter(HttpMethod.GET, "/busy.php");
        HttpResponse error = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.INTERNAL_SERVER_ERROR);
        calls.get(0).answer(error, "try later");
        client.runPendingTasks();
        assertThat(calls).hasSize(2);
        FakeExchange waiting = calls.get(1).exchange() == second ? first : second;
        assertThat(timer.live()).as("the new flight's timer and the waiter's own").hasSize(2);
        waiting.clientLeaves();
        assertThat(timer.live()).as("the flight's alone").hasSize(1);
        ManualTimeout flight = timer.live().get(0);
        calls.get(1).answer(head("Cache-Control", "max-age=60"), "page");
        assertThat(flight.cancelled).as("ended with the flight").isTrue();
        assertThat(waiting.statuses).isEmpty();
    }

    /**
     * A follower takes turns round after round while the answers are not stored (nginx's cache lock taken again): its
     * request has one client-gone task however many rounds it waits, and that one ends the wait it is in. Each round
     * used to add another, holding the tickets of the flights before.
     */
    @Test
    void aFollowerHasOneClientGoneTaskOverAllItsWaits() {
        List<FakeExchange> clients = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            clients.add(enter(HttpMethod.GET, "/busy.php"));
        }
        HttpResponse error = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.INTERNAL_SERVER_ERROR);
        for (int round = 0; round < 2; round++) {
            calls.get(round).answer(error, "try later");
            client.runPendingTasks();
        }
        assertThat(calls).as("one try at a time").hasSize(3);
        FakeExchange waiting = clients.stream()
                .filter(exchange -> calls.stream().noneMatch(call -> call.exchange() == exchange))
                .findFirst().orElseThrow();
        assertThat(waiting.goneTasks).as("in its third wait").hasSize(1);
        waiting.clientLeaves();
        calls.get(2).answer(error, "try later");
        client.runPendingTasks();
        assertThat(calls).as("nobody left to try").hasSize(3);
        assertThat(waiting.statuses).isEmpty();
    }

    /**
     * A reload's drain timeout passed with requests of the retired configuration still waiting for a fill: its cache is
     * closed and its timer stopped (Edge.close). The fill's answer not stored, its followers still go on, each to the
     * backend, where they took the lock again on a timer that takes no timeout, and hung there, never answered.
     */
    @Test
    void theFollowersOfAFillOutlivingItsConfigurationStillGoOn() {
        for (int i = 0; i < 3; i++) {
            enter(HttpMethod.GET, "/slow.php");
        }
        cache.close();
        timer.stop();
        HttpResponse error = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.INTERNAL_SERVER_ERROR);
        calls.get(0).answer(error, "try later");
        client.runPendingTasks();
        assertThat(calls).as("each follower at the backend").hasSize(3);
        calls.get(1).answer(error, "b");
        calls.get(2).answer(error, "c");
    }

    /**
     * A URL whose variants are known (Vary: Accept-Encoding stored before): a burst of one variant waits on that
     * variant's own key, so all its followers are that variant. A script's error that varies as its pages do does not
     * send them all to the failing backend at once: one tries again, as nginx's waiters take its cache lock in turns.
     */
    @Test
    void theFollowersOfAKnownVariantsErrorThatVariesSendOneOfThem() {
        enter(HttpMethod.GET, "/v.php", "Accept-Encoding", "gzip");
        calls.get(0).answer(head("Vary", "Accept-Encoding", "Cache-Control", "max-age=1"), "page");
        nanos.addAndGet(Duration.ofSeconds(2).toNanos());
        List<FakeExchange> clients = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            clients.add(enter(HttpMethod.GET, "/v.php", "Accept-Encoding", "gzip"));
        }
        assertThat(calls).as("one refreshes the variant, the others wait for it").hasSize(2);
        HttpResponse error = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.INTERNAL_SERVER_ERROR);
        error.headers().set("Vary", "Accept-Encoding");
        calls.get(1).answer(error, "try later");
        client.runPendingTasks();
        assertThat(calls).as("one try at a time").hasSize(3);
        calls.get(2).answer(head("Vary", "Accept-Encoding", "Cache-Control", "max-age=60"), "new page");
        client.runPendingTasks();
        assertThat(calls).hasSize(3);
        assertThat(clients).filteredOn(exchange -> exchange.cacheStatus == CacheStatus.HIT).hasSize(1);
    }

    /**
     * The same variant's key, but an answer that varies by more than it was made with (a page stored for everyone with
     * Vary: Accept-Encoding, a user's private one with Vary: Cookie too): its followers may be other users, and go on
     * their own, rather than queue behind one another's pages.
     */
    @Test
    void theFollowersOfAVariantsAnswerThatVariesByMoreGoOnTheirOwn() {
        enter(HttpMethod.GET, "/v.php", "Accept-Encoding", "gzip");
        calls.get(0).answer(head("Vary", "Accept-Encoding", "Cache-Control", "max-age=1"), "page");
        nanos.addAndGet(Duration.ofSeconds(2).toNanos());
        for (int i = 0; i < 3; i++) {
            enter(HttpMethod.GET, "/v.php", "Accept-Encoding", "gzip", "Cookie", "user=" + i);
        }
        assertThat(calls).hasSize(2);
        assertThat(calls.get(1).tap().onHead(head("Vary", "Cookie, Accept-Encoding", "Cache-Control", "private")))
                .isTrue();
        client.runPendingTasks();
        assertThat(calls).as("both followers at the backend while the first answer streams").hasSize(4);
        calls.get(1).tap().onEnd();
        calls.get(2).answer(head("Vary", "Cookie, Accept-Encoding", "Cache-Control", "private"), "b");
        calls.get(3).answer(head("Vary", "Cookie, Accept-Encoding", "Cache-Control", "private"), "c");
    }

    /**
     * A POST's 2xx during a fill: the fill's answer (it may hold what the POST changed) is never fresh to a request that
     * came after the POST. The followers that waited for it since before the POST are answered by it; of those that came
     * after, one fills again, and its answer answers the other. The answer was refused, and every follower went to the
     * backend in turn: POSTs during every fill made every GET a backend request.
     */
    @Test
    void aFillAPostOvertookAnswersItsFollowersFromBeforeThePostAndOneAfterItFillsAgain() {
        enter(HttpMethod.GET, "/page.php");
        List<FakeExchange> beforePost = List.of(enter(HttpMethod.GET, "/page.php"), enter(HttpMethod.GET, "/page.php"));
        nanos.incrementAndGet();
        BackendGate.ResponseTap fill = calls.get(0).tap();
        assertThat(fill.onHead(head("Cache-Control", "max-age=60"))).isTrue();
        enter(HttpMethod.POST, "/page.php");
        calls.get(1).answer(head(), "saved");
        List<FakeExchange> afterPost = List.of(enter(HttpMethod.GET, "/page.php"), enter(HttpMethod.GET, "/page.php"));
        ByteBuf chunk = Unpooled.copiedBuffer("old page", StandardCharsets.UTF_8);
        try {
            fill.onBody(chunk);
        } finally {
            chunk.release();
        }
        fill.onEnd();
        client.runPendingTasks();
        for (FakeExchange follower : beforePost) {
            assertThat(follower.body.toString(StandardCharsets.UTF_8)).isEqualTo("old page");
        }
        assertThat(calls).as("one follower from after the POST fills again").hasSize(3);
        assertThat(List.<Object>copyOf(afterPost)).contains(calls.get(2).exchange());
        calls.get(2).answer(head("Cache-Control", "max-age=60"), "new page");
        client.runPendingTasks();
        assertThat(calls).hasSize(3);
        FakeExchange answered = calls.get(2).exchange() == afterPost.get(0) ? afterPost.get(1) : afterPost.get(0);
        assertThat(answered.body.toString(StandardCharsets.UTF_8)).isEqualTo("new page");
    }

    /**
     * An answer every use must revalidate (max-age=0 with an ETag): the followers of a revalidation are answered by it,
     * which the backend made after they came. Each revalidated again on its own once it ended, one after another (the
     * cache audit: 22 script runs for 12 concurrent requests).
     */
    @Test
    void theFollowersOfARevalidationAreAnsweredByItWhereEveryUseRevalidates() {
        enter(HttpMethod.GET, "/rv.php");
        calls.get(0).answer(head("Cache-Control", "max-age=0", "ETag", "\"v1\""), "page");
        nanos.incrementAndGet();
        List<FakeExchange> clients = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            clients.add(enter(HttpMethod.GET, "/rv.php"));
        }
        assertThat(calls).as("one revalidation for the three").hasSize(2);
        assertThat(calls.get(1).backendRequest().headers().get("If-None-Match")).isEqualTo("\"v1\"");
        nanos.incrementAndGet();
        HttpResponse notModified = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.NOT_MODIFIED);
        notModified.headers().set("Cache-Control", "max-age=0").set("ETag", "\"v1\"");
        calls.get(1).tap().onHead(notModified);
        calls.get(1).tap().onEnd();
        client.runPendingTasks();
        assertThat(calls).as("the followers went nowhere").hasSize(2);
        assertThat(clients).allSatisfy(c -> {
            assertThat(c.statuses).containsExactly(HttpResponseStatus.OK);
            assertThat(c.body.toString(StandardCharsets.UTF_8)).isEqualTo("page");
        });
        nanos.incrementAndGet();
        enter(HttpMethod.GET, "/rv.php");
        assertThat(calls).as("a request after it revalidates").hasSize(3);
    }

    @Test
    void laterMissesOfAUrlRememberedUncacheableAreNotCoalesced() {
        enter(HttpMethod.GET, "/private.php");
        calls.get(0).answer(head("Cache-Control", "private, max-age=60"), "mine");
        for (int i = 0; i < 3; i++) {
            enter(HttpMethod.GET, "/private.php");
        }
        assertThat(calls).as("each miss goes to the backend at once, side by side").hasSize(4);
        assertThat(cache.stats().coalesced()).isZero();
        for (Call call : calls.subList(1, 4)) {
            call.answer(head("Cache-Control", "no-store"), "x");
        }
        // the mark ends after hit-for-miss: misses coalesce again
        nanos.addAndGet(HIT_FOR_MISS.toNanos());
        enter(HttpMethod.GET, "/private.php");
        enter(HttpMethod.GET, "/private.php");
        assertThat(calls).hasSize(5);
        assertThat(cache.stats().coalesced()).isEqualTo(1);
        calls.get(4).answer(head(), "y");
        client.runPendingTasks();
        assertThat(calls).hasSize(6);
        calls.get(5).answer(head(), "z");
    }

    @Test
    void aUrlThatBecomesCacheableIsStoredAndItsMissesCoalesceAgain() {
        enter(HttpMethod.GET, "/page.php");
        calls.get(0).answer(head(), "not yet");
        enter(HttpMethod.GET, "/page.php");
        enter(HttpMethod.GET, "/page.php");
        assertThat(calls).as("remembered uncacheable: not coalesced").hasSize(3);
        calls.get(1).answer(head("Cache-Control", "max-age=60"), "cacheable now");
        FakeExchange hit = enter(HttpMethod.GET, "/page.php");
        assertThat(calls).as("answered from the cache").hasSize(3);
        assertThat(hit.statuses).containsExactly(HttpResponseStatus.OK);
        calls.get(2).answer(head("Cache-Control", "max-age=60"), "cacheable now");
        // once stale, its misses coalesce again: the mark ended with the storable answer
        nanos.addAndGet(Duration.ofSeconds(61).toNanos());
        enter(HttpMethod.GET, "/page.php");
        enter(HttpMethod.GET, "/page.php");
        assertThat(calls).hasSize(4);
        calls.get(3).answer(head("Cache-Control", "max-age=60"), "again");
        client.runPendingTasks();
        assertThat(calls).as("the follower was answered from the cache").hasSize(4);
    }

    @Test
    void anUncacheableVariantLeavesTheMissesOfAnotherVariantCoalesced() {
        // Vary: Cookie with a private answer for a logged-in user, a public one for anonymous visitors.
        enter(HttpMethod.GET, "/v.php", "Cookie", "session=b");
        calls.get(0).answer(head("Vary", "Cookie", "Cache-Control", "private"), "b's own page");
        List<FakeExchange> anonymous = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            anonymous.add(enter(HttpMethod.GET, "/v.php"));
        }
        assertThat(calls).as("the private variant does not send the other's misses side by side").hasSize(2);
        calls.get(1).answer(head("Vary", "Cookie", "Cache-Control", "public, max-age=60"), "everyone's page");
        client.runPendingTasks();
        assertThat(calls).as("the script ran once for the four").hasSize(2);
        assertThat(calls.get(1).exchange()).isSameAs(anonymous.get(0));
        assertThat(anonymous.subList(1, 4)).as("the followers, from the cache")
                .allSatisfy(exchange -> assertThat(exchange.statuses).containsExactly(HttpResponseStatus.OK));
        assertThat(cache.stats().coalesced()).isEqualTo(3);
        // Vary: * matches no request: the URL is remembered, as an answer without Vary is
        enter(HttpMethod.GET, "/star.php", "Cookie", "session=b");
        calls.get(2).answer(head("Vary", "*", "Cache-Control", "public, max-age=60"), "nobody's");
        enter(HttpMethod.GET, "/star.php");
        enter(HttpMethod.GET, "/star.php");
        assertThat(calls).as("Vary: * marks the URL: not coalesced").hasSize(5);
        calls.get(3).answer(head(), "x");
        calls.get(4).answer(head(), "y");
    }

    /**
     * A first request whose answer the cache may not share, for reasons of its own (Authorization with nothing stored
     * that says it may be shared, or its Cache-Control: no-store), goes to the backend alone: the plain misses behind
     * it coalesce behind one of their own. It used to lead the flight, and its answer, refused at its head, let every
     * follower go to the backend side by side (the script ran once per request of the burst).
     */
    @Test
    void aRequestWhoseAnswerCannotBeSharedNeitherLeadsNorFollowsAFlight() {
        String[][] own = {{"Authorization", "Bearer x"}, {"Cache-Control", "no-store"}};
        for (int i = 0; i < own.length; i++) {
            String uri = "/slow-" + i + ".php";
            int before = calls.size();
            FakeExchange first = enter(HttpMethod.GET, uri, own[i]);
            List<FakeExchange> plain = new ArrayList<>();
            for (int j = 0; j < 4; j++) {
                plain.add(enter(HttpMethod.GET, uri));
            }
            assertThat(calls).as(own[i][0] + ": that request alone, and one for the others").hasSize(before + 2);
            assertThat(calls.get(before).exchange()).isSameAs(first);
            assertThat(calls.get(before + 1).exchange()).isSameAs(plain.get(0));
            calls.get(before).answer(head("Cache-Control", "max-age=60"), "its own");
            client.runPendingTasks();
            assertThat(calls).as(own[i][0] + ": nobody waited for it").hasSize(before + 2);
            calls.get(before + 1).answer(head("Cache-Control", "max-age=60"), "everyone's");
            client.runPendingTasks();
            assertThat(calls).as(own[i][0] + ": the script ran once for the plain four").hasSize(before + 2);
            assertThat(plain.subList(1, 4)).as(own[i][0] + ": the followers, from the cache")
                    .allSatisfy(exchange -> assertThat(exchange.statuses).containsExactly(HttpResponseStatus.OK));
        }
        // alone, its answer is still recorded: a public one is stored for everyone (RFC 9111 3.5)
        enter(HttpMethod.GET, "/public.php", "Authorization", "Bearer x");
        calls.get(calls.size() - 1).answer(head("Cache-Control", "public, max-age=60"), "everyone's");
        int before = calls.size();
        assertThat(enter(HttpMethod.GET, "/public.php").statuses).containsExactly(HttpResponseStatus.OK);
        assertThat(calls).as("a hit").hasSize(before);
    }

    /**
     * A front controller answers 200 to any method, so any client's "FOO /page.php" invalidates the page (RFC 9111
     * 4.4). With purge-marks-stale that marks it rather than removing it: the next request revalidates it, and when
     * the script fails, the copy kept for outages (the grace) still answers.
     */
    @Test
    void anInvalidationWithPurgeMarksStaleKeepsTheCopyForOutages() {
        cache.close();
        cache = new ResponseCache(new ResponseCacheSettings(1 << 20, 64 * 1024, false, Duration.ofSeconds(10),
                HIT_FOR_MISS, Duration.ofHours(1), List.of(), false), timer, nanos::get);
        gate = new ResponseCacheGate(cache, "", true);
        enter(HttpMethod.GET, "/page.php");
        calls.get(0).answer(head("Cache-Control", "max-age=60", "ETag", "\"v1\""), "page");
        enter(HttpMethod.valueOf("FOO"), "/page.php");
        calls.get(1).answer(head(), "whatever FOO means to the script");
        FakeExchange next = enter(HttpMethod.GET, "/page.php");
        assertThat(calls).as("revalidated, not a hit").hasSize(3);
        assertThat(calls.get(2).backendRequest().headers().get("If-None-Match")).isEqualTo("\"v1\"");
        assertThat(calls.get(2).tap().onError(new IOException("php-fpm is down"))).isTrue();
        assertThat(next.statuses).as("the copy kept for outages").containsExactly(HttpResponseStatus.OK);
    }

    @Test
    void followersGoOnOnceTheAnswerOutgrowsTheLargestObject() {
        cache.close();
        cache = cache(16);
        gate = new ResponseCacheGate(cache, "", false);
        enter(HttpMethod.GET, "/big.php");
        enter(HttpMethod.GET, "/big.php");
        BackendGate.ResponseTap leader = calls.get(0).tap();
        assertThat(leader.onHead(head("Cache-Control", "max-age=60"))).isTrue();
        client.runPendingTasks();
        assertThat(calls).as("storable so far: the follower waits").hasSize(1);
        ByteBuf chunk = Unpooled.wrappedBuffer(new byte[32]);
        try {
            leader.onBody(chunk);
        } finally {
            chunk.release();
        }
        client.runPendingTasks();
        assertThat(calls).hasSize(2);
        leader.onEnd();
        calls.get(1).answer(head("Cache-Control", "max-age=60"), "x".repeat(32));
        assertThat(cache.stats().entries()).isZero();
    }

    @Test
    void aFollowerWaitsNoLongerThanTheCoalesceTimeoutThenGoesAlone() {
        enter(HttpMethod.GET, "/stuck.php");
        FakeExchange follower = enter(HttpMethod.GET, "/stuck.php");
        assertThat(calls).hasSize(1);
        assertThat(timer.delays).containsExactly(Duration.ofSeconds(10).toNanos());
        timer.fireAll(); // coalesce-timeout is over; the leader still waits for its head
        client.runPendingTasks();
        assertThat(calls).hasSize(2);
        assertThat(calls.get(1).exchange()).isSameAs(follower);
        calls.get(0).answer(head("Cache-Control", "max-age=60"), "late");
        calls.get(1).answer(head("Cache-Control", "max-age=60"), "late");
    }

    /**
     * A leader whose client left while followers wait goes on for them (detached); its client's own validators
     * matching the answer must not have it write a 304 to that exchange, over (ServerExchange refuses the head), which
     * threw out of the tap and lost the answer the followers waited for.
     */
    @Test
    void aDetachedLeaderWritesNoNotModifiedToItsGoneClientAndStillFillsTheCache() {
        FakeExchange leader = enter(HttpMethod.GET, "/page.php", "If-None-Match", "\"v1\"");
        FakeExchange follower = enter(HttpMethod.GET, "/page.php");
        assertThat(calls).hasSize(1);
        leader.ended = true; // its client left: ServerExchange is DONE
        assertThat(calls.get(0).tap().onClientGone(() -> { })).as("followers wait: the answer goes on").isTrue();
        calls.get(0).answer(head("Cache-Control", "max-age=60", "ETag", "\"v1\""), "page");
        assertThat(leader.statuses).isEmpty();
        client.runPendingTasks();
        assertThat(cache.stats().entries()).isEqualTo(1);
        assertThat(follower.statuses).containsExactly(HttpResponseStatus.OK);
    }

    /**
     * A leader still queued whose client left goes on for the one follower waiting for its answer; once that one's
     * client leaves too, nobody wants the answer, and the leader gives its queue place up (it stayed queued for
     * nobody until its queue timeout, and then ran its script). The flight ends, so a later request leads a new one.
     */
    @Test
    void aQueuedLeaderGivesUpOnceItsFollowersHaveAllLeftToo() {
        enter(HttpMethod.GET, "/page.php");
        FakeExchange follower = enter(HttpMethod.GET, "/page.php");
        List<String> given = new ArrayList<>();
        assertThat(calls.get(0).tap().onClientGone(() -> given.add("up"))).as("a follower waits").isTrue();
        client.runPendingTasks();
        assertThat(given).isEmpty();
        follower.clientLeaves();
        client.runPendingTasks();
        assertThat(given).as("nobody waits for the answer any more").containsExactly("up");
        enter(HttpMethod.GET, "/page.php");
        assertThat(calls).as("a new flight, led by the next request").hasSize(2);
        calls.get(1).answer(head("Cache-Control", "max-age=60"), "page");
        assertThat(cache.stats().entries()).isEqualTo(1);
    }

    /** The same once the followers stopped waiting for it (coalesce-timeout): they went to the backend on their own. */
    @Test
    void aQueuedLeaderGivesUpOnceItsFollowersStoppedWaitingForIt() {
        enter(HttpMethod.GET, "/page.php");
        enter(HttpMethod.GET, "/page.php");
        List<String> given = new ArrayList<>();
        assertThat(calls.get(0).tap().onClientGone(() -> given.add("up"))).isTrue();
        timer.fireAll();
        client.runPendingTasks();
        assertThat(given).containsExactly("up");
        assertThat(calls).as("the follower, alone").hasSize(2);
        calls.get(1).answer(head("Cache-Control", "max-age=60"), "page");
    }

    /**
     * A leader that left the queue for the backend goes on for the cache whoever waits (nginx goes on with a cacheable
     * request whose client closed once it has its upstream connection): its followers leaving changes nothing.
     */
    @Test
    void aLeaderAtTheBackendGoesOnWhenItsFollowersLeave() {
        enter(HttpMethod.GET, "/page.php");
        FakeExchange follower = enter(HttpMethod.GET, "/page.php");
        List<String> given = new ArrayList<>();
        assertThat(calls.get(0).tap().onClientGone(() -> given.add("up"))).isTrue();
        calls.get(0).tap().onLeased();
        follower.clientLeaves();
        client.runPendingTasks();
        assertThat(given).isEmpty();
        calls.get(0).answer(head("Cache-Control", "max-age=60"), "page");
        assertThat(cache.stats().entries()).isEqualTo(1);
        assertThat(follower.statuses).isEmpty();
    }

    /**
     * A conditional miss whose answer matches the client's validators gets its 304 at the head; the rest of the
     * answer is wanted only when the cache keeps it, else the backend is let go (the script ran on for nobody).
     */
    @Test
    void theRestOfAnAnswerTurnedNotModifiedAtItsHeadIsWantedOnlyToBeStored() {
        FakeExchange privately = enter(HttpMethod.GET, "/private.php", "If-None-Match", "\"p1\"");
        BackendGate.ResponseTap tap = calls.get(0).tap();
        assertThat(tap.onHead(head("Cache-Control", "private", "ETag", "\"p1\""))).isFalse();
        assertThat(privately.statuses).containsExactly(HttpResponseStatus.NOT_MODIFIED);
        assertThat(tap.wantsRest()).as("not kept: nobody wants it").isFalse();

        FakeExchange shared = enter(HttpMethod.GET, "/shared.php", "If-None-Match", "\"s1\"");
        Call stored = calls.get(1);
        assertThat(stored.tap().onHead(head("Cache-Control", "max-age=60", "ETag", "\"s1\""))).isFalse();
        assertThat(shared.statuses).containsExactly(HttpResponseStatus.NOT_MODIFIED);
        assertThat(stored.tap().wantsRest()).as("the cache keeps it").isTrue();
        ByteBuf chunk = Unpooled.copiedBuffer("page", StandardCharsets.UTF_8);
        try {
            stored.tap().onBody(chunk);
        } finally {
            chunk.release();
        }
        stored.tap().onEnd();
        assertThat(cache.stats().entries()).isEqualTo(1);
    }

    /**
     * nginx 1.22's proxy_cache beside proxy_pass_header X-Accel-Expires (and -Limit-Rate, -Buffering): its hits carry
     * the backend's lines as its miss did, a HEAD's and a 304's too (measured: MISS and HIT alike "X-Accel-Expires: 60",
     * "X-Accel-Limit-Rate: 100000", "X-Accel-Buffering: yes"); a name the location does not pass stays hidden on hits
     * as on the miss.
     */
    @Test
    void aHitCarriesTheXAccelFieldsTheLocationPassesAsTheMissDid() {
        gate = new ResponseCacheGate(cache, "", false, List.of(), List.of(), false, true,
                Set.of("x-accel-expires", "x-accel-buffering", "server"));
        enter(HttpMethod.GET, "/passed");
        calls.get(0).answer(head("ETag", "\"v1\"", "X-Accel-Expires", "60", "X-Accel-Expires", "soon",
                "X-Accel-Limit-Rate", "100000", "X-Accel-Buffering", "yes"), "page");

        FakeExchange hit = enter(HttpMethod.GET, "/passed");
        client.runPendingTasks();
        assertThat(hit.cacheStatus).isEqualTo(CacheStatus.HIT);
        assertThat(hit.head.headers().getAll("X-Accel-Expires")).containsExactly("60", "soon");
        assertThat(hit.head.headers().getAll("X-Accel-Buffering")).containsExactly("yes");
        assertThat(hit.head.headers().contains("X-Accel-Limit-Rate")).as("not passed").isFalse();
        assertThat(hit.body.toString(StandardCharsets.UTF_8)).isEqualTo("page");

        FakeExchange headHit = enter(HttpMethod.HEAD, "/passed");
        client.runPendingTasks();
        assertThat(headHit.head.headers().getAll("X-Accel-Expires")).containsExactly("60", "soon");

        FakeExchange notModified = enter(HttpMethod.GET, "/passed", "If-None-Match", "\"v1\"");
        assertThat(notModified.statuses).containsExactly(HttpResponseStatus.NOT_MODIFIED);
        assertThat(notModified.head.headers().getAll("X-Accel-Expires")).containsExactly("60", "soon");
        assertThat(notModified.head.headers().contains("X-Accel-Limit-Rate")).isFalse();

        gate = new ResponseCacheGate(cache, "", false);
        FakeExchange elsewhere = enter(HttpMethod.GET, "/passed");
        client.runPendingTasks();
        assertThat(elsewhere.cacheStatus).isEqualTo(CacheStatus.HIT);
        assertThat(elsewhere.head.headers().names()).as("a location that passes none: hidden on its hits")
                .noneMatch(name -> name.regionMatches(true, 0, "X-Accel-", 0, 8));
    }

    /**
     * The script's X-Accel-Limit-Rate paces every hit of its answer, as it paced the miss, though the location has no
     * limit-rate; a client never sees it. A 304 that renews the answer without one keeps that pace; one with its own
     * (0: none) sets it.
     */
    @Test
    void theScriptsXAccelLimitRatePacesEveryHitTillA304ChangesIt() {
        client.freezeTime();
        String page = "p".repeat(20_000);
        enter(HttpMethod.GET, "/paced.php");
        calls.get(0).answer(head("Cache-Control", "max-age=60", "ETag", "\"v1\"", "Content-Length", "20000",
                "X-Accel-Limit-Rate", "4096"), page);

        FakeExchange hit = enter(HttpMethod.GET, "/paced.php");
        client.runPendingTasks();
        assertThat(hit.head.headers().contains("X-Accel-Limit-Rate")).as("never the client's").isFalse();
        assertThat(hit.body.size()).as("the first second's worth, in 4 KiB pieces").isEqualTo(2 * 4096);
        client.advanceTimeBy(10, TimeUnit.SECONDS);
        client.runScheduledPendingTasks();
        client.runPendingTasks();
        assertThat(hit.ended).isTrue();
        assertThat(hit.body.toString(StandardCharsets.UTF_8)).isEqualTo(page);

        nanos.addAndGet(Duration.ofSeconds(61).toNanos());
        FakeExchange renewed = enter(HttpMethod.GET, "/paced.php");
        assertThat(calls.get(1).backendRequest().headers().get("If-None-Match")).isEqualTo("\"v1\"");
        assertThat(calls.get(1).tap().onHead(notModified("ETag", "\"v1\"", "Cache-Control", "max-age=60"))).isFalse();
        calls.get(1).tap().onEnd();
        client.runPendingTasks();
        assertThat(renewed.head.headers().contains("X-Accel-Limit-Rate")).isFalse();
        assertThat(renewed.body.size()).as("the pace it was stored with").isEqualTo(2 * 4096);
        client.advanceTimeBy(10, TimeUnit.SECONDS);
        client.runScheduledPendingTasks();
        client.runPendingTasks();
        assertThat(renewed.ended).isTrue();

        nanos.addAndGet(Duration.ofSeconds(61).toNanos());
        FakeExchange unpaced = enter(HttpMethod.GET, "/paced.php");
        assertThat(calls.get(2).tap().onHead(notModified("ETag", "\"v1\"", "Cache-Control", "max-age=60",
                "X-Accel-Limit-Rate", "0"))).isFalse();
        calls.get(2).tap().onEnd();
        client.runPendingTasks();
        assertThat(unpaced.ended).as("the 304's own word: no pace").isTrue();
        assertThat(unpaced.body.toString(StandardCharsets.UTF_8)).isEqualTo(page);
        FakeExchange nextHit = enter(HttpMethod.GET, "/paced.php");
        client.runPendingTasks();
        assertThat(nextHit.head.headers().contains("X-Accel-Limit-Rate")).isFalse();
        assertThat(nextHit.ended).as("and none from then on").isTrue();
        assertThat(calls).hasSize(3);
    }

    /** A miss the gate answers 304 from the script's head, by the client's validators, does not pass the pace on. */
    @Test
    void aNotModifiedJudgedOnAMissDoesNotCarryTheScriptsXAccelLimitRate() {
        FakeExchange conditional = enter(HttpMethod.GET, "/paced.php", "If-None-Match", "\"v1\"");
        assertThat(calls.get(0).tap().onHead(head("Cache-Control", "max-age=60", "ETag", "\"v1\"",
                "X-Accel-Limit-Rate", "4096"))).isFalse();
        assertThat(conditional.statuses).containsExactly(HttpResponseStatus.NOT_MODIFIED);
        assertThat(conditional.head.headers().contains("X-Accel-Limit-Rate")).as("never the client's").isFalse();
        calls.get(0).tap().onEnd();
    }

    static HttpResponse notModified(String... headers) {
        HttpResponse head = head(headers);
        head.setStatus(HttpResponseStatus.NOT_MODIFIED);
        return head;
    }

    @Test
    void onlyIfCachedIsAnsweredFromTheCacheOr504NeverByTheBackend() {
        FakeExchange miss = enter(HttpMethod.GET, "/page.php", "Cache-Control", "only-if-cached");
        assertThat(miss.statuses).containsExactly(HttpResponseStatus.GATEWAY_TIMEOUT);
        assertThat(miss.ended).isTrue();
        enter(HttpMethod.GET, "/page.php");
        calls.get(0).answer(head("Cache-Control", "max-age=60, stale-while-revalidate=30"), "page");
        FakeExchange hit = enter(HttpMethod.GET, "/page.php", "Cache-Control", "max-stale, only-if-cached");
        assertThat(hit.statuses).containsExactly(HttpResponseStatus.OK);
        assertThat(calls).hasSize(1);
        nanos.addAndGet(Duration.ofSeconds(70).toNanos());
        FakeExchange withinGrace = enter(HttpMethod.GET, "/page.php", "Cache-Control", "only-if-cached");
        assertThat(withinGrace.statuses).as("stale, as the script allowed").containsExactly(HttpResponseStatus.OK);
        BackendGate.ResponseTap refresh = calls.get(1).tap();
        assertThat(refresh.onHead(head("Cache-Control", "max-age=60"))).as("stored only").isFalse();
        ByteBuf body = Unpooled.copiedBuffer("refreshed, no stale-while-revalidate now", StandardCharsets.UTF_8);
        try {
            refresh.onBody(body);
        } finally {
            body.release();
        }
        refresh.onEnd();
        nanos.addAndGet(Duration.ofSeconds(61).toNanos());
        FakeExchange stale = enter(HttpMethod.GET, "/page.php", "Cache-Control", "only-if-cached");
        assertThat(stale.statuses).containsExactly(HttpResponseStatus.GATEWAY_TIMEOUT);
        assertThat(calls).as("the backend asked only to fill and refresh the cache").hasSize(2);
        FakeExchange post = enter(HttpMethod.POST, "/page.php", "Cache-Control", "only-if-cached");
        assertThat(post.statuses).as("not a request this cache answers: the script's").isEmpty();
        assertThat(calls).hasSize(3);
    }

    /**
     * The background refresh of a stale-while-revalidate answer runs its script as nginx's background update does, with
     * $upstream_cache_status EXPIRED (what its fastcgi-params name): it had none, its script saw an empty value.
     */
    @Test
    void aBackgroundRefreshRunsItsScriptAsExpired() {
        enter(HttpMethod.GET, "/page.php");
        calls.get(0).answer(head("Cache-Control", "max-age=60, stale-while-revalidate=30"), "page");
        nanos.addAndGet(Duration.ofSeconds(70).toNanos());
        FakeExchange stale = enter(HttpMethod.GET, "/page.php");
        assertThat(stale.statuses).containsExactly(HttpResponseStatus.OK);
        assertThat(calls).hasSize(2);
        assertThat(calls.get(1).exchange().cacheStatus()).isEqualTo(CacheStatus.EXPIRED);
        BackendGate.ResponseTap refresh = calls.get(1).tap();
        assertThat(refresh.onHead(head("Cache-Control", "max-age=60"))).as("stored only").isFalse();
        refresh.onEnd();
    }

    /**
     * A background refresh runs its script with the values the client's rewrites set ($skip_cache in its
     * fastcgi-params): it saw none, each variable read "" as if never set.
     */
    @Test
    void aBackgroundRefreshCarriesTheClientsSetVariables(@TempDir Path dir) throws Exception {
        Path conf = dir.resolve("edge.conf");
        Files.createDirectories(dir.resolve("www"));
        Files.writeString(conf, "edge.sites = [{ root = www, rewrites = [{ set = \"$skip_cache 0\" }],"
                + " locations = [{ match = \"/\" }] }]\n");
        VariableMap skipCache = new ConfigLoader().load(conf).sites().get(0).rewrites().get(0).sets().get(0)
                .variable();
        enter(HttpMethod.GET, "/page.php");
        calls.get(0).answer(head("Cache-Control", "max-age=60, stale-while-revalidate=30"), "page");
        nanos.addAndGet(Duration.ofSeconds(70).toNanos());
        HttpRequest request = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/page.php");
        FakeExchange stale = new FakeExchange(client, request);
        stale.mapValues().put(skipCache, "0");
        gate.enter(stale, backend);
        assertThat(calls).hasSize(2);
        assertThat(calls.get(1).exchange().mapValues()).containsEntry(skipCache, "0");
        BackendGate.ResponseTap refresh = calls.get(1).tap();
        assertThat(refresh.onHead(head("Cache-Control", "max-age=60"))).as("stored only").isFalse();
        refresh.onEnd();
    }

    /**
     * A request that no-cache keeps from storing (nginx's fastcgi_no_cache) is answered by a stale-while-revalidate
     * answer as any other request is, STALE, and runs no refresh whose answer it could not keep: nginx 1.22 answers
     * it STALE with fastcgi_cache_use_stale updating. It ran the script, EXPIRED, and waited for it.
     */
    @Test
    void noCacheIsAnsweredByAStaleWhileRevalidateAnswerAndRefreshesNothing() {
        gate = new ResponseCacheGate(cache, "", false, List.of(),
                List.of(new VariableText(List.of(new Return.Part(null, "http_x_nostore")), null)));
        enter(HttpMethod.GET, "/page.php");
        calls.get(0).answer(head("Cache-Control", "max-age=60, stale-while-revalidate=30"), "page");
        nanos.addAndGet(Duration.ofSeconds(70).toNanos());
        FakeExchange unstored = enter(HttpMethod.GET, "/page.php", "X-Nostore", "1");
        assertThat(unstored.statuses).containsExactly(HttpResponseStatus.OK);
        assertThat(unstored.body.toString(StandardCharsets.UTF_8)).isEqualTo("page");
        assertThat(unstored.cacheStatus()).isEqualTo(CacheStatus.STALE);
        assertThat(calls).as("no refresh: its answer would not be kept").hasSize(1);
        FakeExchange next = enter(HttpMethod.GET, "/page.php");
        assertThat(next.cacheStatus()).as("still stale for the next").isEqualTo(CacheStatus.STALE);
        assertThat(calls).as("whose refresh runs").hasSize(2);
        assertThat(calls.get(1).tap().onHead(head("Cache-Control", "max-age=60"))).isFalse();
        calls.get(1).tap().onEnd();
    }

    /** The parts of an exchange the gate uses, recorded (the last head, the body's bytes); writes are released. */
    static final class FakeExchange implements Exchange {
        final Channel clientChannel;
        final HttpRequest request;
        final List<HttpResponseStatus> statuses = new ArrayList<>();
        final List<Runnable> goneTasks = new ArrayList<>();
        final ByteArrayOutputStream body = new ByteArrayOutputStream();
        HttpResponse head;
        boolean ended;
        /** The location it is answered in; null: none. */
        LocationSettings location;
        /** Its variables' values: kept, as a server exchange keeps them. */
        final Map<VariableMap, String> mapValues = new IdentityHashMap<>();

        @Override public Map<VariableMap, String> mapValues() { return mapValues; }
        /** What the gate made of it, as a server exchange keeps it. */
        CacheStatus cacheStatus;
        @Override public void cacheStatus(CacheStatus status) { cacheStatus = status; }
        @Override public CacheStatus cacheStatus() { return cacheStatus; }

        FakeExchange(Channel clientChannel, HttpRequest request) {
            this.clientChannel = clientChannel;
            this.request = request;
            request.headers().set("Host", "example.org");
        }

        @Override public HttpRequest request() { return request; }
        @Override public String path() { return request.uri(); }
        @Override public String query() { return ""; }
        @Override public boolean isHead() { return HttpMethod.HEAD.equals(request.method()); }
        @Override public SiteSettings site() { return null; }
        @Override public LocationSettings location() { return location; }
        @Override public Channel clientChannel() { return clientChannel; }
        @Override public InetSocketAddress remoteAddress() { return new InetSocketAddress("127.0.0.1", 40000); }
        @Override public boolean https() { return false; }
        @Override public InetSocketAddress localAddress() { return new InetSocketAddress("127.0.0.1", 8080); }
        @Override public void readBody(Consumer<HttpContent> onContent, Runnable onIncomplete) { }
        @Override public void pauseBody(boolean paused) { }
        @Override public ChannelFuture write(Object message) {
            if (message instanceof HttpResponse response) {
                if (ended) { // as ServerExchange: no head once the exchange is over (its client left, say)
                    ReferenceCountUtil.release(message);
                    throw new IllegalStateException("response head written twice");
                }
                statuses.add(response.status());
                head = response;
            }
            if (message instanceof HttpContent content) {
                body.writeBytes(ByteBufUtil.getBytes(content.content()));
            }
            ReferenceCountUtil.release(message);
            return clientChannel.newSucceededFuture();
        }
        @Override public ChannelFuture writeAndFlush(Object message) { return write(message); }
        @Override public void flush() { }
        @Override public boolean isWritable() { return true; }
        @Override public void onWritable(Runnable task) { task.run(); }
        @Override public void complete(ChannelFuture lastWrite) { ended = true; }
        @Override public void completeAndClose(ChannelFuture lastWrite) { ended = true; }
        @Override public void fail(Throwable cause) { ended = true; }
        @Override public void sendError(HttpResponseStatus status) { statuses.add(status); ended = true; }
        @Override public void onClientGone(Runnable task) { goneTasks.add(task); }
        @Override public void whenEnded(Runnable task) { throw new UnsupportedOperationException("no limit here"); }
        @Override public boolean isEnded() { return ended; }
        @Override public long bodyBytesWritten() { return body.size(); }

        /** Its client leaves before it was answered: the tasks registered for that run, as ServerExchange's do. */
        void clientLeaves() {
            ended = true;
            goneTasks.forEach(Runnable::run);
            goneTasks.clear();
        }
    }

    /** A timer whose timeouts run only when the test fires them; stopped, it takes none, as Netty's HashedWheelTimer. */
    static final class ManualTimer implements Timer {
        final List<Long> delays = new ArrayList<>();
        private final List<ManualTimeout> pending = new ArrayList<>();
        private boolean stopped;

        @Override
        public Timeout newTimeout(TimerTask task, long delay, TimeUnit unit) {
            if (stopped) {
                throw new IllegalStateException("cannot be started once stopped");
            }
            ManualTimeout timeout = new ManualTimeout(this, task);
            delays.add(unit.toNanos(delay));
            pending.add(timeout);
            return timeout;
        }

        /** The timeouts pending, neither cancelled nor fired. */
        List<ManualTimeout> live() {
            return pending.stream().filter(timeout -> !timeout.cancelled).toList();
        }

        void fireAll() {
            for (ManualTimeout timeout : List.copyOf(pending)) {
                pending.remove(timeout);
                if (!timeout.cancelled) {
                    timeout.expired = true;
                    try {
                        timeout.task.run(timeout);
                    } catch (Exception e) {
                        throw new AssertionError(e);
                    }
                }
            }
        }

        @Override
        public Set<Timeout> stop() {
            stopped = true;
            return Set.copyOf(pending);
        }
    }

    static final class ManualTimeout implements Timeout {
        final ManualTimer timer;
        final TimerTask task;
        boolean cancelled;
        boolean expired;

        ManualTimeout(ManualTimer timer, TimerTask task) {
            this.timer = timer;
            this.task = task;
        }

        @Override public Timer timer() { return timer; }
        @Override public TimerTask task() { return task; }
        @Override public boolean isExpired() { return expired; }
        @Override public boolean isCancelled() { return cancelled; }
        @Override public boolean cancel() {
            boolean was = !cancelled && !expired;
            cancelled = true;
            return was;
        }
    }
}
