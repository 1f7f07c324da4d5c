package io.edge.core.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.aio.PathPolicy;
import io.edge.conf.EdgeSettings;
import io.edge.conf.LimitReq;
import io.edge.conf.LocationSettings;
import io.edge.conf.SiteSettings;
import io.edge.core.limit.RequestLimits;
import io.edge.core.route.Router;
import io.edge.fastcgi.QueueFullException;
import io.edge.fastcgi.QueueTimeoutException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.DefaultChannelId;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.unix.Errors;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The connection handler on an {@link EmbeddedChannel}, for states a real socket makes hard to hold still. */
class HttpConnectionHandlerTest {

    @TempDir
    Path root;

    EmbeddedChannel client;

    EdgeSettings settings;
    HttpServerContext context;

    EmbeddedChannel open(Responder responder) {
        return open(responder, TestServers.settings(
                TestServers.server(TestServers.limits(), TestServers.timeouts(Duration.ofSeconds(10)), 10), root));
    }

    EmbeddedChannel open(Responder responder, EdgeSettings settings) {
        this.settings = settings;
        context = new HttpServerContext(new Router(settings.sites(), settings.defaultSite()),
                location -> responder, Map.of(), settings.server(), new AccessLog(false),
                new DefaultChannelGroup(GlobalEventExecutor.INSTANCE));
        client = new EmbeddedChannel(new HttpChannelInitializer(context));
        return client;
    }

    /** As {@link #open(Responder)}, on a connection from a TCP client (an embedded channel's own address is none). */
    EmbeddedChannel openFromTcp(Responder responder) {
        open(responder);
        client.close();
        client = new EmbeddedChannel(new HttpChannelInitializer(context)) {
            @Override
            protected SocketAddress remoteAddress0() {
                return new InetSocketAddress("192.0.2.7", 40000);
            }
        };
        return client;
    }

    /**
     * A request a limit-req spaces out leaves the body it announced in the socket while it waits (read then, an upload
     * would wait in memory), and the body timeout does not count the wait: its turn comes, the body is read, the answer
     * goes. The client leaving meanwhile ends the wait (LimitReqIT).
     */
    @Test
    void aRequestALimitDelaysLeavesItsBodyUnreadUntilItsTurn() {
        RequestLimits limits = new RequestLimits();
        LimitReq limit = new LimitReq("zone t", 1.0 / 60, 1, 0, 429, 128);
        Responder echo = new EchoResponder();
        openFromTcp(exchange -> limits.admit(exchange, List.of(limit), () -> echo.respond(exchange)));
        client.freezeTime();
        assertThat(EmbeddedClient.send(client, "GET /a HTTP/1.1\r\nHost: a\r\n\r\n")).startsWith("HTTP/1.1 200 ");
        assertThat(EmbeddedClient.send(client, "POST /b HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n"))
                .as("a minute past the rate: it waits").isEmpty();
        assertThat(client.config().isAutoRead()).as("its body is not read meanwhile").isFalse();
        client.advanceTimeBy(61, TimeUnit.SECONDS); // past the body timeout too (60 s), which the wait does not count
        client.runScheduledPendingTasks();
        assertThat(client.config().isAutoRead()).as("its turn: the body is read").isTrue();
        assertThat(EmbeddedClient.send(client, "hello")).startsWith("HTTP/1.1 200 ").contains("/b? body=5");
    }

    /**
     * A connection cut off for want of memory to read into (uploads holding the direct memory) is closed and said so in
     * the error log: it went as a silent reset, logged at DEBUG only (the resource audit); other failures stay quiet.
     */
    @Test
    void aConnectionClosedForWantOfMemoryIsToldInTheErrorLog() {
        openFromTcp(new EchoResponder());
        try (CapturedLog log = CapturedLog.of(HttpConnectionHandler.class)) {
            client.pipeline().fireExceptionCaught(new java.io.IOException("Connection reset by peer"));
            assertThat(log.lines()).isEmpty();
            openFromTcp(new EchoResponder());
            client.pipeline().fireExceptionCaught(new OutOfMemoryError("Cannot reserve 65536 bytes of direct buffer memory"));
            assertThat(client.isOpen()).isFalse();
            assertThat(log.lines()).singleElement().satisfies(line -> assertThat(line)
                    .contains("connection /192.0.2.7:40000 closed: Cannot reserve 65536 bytes of direct buffer memory"));
        }
    }

    /**
     * An upload cut off for want of memory to read its body into is answered 503 with Retry-After before the close: a
     * burst of 600 uploads under a small direct memory reset 260 clients unanswered, each logged as a 499 (the client
     * gone) though edge had closed.
     */
    @Test
    void anUploadCutOffForWantOfMemoryIsAnswered503() {
        assertAnswered503WhenMemoryRunsOut("POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nhel",
                "its body still coming");
    }

    /**
     * So is a request whose head had no buffer to go into (no exchange yet): it was reset unanswered, 190 to 433 of 600
     * uploads a round under a 32 MiB direct memory (the memory audit's re-run).
     */
    @Test
    void aRequestWhoseHeadHadNoMemoryToGoIntoIsAnswered503() {
        assertAnswered503WhenMemoryRunsOut("POST /up HTTP/1.1\r\nHost: a\r\nContent-Le", "its head still coming");
    }

    /**
     * A client that {@code sent} part of a request ({@code unanswered}: nothing answered yet) and then had no memory to
     * read into gets 503 with Retry-After, and its connection closes.
     */
    private void assertAnswered503WhenMemoryRunsOut(String sent, String unanswered) {
        openFromTcp(new EchoResponder());
        assertThat(EmbeddedClient.send(client, sent)).as(unanswered).isEmpty();
        client.pipeline().fireExceptionCaught(new ReadBufferExhausted());
        assertThat(EmbeddedClient.received(client)).startsWith("HTTP/1.1 503 ").containsIgnoringCase("retry-after: 1");
        assertThat(client.isOpen()).isFalse();
    }

    /**
     * Out of memory as Netty's own error is (a subclass of the JVM's): a kind of its own for the error log's throttle,
     * which is the server's, so that these tests leave the one logging the JVM's error its first line.
     */
    private static final class ReadBufferExhausted extends OutOfMemoryError {
        ReadBufferExhausted() {
            super("failed to allocate 65536 byte(s) of direct memory");
        }
    }

    /** The 503 ends the connection: a request pipelined behind it never starts (it ran for nobody, logged 499). */
    @Test
    void noRequestPipelinedBehindOneCutOffForWantOfMemoryStarts() {
        List<String> started = new ArrayList<>();
        openFromTcp(exchange -> started.add(exchange.path())); // answers nothing: the first waits
        EmbeddedClient.send(client, "GET /one HTTP/1.1\r\nHost: a\r\n\r\n"
                + "POST /two HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi");
        assertThat(started).containsExactly("/one");
        client.pipeline().fireExceptionCaught(new ReadBufferExhausted());
        assertThat(EmbeddedClient.received(client)).startsWith("HTTP/1.1 503 ");
        assertThat(started).containsExactly("/one");
        assertThat(client.isOpen()).isFalse();
    }

    /**
     * server.timeouts.write must be more than 0, and 500 us is: it was handed to the write watch in whole milliseconds,
     * 0, which watches nothing, so a reader that stopped held its connection for good. Netty's shortest watch is 1 ms.
     */
    @Test
    void aWriteTimeoutUnderAMillisecondStillWatchesWrites() {
        open(exchange -> { }, TestServers.settings(TestServers.server(TestServers.limits(),
                TestServers.writeTimeout(Duration.ofNanos(500_000)), 10), root));
        assertThat(client.pipeline().get(IdleStateHandler.class).getWriterIdleTimeInMillis()).isEqualTo(1);
    }

    /**
     * A client that reads steadily, only slower than the server writes, is never cut off by the write timeout: its write
     * makes progress at every look although it completes in none of several timeouts (on a real socket a write completes
     * once all of it is in the socket, whose send buffer, megabytes, drains at the client's pace). It was reset at its
     * first timeout. The socket here takes what the test lets through and the clock is the test's: on a real one, a
     * reader not scheduled for a whole timeout on a loaded machine has stalled, and its reset is right (HttpCoreTest's
     * reader at 3 MB/s under a 1 s timeout failed so). Once it takes nothing for the timeout, it is reset.
     */
    @Test
    void aClientReadingSteadilyButSlowlyIsNotCutOffByTheWriteTimeout() {
        int size = 1 << 20;
        open(exchange -> {
            FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                    exchange.clientChannel().alloc().buffer(size).writeZero(size));
            response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, size);
            exchange.complete(exchange.writeAndFlush(response));
        }, TestServers.settings(TestServers.server(TestServers.limits(),
                TestServers.writeTimeout(Duration.ofSeconds(1)), 10), root));
        client.close();
        SlowReader reader = new SlowReader(new HttpChannelInitializer(context));
        client = reader;
        client.freezeTime();
        EmbeddedClient.send(client, "GET /big HTTP/1.1\r\nHost: a\r\n\r\n");
        for (int second = 0; second < 8; second++) {
            reader.take(size / 16); // half the body over eight timeouts: no write completes meanwhile
            client.advanceTimeBy(1, TimeUnit.SECONDS);
            client.runScheduledPendingTasks();
            assertThat(client.isActive()).as("still open after %d s", second + 1).isTrue();
        }
        reader.take(size);
        String head = reader.received().substring(0, reader.received().indexOf("\r\n\r\n") + 4);
        assertThat(head).startsWith("HTTP/1.1 200 ").doesNotContainIgnoringCase("connection: close");
        assertThat(reader.received().length() - head.length()).as("the whole body").isEqualTo(size);

        EmbeddedClient.send(client, "GET /again HTTP/1.1\r\nHost: a\r\n\r\n");
        reader.take(size / 16);
        for (int second = 0; second < 3 && client.isActive(); second++) { // one to two timeouts after its last progress
            client.advanceTimeBy(1, TimeUnit.SECONDS);
            client.runScheduledPendingTasks();
        }
        assertThat(client.isActive()).as("a reader that stopped is cut off").isFalse();
    }

    /**
     * A client connection whose socket takes only the bytes {@link #take} lets through, as a slow reader's does (an
     * embedded channel's takes whatever is written at once); what it took is {@link #received}.
     */
    private static final class SlowReader extends EmbeddedChannel {
        private final java.io.ByteArrayOutputStream taken = new java.io.ByteArrayOutputStream();
        private long allowed;

        SlowReader(ChannelHandler handler) {
            super(handler);
        }

        /** Lets {@code bytes} more into the socket and tells the channel it may write again, as epoll's EPOLLOUT. */
        void take(long bytes) {
            allowed += bytes;
            unsafe().flush();
        }

        String received() {
            return taken.toString(StandardCharsets.ISO_8859_1);
        }

        @Override
        protected void doWrite(ChannelOutboundBuffer out) {
            for (Object message; (message = out.current()) != null; ) {
                ByteBuf buffer = (ByteBuf) message;
                int bytes = (int) Math.min(buffer.readableBytes(), allowed - taken.size());
                if (bytes == 0 && buffer.isReadable()) {
                    return; // the socket is full: the rest waits in the outbound buffer
                }
                byte[] copy = new byte[bytes];
                buffer.getBytes(buffer.readerIndex(), copy);
                taken.writeBytes(copy);
                out.removeBytes(bytes);
            }
        }
    }

    /**
     * A connection a listener accepted before a reload closed it, registered with its loop only after the drain of
     * that listener's connections looked (HttpServerContext#closeAccepted, once the listener is closed), is closed as it
     * registers: the drain missed it, and idle it stayed open on a listener whose sites are gone.
     */
    @Test
    void aConnectionOfADroppedListenerRegisteredAfterItsDrainLookedIsClosed() {
        InetSocketAddress publicListen = new InetSocketAddress("127.0.0.1", 8080);
        InetSocketAddress adminListen = new InetSocketAddress("127.0.0.1", 8081);
        open(new EchoResponder(), TestServers.sites(TestServers.server(TestServers.limits(),
                TestServers.timeouts(Duration.ofSeconds(10)), 10), root,
                List.of(site("public.org", false, publicListen), site("admin.org", true, adminListen))));
        EmbeddedChannel adminListener = new EmbeddedChannel();
        context.addListener(adminListener, adminListen);

        // a reload that drops the admin port, the public site on every address that remains
        context.replaceRoutes(new Router(List.of(site("public.org", true)), null), location -> new EchoResponder(),
                settings.server().limits().body(), Map.of(), List.of(adminListener));
        adminListener.close();
        context.closeAccepted(adminListener);
        EmbeddedChannel accepted = new EmbeddedChannel(adminListener, DefaultChannelId.newInstance(), true, false,
                new HttpChannelInitializer(context));

        assertThat(accepted.isOpen()).as("a connection of the dropped admin listener").isFalse();
    }

    /** A site of one name and location "/" on {@code listen} (none: every address). */
    private SiteSettings site(String name, boolean isDefault, InetSocketAddress... listen) {
        return new SiteSettings(List.of(name), isDefault, root, List.of("index.html"), PathPolicy.DEFAULT,
                List.of(new LocationSettings("/", LocationSettings.Kind.PREFIX, "/", null, null,
                        LocationSettings.Handler.STATIC, null)), Map.of(), List.of(listen));
    }

    @Test
    void replacedRoutesServeTheNextRequestAndReportIdleOnceTheExchangeRunningOnThemHasWritten() {
        Exchange[] held = new Exchange[1];
        open(exchange -> held[0] = exchange); // answers later
        EmbeddedClient.send(client, "GET /old HTTP/1.1\r\nHost: a\r\n\r\n");
        assertThat(held[0]).isNotNull();
        CompletableFuture<Void> idle = context.replaceRoutes(new Router(settings.sites(), settings.defaultSite()),
                location -> new EchoResponder(), settings.server().limits().body(), Map.of(), List.of());
        assertThat(idle).as("an exchange still runs on the old routes").isNotDone();
        DefaultFullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, 0);
        held[0].complete(held[0].writeAndFlush(response));
        assertThat(EmbeddedClient.received(client)).startsWith("HTTP/1.1 200 ");
        assertThat(idle).isDone();
        held[0] = null;
        String next = EmbeddedClient.send(client, "GET /new HTTP/1.1\r\nHost: a\r\n\r\n");
        assertThat(held[0]).as("the old responder").isNull();
        assertThat(next).startsWith("HTTP/1.1 200 ").contains("/new");
    }

    @Test
    void routesReplacedWhileTheirExchangeRunsAreIdleOnceItsClientIsGone() {
        open(exchange -> { }); // never answers
        EmbeddedClient.send(client, "GET /old HTTP/1.1\r\nHost: a\r\n\r\n");
        CompletableFuture<Void> idle = context.replaceRoutes(new Router(settings.sites(), settings.defaultSite()),
                location -> new EchoResponder(), settings.server().limits().body(), Map.of(), List.of());
        assertThat(idle).isNotDone();
        client.close();
        assertThat(idle).isDone();
    }

    @Test
    void workAnExchangeHandsOnKeepsReplacedRoutesBusyUntilItsReleaseRuns() {
        Runnable[] release = new Runnable[1];
        open(exchange -> {
            release[0] = exchange.holdBackends(); // as a background refresh that outlives the answer
            DefaultFullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
            response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, 0);
            exchange.complete(exchange.writeAndFlush(response));
        });
        assertThat(EmbeddedClient.send(client, "GET /a HTTP/1.1\r\nHost: a\r\n\r\n")).startsWith("HTTP/1.1 200 ");
        CompletableFuture<Void> idle = context.replaceRoutes(new Router(settings.sites(), settings.defaultSite()),
                location -> new EchoResponder(), settings.server().limits().body(), Map.of(), List.of());
        assertThat(idle).as("the held work still runs on the old routes").isNotDone();
        release[0].run();
        assertThat(idle).isDone();
        assertThat(EmbeddedClient.send(client, "GET /b HTTP/1.1\r\nHost: a\r\n\r\n")).startsWith("HTTP/1.1 200 ")
                .contains("/b");
    }

    /**
     * A client that resets its connection under a download is its own doing: not a server error in the log (it was a
     * WARN with a "500" per aborted download); a write that fails for another reason still is, naming the status the
     * client got with its head (a 200 cut short, not the 500 it never saw).
     */
    @Test
    void aWriteFailedByTheClientsResetIsNoWarningButOtherFailuresAre() {
        Exchange[] held = new Exchange[1];
        open(exchange -> {
            exchange.writeAndFlush(new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK));
            held[0] = exchange;
        });
        List<String> warnings;
        try (CapturedLog log = CapturedLog.of(ServerExchange.class)) {
            EmbeddedClient.send(client, "GET /a HTTP/1.1\r\nHost: a\r\n\r\n");
            io.netty.channel.epoll.Epoll.ensureAvailability(); // loads the natives that Errors' codes come from
            held[0].fail(Errors.newIOException("writevAddresses", Errors.ERRNO_ECONNRESET_NEGATIVE));
            assertThat(client.isOpen()).isFalse();
            open(exchange -> {
                exchange.writeAndFlush(new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK));
                held[0] = exchange;
            });
            EmbeddedClient.send(client, "GET /b HTTP/1.1\r\nHost: a\r\n\r\n");
            held[0].fail(new java.io.IOException("Underlying file size 10 smaller than requested count 20"));
            assertThat(client.isOpen()).isFalse();
            warnings = log.warnings();
        }
        assertThat(warnings).singleElement().asString().startsWith("GET /b: 200 response cut after 0 body bytes")
                .doesNotContain("500");
    }

    /**
     * A 505 for another protocol version (an HTTP/2 client's {@code PRI *} preface) and a 501 for a transfer coding edge
     * does not decode refuse what the client asked for: no warning, as nginx logs them at info level. Each was a WARN,
     * so every HTTP/2 prior-knowledge client or probe left one; a 500 still is.
     */
    @Test
    void refusingAVersionOrATransferCodingIsNoWarning() {
        List<String> warnings;
        try (CapturedLog log = CapturedLog.of(ServerExchange.class)) {
            open(exchange -> { });
            assertThat(EmbeddedClient.send(client, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")).startsWith("HTTP/1.1 505 ");
            open(exchange -> { });
            assertThat(EmbeddedClient.send(client, "POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked"
                    + "\r\n\r\n")).startsWith("HTTP/1.1 501 ");
            open(exchange -> exchange.fail(new IllegalStateException("a responder's bug")));
            assertThat(EmbeddedClient.send(client, "GET /a HTTP/1.1\r\nHost: a\r\n\r\n")).startsWith("HTTP/1.1 500 ");
            warnings = log.warnings();
        }
        assertThat(warnings).singleElement().asString().startsWith("GET /a -> 500");
    }

    /**
     * A FastCGI queue's 503 says its group's queue.retry-after (whole seconds; 0 leaves the field out, as nginx and
     * HAProxy send none); another 503 says the server's 1 s.
     */
    @Test
    void aQueues503SaysItsGroupsRetryAfter() {
        open(exchange -> exchange.fail(new QueueTimeoutException("fastcgi group php", Duration.ofSeconds(1), null, 90)));
        assertThat(EmbeddedClient.send(client, "GET /a HTTP/1.1\r\nHost: a\r\n\r\n"))
                .startsWith("HTTP/1.1 503 ").containsIgnoringCase("\r\nretry-after: 90\r\n");
        open(exchange -> exchange.fail(new QueueFullException("fastcgi group php", 10, 0)));
        assertThat(EmbeddedClient.send(client, "GET /a HTTP/1.1\r\nHost: a\r\n\r\n"))
                .startsWith("HTTP/1.1 503 ").doesNotContainIgnoringCase("retry-after");
        open(exchange -> exchange.fail(new QueueFullException("fastcgi group php", 10)));
        assertThat(EmbeddedClient.send(client, "GET /a HTTP/1.1\r\nHost: a\r\n\r\n"))
                .startsWith("HTTP/1.1 503 ").containsIgnoringCase("\r\nretry-after: 1\r\n");
        open(exchange -> exchange.sendError(HttpResponseStatus.SERVICE_UNAVAILABLE));
        assertThat(EmbeddedClient.send(client, "GET /a HTTP/1.1\r\nHost: a\r\n\r\n"))
                .startsWith("HTTP/1.1 503 ").containsIgnoringCase("\r\nretry-after: 1\r\n");
    }

    @Test
    void anInternalRedirectIsAnsweredForTheNewPathWithTheQueryAndTheSentUriKept() {
        EchoResponder echo = new EchoResponder();
        List<String> uris = new ArrayList<>();
        open(exchange -> {
            uris.add(exchange.request().uri());
            if (exchange.path().equals("/dir/")) {
                exchange.redirect("/dir/index.php");
            } else {
                echo.respond(exchange);
            }
        });
        String answer = EmbeddedClient.send(client, "GET /dir/?a=1 HTTP/1.1\r\nHost: a\r\n\r\n");
        assertThat(answer).startsWith("HTTP/1.1 200 ").endsWith("/dir/index.php?a=1 body=0");
        assertThat(uris).as("the request as sent, before and after").containsExactly("/dir/?a=1", "/dir/?a=1");
        assertThat(EmbeddedClient.send(client, "GET /next HTTP/1.1\r\nHost: a\r\n\r\n"))
                .as("the connection goes on").startsWith("HTTP/1.1 200 ").endsWith("/next? body=0");
    }

    @Test
    void internalRedirectsInALoopEndIn500() {
        int[] redirects = new int[1];
        open(exchange -> {
            redirects[0]++;
            exchange.redirect(exchange.path().equals("/a") ? "/b" : "/a");
        });
        assertThat(EmbeddedClient.send(client, "GET /a HTTP/1.1\r\nHost: a\r\n\r\n")).startsWith("HTTP/1.1 500 ");
        assertThat(redirects[0]).as("the first answer and ten redirects").isEqualTo(11);
    }

    @Test
    void routesReplacedWithNothingRunningAreIdleAtOnce() {
        open(new EchoResponder());
        assertThat(EmbeddedClient.send(client, "GET /a HTTP/1.1\r\nHost: a\r\n\r\n")).startsWith("HTTP/1.1 200 ");
        assertThat(context.replaceRoutes(new Router(settings.sites(), settings.defaultSite()), location -> null,
                settings.server().limits().body(), Map.of(), List.of()))
                .isDone();
        assertThat(EmbeddedClient.send(client, "GET /a HTTP/1.1\r\nHost: a\r\n\r\n"))
                .as("no responder in the new routes").startsWith("HTTP/1.1 404 ");
    }

    @AfterEach
    void close() {
        if (client != null) {
            client.finishAndReleaseAll();
        }
    }

    /**
     * An upload in 1-byte chunks that came in one read reaches the exchange's body consumer in a few pieces, not one a
     * chunk as Netty's decoder makes them (each then counted, checked and spooled on its own), its bytes whole and in
     * order, no piece over {@link StrictHttpServerCodec#GATHERED_MOST} bytes; a body over the limit in such chunks, in
     * the same read, is still 413.
     */
    @Test
    void aBodyOfManySmallChunksInOneReadReachesTheExchangeInAFewPieces() {
        List<Integer> pieces = new ArrayList<>();
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        open(exchange -> exchange.readBody(content -> {
            pieces.add(content.content().readableBytes());
            body.writeBytes(ByteBufUtil.getBytes(content.content()));
            boolean last = content instanceof LastHttpContent;
            content.release();
            if (last) {
                DefaultFullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                        HttpResponseStatus.NO_CONTENT);
                exchange.complete(exchange.writeAndFlush(response));
            }
        }));
        int chunks = 100_000;
        StringBuilder wire = new StringBuilder("POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n");
        StringBuilder sent = new StringBuilder(chunks);
        for (int i = 0; i < chunks; i++) {
            char c = (char) ('a' + i % 26);
            sent.append(c);
            wire.append("1\r\n").append(c).append("\r\n");
        }
        assertThat(EmbeddedClient.send(client, wire.append("0\r\n\r\n").toString())).startsWith("HTTP/1.1 204 ");
        assertThat(body.toString(StandardCharsets.US_ASCII)).isEqualTo(sent.toString());
        assertThat(pieces).as("100 000 chunks of one read, at most 64 KiB a piece, then the last")
                .hasSizeLessThanOrEqualTo(4)
                .allSatisfy(size -> assertThat(size).isLessThanOrEqualTo(StrictHttpServerCodec.GATHERED_MOST));

        long limit = settings.server().limits().body();
        StringBuilder over = new StringBuilder("POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n");
        for (long i = 0; i <= limit / 4096; i++) {
            over.append("1000\r\n").append("x".repeat(4096)).append("\r\n");
        }
        assertThat(EmbeddedClient.send(client, over.toString())).as("past the limit, in pieces of one read")
                .startsWith("HTTP/1.1 413 ");
    }

    @Test
    void answerBeforeTheBodyEndedWhileReadingWasPausedResumesReading() {
        // As a FastCGI backend that answers while its socket refused more body: the responder had paused
        // the client's reading, and the exchange ends before the rest of the body was read.
        open(exchange -> exchange.readBody(content -> {
            content.release();
            exchange.pauseBody(true);
            DefaultFullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
            response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, 0);
            exchange.complete(exchange.writeAndFlush(response));
        }));
        String response = EmbeddedClient.send(client, "POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n01234");
        assertThat(response).startsWith("HTTP/1.1 200 ").doesNotContainIgnoringCase("connection: close");
        assertThat(client.isActive()).isTrue();
        assertThat(client.config().isAutoRead()).as("the rest of the body and the next request are read").isTrue();
    }

    @Test
    void aBodyPauseAndAPipeliningPauseEachHoldTheReadingUntilTheirOwnOwnerUndoesThem() {
        Exchange[] posts = new Exchange[2];
        EchoResponder echo = new EchoResponder();
        open(exchange -> {
            if (!exchange.path().startsWith("/up")) {
                echo.respond(exchange);
                return;
            }
            // as a spooled body whose disk lags: reading paused at its first chunk, the answer left for later
            posts[posts[0] == null ? 0 : 1] = exchange;
            exchange.readBody(content -> {
                content.release();
                exchange.pauseBody(true);
            });
        });
        EmbeddedClient.send(client, "POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n01234"
                + "POST /up2 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n56789");
        assertThat(client.config().isAutoRead()).isFalse();
        posts[0].pauseBody(false);
        assertThat(client.config().isAutoRead()).as("a request still waits behind the running one").isFalse();
        DefaultFullHttpResponse ok = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        ok.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, 0);
        posts[0].complete(posts[0].writeAndFlush(ok));
        assertThat(posts[1]).as("the pipelined POST runs").isNotNull();
        assertThat(client.config().isAutoRead()).as("nothing pipelined any more, but its body paused").isFalse();
        posts[0].pauseBody(false); // an exchange that ended has no say
        assertThat(client.config().isAutoRead()).isFalse();
        posts[1].pauseBody(false);
        assertThat(client.config().isAutoRead()).isTrue();
    }

    private static final String EXPECTING_POST =
            "POST /up HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n";

    @Test
    void expectContinueAnsweredWithoutReadingTheBodyGetsNo100AndTheConnectionCloses() {
        // The client may hold its body back for good, or send it late: what follows can't be read as a request.
        open(exchange -> exchange.sendError(HttpResponseStatus.METHOD_NOT_ALLOWED));
        String response = EmbeddedClient.send(client, EXPECTING_POST);
        assertThat(response).startsWith("HTTP/1.1 405 ").doesNotContain("100 Continue")
                .containsIgnoringCase("connection: close");
        assertThat(client.isActive()).isFalse();
    }

    @Test
    void expectContinueToALocationWithoutAResponderIs404WithoutA100() {
        open(null);
        String response = EmbeddedClient.send(client, EXPECTING_POST);
        assertThat(response).startsWith("HTTP/1.1 404 ").doesNotContain("100 Continue")
                .containsIgnoringCase("connection: close");
        assertThat(client.isActive()).isFalse();
    }

    @Test
    void expectContinueIsSentWhenTheResponderAsksForTheBodyNotBefore() {
        Exchange[] running = {null};
        open(exchange -> running[0] = exchange); // asks for the body later, as FastCGI does once it has a backend
        assertThat(EmbeddedClient.send(client, EXPECTING_POST)).isEmpty();
        new EchoResponder().respond(running[0]);
        assertThat(EmbeddedClient.received(client)).isEqualTo("HTTP/1.1 100 Continue\r\n\r\n");
        assertThat(EmbeddedClient.send(client, "hello")).startsWith("HTTP/1.1 200 ").endsWith("/up? body=5")
                .doesNotContainIgnoringCase("connection: close");
        assertThat(client.isActive()).isTrue();
    }

    @Test
    void pipelinedExpectContinueWaitsForTheEndOfTheResponseBeingStreamed() {
        Exchange[] streaming = {null};
        EchoResponder echo = new EchoResponder();
        open(exchange -> {
            if (!exchange.path().equals("/stream")) {
                echo.respond(exchange);
                return;
            }
            // as a PHP response relayed chunk by chunk: the head and a first chunk out, the rest to come
            DefaultHttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
            HttpUtil.setTransferEncodingChunked(head, true);
            exchange.write(head);
            exchange.writeAndFlush(new DefaultHttpContent(Unpooled.copiedBuffer("first", StandardCharsets.US_ASCII)));
            streaming[0] = exchange;
        });
        String out = EmbeddedClient.send(client, "GET /stream HTTP/1.1\r\nHost: a\r\n\r\n" + EXPECTING_POST);
        assertThat(out).startsWith("HTTP/1.1 200 ").endsWith("5\r\nfirst\r\n");
        assertThat(client.isActive()).isTrue();
        Exchange first = streaming[0];
        first.write(new DefaultHttpContent(Unpooled.copiedBuffer("last", StandardCharsets.US_ASCII)));
        first.complete(first.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT));
        assertThat(EmbeddedClient.received(client)).isEqualTo("4\r\nlast\r\n0\r\n\r\nHTTP/1.1 100 Continue\r\n\r\n");
        assertThat(EmbeddedClient.send(client, "hello")).startsWith("HTTP/1.1 200 ").endsWith("/up? body=5");
        assertThat(client.isActive()).isTrue();
    }

    @Test
    void expectContinueIsNotSentOnceTheResponseHeadIsOut() {
        open(exchange -> {
            DefaultHttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
            HttpUtil.setTransferEncodingChunked(head, true);
            exchange.writeAndFlush(head);
            exchange.readBody(content -> content.release());
        });
        assertThat(EmbeddedClient.send(client, EXPECTING_POST)).startsWith("HTTP/1.1 200 ")
                .doesNotContain("100 Continue").containsIgnoringCase("connection: close");
    }

    @Test
    void http10ExpectContinueIsIgnored() {
        open(new EchoResponder());
        assertThat(EmbeddedClient.send(client,
                "POST /up HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")).isEmpty();
        assertThat(EmbeddedClient.send(client, "hello")).startsWith("HTTP/1.1 200 ").endsWith("/up? body=5")
                .doesNotContain("100 Continue");
    }

    /**
     * An expectation edge does not know, or a list that is not "100-continue" alone, is ignored as nginx ignores it:
     * the request is answered, without a 100, and the connection is kept.
     */
    @ParameterizedTest
    @ValueSource(strings = {"200-ok", "100-continue, foo", "something"})
    void anUnknownExpectationIsIgnored(String expectation) {
        open(new EchoResponder());
        assertThat(EmbeddedClient.send(client,
                "POST /up HTTP/1.1\r\nHost: a\r\nExpect: " + expectation + "\r\nContent-Length: 5\r\n\r\n")).isEmpty();
        assertThat(EmbeddedClient.send(client, "hello")).startsWith("HTTP/1.1 200 ").endsWith("/up? body=5")
                .doesNotContain("100 Continue");
        assertThat(client.isActive()).isTrue();
    }

    @Test
    void theBodyTimeoutOfAnExpectContinueRequestCountsFromThe100() {
        Exchange[] running = {null};
        boolean[] incomplete = {false};
        open(exchange -> running[0] = exchange);
        client.freezeTime();
        assertThat(EmbeddedClient.send(client, EXPECTING_POST)).isEmpty();
        client.advanceTimeBy(50, TimeUnit.SECONDS); // the client waits for edge, not edge for the client
        client.runScheduledPendingTasks();
        running[0].readBody(content -> content.release(), () -> incomplete[0] = true);
        assertThat(EmbeddedClient.received(client)).isEqualTo("HTTP/1.1 100 Continue\r\n\r\n");
        client.advanceTimeBy(59, TimeUnit.SECONDS);
        client.runScheduledPendingTasks();
        assertThat(client.isActive()).isTrue();
        assertThat(incomplete[0]).isFalse();
        client.advanceTimeBy(1, TimeUnit.SECONDS);
        client.runScheduledPendingTasks();
        assertThat(EmbeddedClient.received(client)).startsWith("HTTP/1.1 408 ");
        assertThat(incomplete[0]).isTrue();
    }

    @Test
    void bodySilentForTheBodyTimeoutIs408AndTheResponderIsTold() {
        boolean[] incomplete = {false};
        open(exchange -> exchange.readBody(content -> content.release(), () -> incomplete[0] = true));
        client.freezeTime();
        assertThat(EmbeddedClient.send(client, "POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n01234"))
                .isEmpty();
        client.advanceTimeBy(59, TimeUnit.SECONDS);
        client.runScheduledPendingTasks();
        assertThat(incomplete[0]).isFalse();
        client.advanceTimeBy(1, TimeUnit.SECONDS);
        client.runScheduledPendingTasks();
        assertThat(EmbeddedClient.received(client)).startsWith("HTTP/1.1 408 ");
        assertThat(client.isActive()).isFalse();
        assertThat(incomplete[0]).as("the responder lets its backend go").isTrue();
    }

    @Test
    void bodySilentAfterTheResponseHeadClosesTheConnection() {
        boolean[] incomplete = {false};
        open(exchange -> {
            DefaultHttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
            HttpUtil.setTransferEncodingChunked(head, true);
            exchange.writeAndFlush(head);
            exchange.readBody(content -> content.release(), () -> incomplete[0] = true);
        });
        client.freezeTime();
        assertThat(EmbeddedClient.send(client, "POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n01234"))
                .startsWith("HTTP/1.1 200 ");
        client.advanceTimeBy(60, TimeUnit.SECONDS);
        client.runScheduledPendingTasks();
        assertThat(EmbeddedClient.received(client)).isEmpty();
        assertThat(client.isActive()).isFalse();
        assertThat(incomplete[0]).isTrue();
    }

    @Test
    void traceIs405WithAllowBeforeAnyResponderAndTheConnectionGoesOn() {
        boolean[] responded = {false};
        open(exchange -> {
            responded[0] = true;
            new EchoResponder().respond(exchange);
        });
        String response = EmbeddedClient.send(client, "TRACE /index.php HTTP/1.1\r\nHost: a\r\nCookie: s=1\r\n\r\n");
        assertThat(response).startsWith("HTTP/1.1 405 ").containsIgnoringCase("allow: GET, HEAD\r\n")
                .doesNotContain("s=1").doesNotContainIgnoringCase("connection: close");
        assertThat(responded[0]).as("no responder sees the request").isFalse();
        assertThat(EmbeddedClient.send(client, "GET /next HTTP/1.1\r\nHost: a\r\n\r\n")).startsWith("HTTP/1.1 200 ");
    }

    /**
     * As nginx 1.22: a CONNECT is never passed on, whatever its target. A path is 405 and the connection closes (what
     * follows may be a tunnel's bytes); an authority (the form CONNECT is meant for) is 400, as its target is no path.
     * A CONNECT of a path was routed as a GET is, to PHP, and answered 200.
     */
    @Test
    void connectIs405OrForAnAuthority400BeforeAnyResponderAndTheConnectionCloses() {
        boolean[] responded = {false};
        open(exchange -> {
            responded[0] = true;
            new EchoResponder().respond(exchange);
        });
        String response = EmbeddedClient.send(client, "CONNECT /pid.php HTTP/1.1\r\nHost: a\r\n\r\n"
                + "GET /next HTTP/1.1\r\nHost: a\r\n\r\n");
        assertThat(response).startsWith("HTTP/1.1 405 ").containsIgnoringCase("allow: GET, HEAD\r\n")
                .containsIgnoringCase("connection: close").doesNotContain("/next");
        assertThat(client.isActive()).isFalse();
        client.finishAndReleaseAll();
        open(exchange -> {
            responded[0] = true;
            new EchoResponder().respond(exchange);
        });
        assertThat(EmbeddedClient.send(client, "CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n"))
                .startsWith("HTTP/1.1 400 ");
        assertThat(responded[0]).as("no responder sees a CONNECT").isFalse();
    }

    /**
     * As nginx: a chunk whose size line takes the body over the limit (1 MiB here: 512 KiB read, then 512 KiB + 1
     * declared) is 413 at that line, before its data, and the connection closes. It was read until a byte past the
     * limit had come.
     */
    @Test
    void aChunkSizeLineOverTheBodyLimitIs413AtOnceAndCloses() {
        boolean[] incomplete = {false};
        open(exchange -> exchange.readBody(HttpContent::release, () -> incomplete[0] = true));
        try (CapturedLog log = CapturedLog.of(HttpConnectionHandler.class)) {
            String response = EmbeddedClient.send(client, "POST /up HTTP/1.1\r\nHost: a\r\n"
                    + "Transfer-Encoding: chunked\r\n\r\n80000\r\n" + "x".repeat(0x80000) + "\r\n80001\r\n");
            assertThat(response).startsWith("HTTP/1.1 413 ").containsIgnoringCase("connection: close");
            assertThat(log.warnings()).as("in the error log, as nginx's \"client intended to send too large body\"")
                    .containsExactly("413: - POST /up: a body past its limit of 1048576 bytes "
                            + "(server.limits.body, or the location's body-limit)");
        }
        assertThat(client.isActive()).isFalse();
        assertThat(incomplete[0]).as("the responder is told its body never ends").isTrue();
    }

    /** Opens a connection whose responder holds its first exchange (in the array returned) and answers others 404. */
    private Exchange[] openHoldingTheFirst() {
        Exchange[] first = new Exchange[1];
        open(exchange -> {
            if (first[0] == null) {
                first[0] = exchange;
            } else {
                exchange.sendError(HttpResponseStatus.NOT_FOUND);
            }
        });
        return first;
    }

    /** A queued request's body over the limit is logged as that request's, not the one running ahead of it. */
    @Test
    void aQueuedRequestsBodyOverTheLimitIsLoggedAsItsOwn() {
        Exchange[] slow = openHoldingTheFirst();
        try (CapturedLog log = CapturedLog.of(HttpConnectionHandler.class)) {
            assertThat(EmbeddedClient.send(client, "GET /slow HTTP/1.1\r\nHost: a\r\n\r\n"
                    + "POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n100001\r\n")).isEmpty();
            assertThat(log.warnings()).as("nothing yet: the running GET sent no body").isEmpty();
            answerInTheRequestsVersion(slow[0]);
            assertThat(EmbeddedClient.received(client)).startsWith("HTTP/1.1 200 ").contains("HTTP/1.1 413 ");
            assertThat(log.warnings()).containsExactly("413: - POST /up: a body past its limit of 1048576 bytes, "
                    + "the largest any location takes (server.limits.body, or the location's body-limit)");
        }
    }

    /** A declared body over the limit: 413 before it is read, and a line in the error log that says so. */
    @Test
    void aDeclaredBodyOverTheLimitIs413AndLogged() {
        boolean[] responded = {false};
        open(exchange -> responded[0] = true);
        try (CapturedLog log = CapturedLog.of(HttpConnectionHandler.class)) {
            String response = EmbeddedClient.send(client, "POST /up?a=b HTTP/1.1\r\nHost: a\r\n"
                    + "Content-Length: 2000000\r\n\r\n");
            assertThat(response).startsWith("HTTP/1.1 413 ");
            assertThat(log.warnings()).containsExactly("413: - POST /up?a=b: a body of 2000000 bytes, over its "
                    + "limit of 1048576 (server.limits.body, or the location's body-limit)");
        }
        assertThat(responded[0]).isFalse();
    }

    @Test
    void chunksDeclaringTheBodyLimitExactlyAreRead() {
        open(new EchoResponder());
        String chunk = "80000\r\n" + "x".repeat(0x80000) + "\r\n";
        String response = EmbeddedClient.send(client, "POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
                + "\r\n" + chunk + chunk + "0\r\n\r\n");
        assertThat(response).startsWith("HTTP/1.1 200 ").endsWith("/up? body=1048576");
        assertThat(client.isActive()).isTrue();
    }

    /**
     * A TRACE's 405 says what its location takes, as a 405 must (RFC 9110 15.5.6): a PHP location takes POST and the
     * rest, a cached one PURGE too. It said GET and HEAD wherever it was sent.
     */
    @Test
    void traceIs405WithTheAllowOfItsLocation() {
        LocationSettings php = new LocationSettings("~ \\.php$", LocationSettings.Kind.REGEX, "\\.php$",
                Pattern.compile("\\.php$"), null, LocationSettings.Handler.FASTCGI, "php");
        LocationSettings cached = LocationSettings.builder("^~ /cached/", LocationSettings.Kind.PREFIX_NO_REGEX,
                "/cached/", null, null, LocationSettings.Handler.FASTCGI, "php").cache(true).build();
        LocationSettings status = new LocationSettings("= /edge-status", LocationSettings.Kind.EXACT, "/edge-status",
                null, null, LocationSettings.Handler.STATUS, null);
        LocationSettings files = new LocationSettings("/static/", LocationSettings.Kind.PREFIX, "/static/", null, null,
                LocationSettings.Handler.STATIC, null);
        boolean[] responded = {false};
        open(exchange -> responded[0] = true, TestServers.settings(TestServers.server(TestServers.limits(),
                TestServers.timeouts(Duration.ofSeconds(10)), 10), root, List.of(php, cached, status, files)));
        String scripts = "GET, HEAD, POST, PUT, DELETE, OPTIONS, PATCH";
        assertThat(allowOfTrace("/index.php")).isEqualTo(scripts);
        assertThat(allowOfTrace("/cached/page")).isEqualTo(scripts + ", PURGE");
        assertThat(allowOfTrace("/edge-status")).isEqualTo("GET, HEAD");
        assertThat(allowOfTrace("/static/a.txt")).isEqualTo("GET, HEAD");
        assertThat(allowOfTrace("/elsewhere")).as("no location: every method is 404 there").isEmpty();
        assertThat(responded[0]).as("no responder sees a TRACE").isFalse();
        assertThat(client.isActive()).isTrue();
    }

    /** The Allow of the answer to a TRACE of {@code path}, which must be a 405. */
    private String allowOfTrace(String path) {
        String response = EmbeddedClient.send(client, "TRACE " + path + " HTTP/1.1\r\nHost: a\r\n\r\n");
        assertThat(response).startsWith("HTTP/1.1 405 ");
        Matcher allow = Pattern.compile("(?im)^allow: ?([^\r\n]*)").matcher(response);
        assertThat(allow.find()).as("an Allow in %s", response).isTrue();
        return allow.group(1);
    }

    @ParameterizedTest
    @ValueSource(strings = {"GET\r/php/env.php\u000bHTTP/1.1", "GET /a.txt\f\f\fHTTP/1.1", "GET /a.txt http/1.1",
            " GET /a.txt HTTP/1.1", "GET  /a.txt HTTP/1.1", "GET /a.txt\tHTTP/1.1"})
    void aRequestLineNotSplitByOneSpaceOrWithALowerCaseVersionIs400AndCloses(String line) {
        boolean[] responded = {false};
        open(exchange -> responded[0] = true);
        String response = EmbeddedClient.send(client, line + "\r\nHost: a\r\n\r\n");
        assertThat(response).startsWith("HTTP/1.1 400 ").containsIgnoringCase("connection: close");
        assertThat(client.isActive()).isFalse();
        assertThat(responded[0]).as("no responder sees the request").isFalse();
    }

    /** As nginx: its parser takes only A-Z, '_' and '-' in a method; Netty's any token. */
    @ParameterizedTest
    @ValueSource(strings = {"get", "Get", "gET", "GET1", "GET.", "PO$T"})
    void aMethodOtherThanUpperCaseLettersUnderscoreAndHyphenIs400AndCloses(String method) {
        boolean[] responded = {false};
        open(exchange -> responded[0] = true);
        String response = EmbeddedClient.send(client, method + " /a.txt HTTP/1.1\r\nHost: a\r\n\r\n");
        assertThat(response).startsWith("HTTP/1.1 400 ").containsIgnoringCase("connection: close");
        assertThat(client.isActive()).isFalse();
        assertThat(responded[0]).as("no responder sees the request").isFalse();
    }

    @ParameterizedTest
    @ValueSource(strings = {"GET", "PURGE", "M-SEARCH", "VERSION_CONTROL"})
    void aMethodOfUpperCaseLettersUnderscoreAndHyphenReachesTheResponder(String method) {
        open(new EchoResponder());
        String response = EmbeddedClient.send(client, method + " /a.txt HTTP/1.1\r\nHost: a\r\n\r\n");
        assertThat(response).startsWith("HTTP/1.1 200 ").endsWith("/a.txt? body=0");
        assertThat(client.isActive()).isTrue();
    }

    /**
     * A field of which a request has one value, sent twice: which one a cache or proxy in front read is anyone's guess,
     * so the request is refused, as nginx refuses it ("client sent duplicate header line").
     */
    @ParameterizedTest
    @ValueSource(strings = {"If-Modified-Since", "If-Unmodified-Since", "If-Range", "Content-Range"})
    void aSingleValueFieldSentTwiceIs400AndCloses(String name) {
        boolean[] responded = {false};
        open(exchange -> responded[0] = true);
        String response = EmbeddedClient.send(client, "GET /a HTTP/1.1\r\nHost: a\r\n" + name
                + ": Thu, 01 Jan 2026 00:00:00 GMT\r\n" + name + ": Fri, 02 Jan 2026 00:00:00 GMT\r\n\r\n");
        assertThat(response).startsWith("HTTP/1.1 400 ").containsIgnoringCase("connection: close");
        assertThat(client.isActive()).isFalse();
        assertThat(responded[0]).as("no responder sees the request").isFalse();
    }

    /** A list field may come in several lines (RFC 9110 5.3), nginx 1.22.1 notwithstanding. */
    @Test
    void aListOfEntityTagsInTwoLinesIsRead() {
        open(new EchoResponder());
        assertThat(EmbeddedClient.send(client, "GET /a HTTP/1.1\r\nHost: a\r\nIf-None-Match: \"x\"\r\n"
                + "If-None-Match: \"y\"\r\n\r\n")).startsWith("HTTP/1.1 200 ");
        assertThat(client.isActive()).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"localhost/x", "localhost, evil", "local host/../x", "a@localhost", "a\\b", "a:8o",
            "[::1", "a\tb"})
    void hostThatIsNotHostAndPortIs400AndCloses(String host) {
        boolean[] responded = {false};
        open(exchange -> responded[0] = true);
        String response = EmbeddedClient.send(client, "GET /cached HTTP/1.1\r\nHost: " + host + "\r\n\r\n");
        assertThat(response).startsWith("HTTP/1.1 400 ").containsIgnoringCase("connection: close");
        assertThat(client.isActive()).isFalse();
        assertThat(responded[0]).as("no responder sees the request").isFalse();
    }

    @ParameterizedTest
    @ValueSource(strings = {"/ind\u0001ex.html", "/index.html?\u001b[31mred\u001b[0m\u007f"})
    void controlCharactersInTheTargetAre400AndClose(String target) {
        boolean[] responded = {false};
        open(exchange -> responded[0] = true);
        String response = EmbeddedClient.send(client, "GET " + target + " HTTP/1.1\r\nHost: a\r\n\r\n");
        assertThat(response).startsWith("HTTP/1.1 400 ").containsIgnoringCase("connection: close");
        assertThat(client.isActive()).isFalse();
        assertThat(responded[0]).isFalse();
    }

    @Test
    void absoluteFormWhoseAuthorityIsNotHostAndPortIs400AndCloses() {
        boolean[] responded = {false};
        open(exchange -> responded[0] = true);
        String response = EmbeddedClient.send(client, "GET http://a,b/cached HTTP/1.1\r\nHost: a\r\n\r\n");
        assertThat(response).startsWith("HTTP/1.1 400 ").containsIgnoringCase("connection: close");
        assertThat(client.isActive()).isFalse();
        assertThat(responded[0]).isFalse();
    }

    @ParameterizedTest
    @ValueSource(strings = {"HTTP/2.0", "HTTP/3.0", "HTTP/0.9"})
    void aMajorVersionOtherThanOneIs505AndCloses(String version) {
        boolean[] responded = {false};
        open(exchange -> responded[0] = true);
        String response = EmbeddedClient.send(client, "GET /index.html " + version + "\r\n\r\n");
        assertThat(response).startsWith("HTTP/1.1 505 ").containsIgnoringCase("connection: close");
        assertThat(client.isActive()).isFalse();
        assertThat(responded[0]).isFalse();
    }

    @ParameterizedTest
    @ValueSource(strings = {"HTTP/1.2", "HTTP/1.9"})
    void aMinorVersionAboveOneWithoutHostIs400AndCloses(String version) {
        open(HttpConnectionHandlerTest::answerInTheRequestsVersion);
        assertThat(EmbeddedClient.send(client, "GET / " + version + "\r\n\r\n")).startsWith("HTTP/1.1 400 ");
        assertThat(client.isActive()).isFalse();
    }

    @ParameterizedTest
    @ValueSource(strings = {"HTTP/1.2", "HTTP/1.9"})
    void aMinorVersionAboveOneIsHttp11(String version) {
        HttpVersion[] seen = {null};
        open(exchange -> {
            seen[0] = exchange.request().protocolVersion();
            answerInTheRequestsVersion(exchange);
        });
        String response = EmbeddedClient.send(client, "GET / " + version + "\r\nHost: a\r\n\r\n");
        assertThat(response).startsWith("HTTP/1.1 200 ").doesNotContainIgnoringCase("connection:");
        assertThat(client.isActive()).as("kept alive by default").isTrue();
        assertThat(seen[0]).isEqualTo(HttpVersion.HTTP_1_1);
    }

    @Test
    void http10IsAnsweredInHttp11AndKeepsItsKeepAliveRules() {
        open(HttpConnectionHandlerTest::answerInTheRequestsVersion);
        String kept = EmbeddedClient.send(client, "GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        assertThat(kept).startsWith("HTTP/1.1 200 ").containsIgnoringCase("connection: keep-alive");
        assertThat(client.isActive()).isTrue();

        String closed = EmbeddedClient.send(client, "GET /b HTTP/1.0\r\n\r\n");
        assertThat(closed).startsWith("HTTP/1.1 200 ").containsIgnoringCase("connection: close");
        assertThat(client.isActive()).isFalse();
    }

    @Test
    void noRequestStartsWhileTheClientLeavesItsAnswersUnreadAndAllRunOnceItReads() {
        List<String> started = new ArrayList<>();
        open(exchange -> {
            started.add(exchange.path());
            answerInTheRequestsVersion(exchange);
        });
        // the client's socket full: the channel is not writable (as over the high water mark)
        client.unsafe().outboundBuffer().setUserDefinedWritability(1, false);
        String sent = EmbeddedClient.send(client, "GET /a HTTP/1.1\r\nHost: a\r\n\r\n"
                + "GET /b HTTP/1.1\r\nHost: a\r\n\r\nGET /c HTTP/1.1\r\nHost: a\r\n\r\n");
        assertThat(sent).isEmpty();
        assertThat(started).as("nothing more piles up for a client that does not read").isEmpty();
        assertThat(client.config().isAutoRead()).isFalse();

        client.unsafe().outboundBuffer().setUserDefinedWritability(1, true);
        client.runPendingTasks(); // the writability event
        assertThat(started).containsExactly("/a", "/b", "/c");
        assertThat(EmbeddedClient.received(client).split("HTTP/1.1 200 ", -1)).hasSize(4);
        assertThat(client.config().isAutoRead()).isTrue();
        assertThat(client.isActive()).isTrue();
    }

    @Test
    void anAnswerThatLeavesTheChannelUnwritableHoldsThePipelinedRequestsBehindIt() {
        List<String> started = new ArrayList<>();
        Exchange[] first = new Exchange[1];
        open(exchange -> {
            started.add(exchange.path());
            if (first[0] == null) {
                first[0] = exchange; // answered below, as the socket fills
            } else {
                answerInTheRequestsVersion(exchange);
            }
        });
        EmbeddedClient.send(client, "GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\n\r\n");
        client.unsafe().outboundBuffer().setUserDefinedWritability(1, false);
        answerInTheRequestsVersion(first[0]);
        assertThat(started).containsExactly("/a");
        assertThat(client.config().isAutoRead()).isFalse();
        client.unsafe().outboundBuffer().setUserDefinedWritability(1, true);
        client.runPendingTasks(); // the writability event
        assertThat(started).containsExactly("/a", "/b");
        assertThat(client.config().isAutoRead()).isTrue();
    }

    @Test
    void aRequestStartedBeforeTheWritabilityEventCameStillReadsItsBody() {
        long[] bodyBytes = {0};
        open(exchange -> {
            if (exchange.path().equals("/first")) {
                client.unsafe().outboundBuffer().setUserDefinedWritability(1, false); // its answer fills the socket
                answerInTheRequestsVersion(exchange);
                return;
            }
            exchange.readBody(content -> {
                bodyBytes[0] += content.content().readableBytes();
                content.release();
            });
        });
        EmbeddedClient.send(client, "GET /first HTTP/1.1\r\nHost: a\r\n\r\n");
        assertThat(client.config().isAutoRead()).as("stopped: the client reads nothing").isFalse();
        // writable again, its event not delivered yet, and a request already read is decoded meanwhile
        client.unsafe().outboundBuffer().setUserDefinedWritability(1, true);
        EmbeddedClient.send(client, "POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n");
        client.runPendingTasks();
        assertThat(client.config().isAutoRead()).as("the body must be read").isTrue();
        EmbeddedClient.send(client, "01234");
        assertThat(bodyBytes[0]).isEqualTo(5);
    }

    @Test
    void thousandsOfRequestsPipelinedBehindASlowOneAreAllAnsweredInOrder() {
        // Netty's codec alone fails the connection past 128 pipelined requests, and answering each at once from
        // inside the previous one's end would nest 5 000 deep.
        int count = 5_000;
        Exchange[] slow = openHoldingTheFirst();
        StringBuilder requests = new StringBuilder("GET /slow HTTP/1.1\r\nHost: a\r\n\r\n");
        for (int i = 0; i < count; i++) {
            requests.append("GET /x").append(i).append(" HTTP/1.1\r\nHost: a\r\n\r\n");
        }
        assertThat(EmbeddedClient.send(client, requests.toString())).isEmpty();
        answerInTheRequestsVersion(slow[0]);
        String answers = EmbeddedClient.received(client);
        assertThat(answers).startsWith("HTTP/1.1 200 ");
        assertThat(answers.split("HTTP/1.1 404 ", -1)).hasSize(count + 1);
        assertThat(client.isActive()).isTrue();
        assertThat(client.config().isAutoRead()).isTrue();
    }

    /** As nginx answers any Transfer-Encoding but chunked (Netty's decoder refused most of them: 400). */
    @ParameterizedTest
    @ValueSource(strings = {"gzip, chunked", "foo, chunked", "identity, chunked", "gzip", "identity", "chunked, chunked",
            "chunked;q=1", ""})
    void aTransferCodingOtherThanChunkedIs501AndCloses(String codings) {
        boolean[] responded = {false};
        open(exchange -> responded[0] = true);
        String response = EmbeddedClient.send(client, "POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: " + codings
                + "\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
        assertThat(response).startsWith("HTTP/1.1 501 ").containsIgnoringCase("connection: close");
        assertThat(client.isActive()).isFalse();
        assertThat(responded[0]).isFalse();
    }

    @Test
    void chunkedWithAContentLengthIs400AndCloses() {
        boolean[] responded = {false};
        open(exchange -> responded[0] = true);
        String response = EmbeddedClient.send(client, "POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
                + "Content-Length: 5\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n");
        assertThat(response).startsWith("HTTP/1.1 400 ").containsIgnoringCase("connection: close");
        assertThat(client.isActive()).isFalse();
        assertThat(responded[0]).isFalse();
    }

    /** A Transfer-Encoding field sent twice, whatever each says, as nginx answers it ("duplicate header line"). */
    @ParameterizedTest
    @ValueSource(strings = {"gzip", "chunked"})
    void transferEncodingInTwoLinesIs400AndCloses(String first) {
        boolean[] responded = {false};
        open(exchange -> responded[0] = true);
        String response = EmbeddedClient.send(client, "POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: " + first
                + "\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
        assertThat(response).startsWith("HTTP/1.1 400 ").containsIgnoringCase("connection: close");
        assertThat(client.isActive()).isFalse();
        assertThat(responded[0]).isFalse();
    }

    /** nginx refuses a Transfer-Encoding outside HTTP/1.1 before it looks at the coding: 400, not 501. */
    @Test
    void aTransferCodingInHttp10Is400() {
        open(exchange -> { });
        assertThat(EmbeddedClient.send(client, "POST /up HTTP/1.0\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n"))
                .startsWith("HTTP/1.1 400 ");
    }

    /** nginx checks Host before the coding: a request without one is 400 for that. */
    @ParameterizedTest
    @ValueSource(strings = {"gzip", "gzip, chunked"})
    void aTransferCodingWithoutHostIs400(String coding) {
        open(exchange -> { });
        assertThat(EmbeddedClient.send(client, "POST /up HTTP/1.1\r\nTransfer-Encoding: " + coding + "\r\n\r\n"))
                .startsWith("HTTP/1.1 400 ");
    }

    /** A coding with a Content-Length: 501 as for the coding alone, as nginx answers it (chunked with one is 400). */
    @Test
    void aTransferCodingWithAContentLengthIs501() {
        open(exchange -> { });
        assertThat(EmbeddedClient.send(client, "POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n"
                + "Content-Length: 5\r\n\r\nhello")).startsWith("HTTP/1.1 501 ");
    }

    @Test
    void chunkedInAnyCaseIsRead() {
        open(new EchoResponder());
        String response = EmbeddedClient.send(client, "POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:  Chunked \r\n"
                + "\r\n5\r\nhello\r\n0\r\n\r\n");
        assertThat(response).startsWith("HTTP/1.1 200 ");
        assertThat(client.isActive()).isTrue();
    }

    /** As responders did: the response in the request's version, which the exchange must make HTTP/1.1. */
    private static void answerInTheRequestsVersion(Exchange exchange) {
        DefaultFullHttpResponse response = new DefaultFullHttpResponse(exchange.request().protocolVersion(),
                HttpResponseStatus.OK);
        response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, 0);
        exchange.complete(exchange.writeAndFlush(response));
    }
}
