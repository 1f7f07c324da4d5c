package io.edge.fastcgi.client;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.fastcgi.BackendOverloadedException;
import io.edge.fastcgi.BackendTimeoutException;
import io.edge.fastcgi.BackendUnavailableException;
import io.edge.fastcgi.FcgiProtocolException;
import io.edge.fastcgi.codec.FcgiAbortRequest;
import io.edge.fastcgi.codec.FcgiBeginRequest;
import io.edge.fastcgi.codec.FcgiGetValues;
import io.edge.fastcgi.codec.FcgiNameValues;
import io.edge.fastcgi.codec.FcgiParams;
import io.edge.fastcgi.codec.FcgiRecordDecoder;
import io.edge.fastcgi.codec.FcgiRole;
import io.edge.fastcgi.codec.FcgiStdin;
import io.edge.fastcgi.pool.Lease;
import io.edge.fastcgi.pool.TestLeases;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.ReferenceCounted;
import io.netty.handler.codec.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The backend side is played by the test on an {@link EmbeddedChannel}: it reads what the exchange wrote and
 * answers with hand-built records, garbage, a cut-off record, silence or FCGI_OVERLOADED.
 */
class FcgiExchangeTest {

    static class Recorder implements FcgiExchange.Listener {
        HttpResponse head;
        final StringBuilder body = new StringBuilder();
        boolean ended;
        Throwable error;

        @Override
        public void onHead(HttpResponse h) {
            head = h;
        }

        @Override
        public void onBody(ByteBuf chunk) {
            body.append(chunk.toString(StandardCharsets.ISO_8859_1));
            chunk.release();
        }

        @Override
        public void onEnd() {
            ended = true;
        }

        @Override
        public void onError(Throwable cause) {
            error = cause;
        }
    }

    final EmbeddedChannel backend = new EmbeddedChannel();
    final Recorder recorder = new Recorder();
    TestLeases.Leased leased;

    FcgiExchange start(boolean keepAlive) {
        return start(keepAlive, recorder);
    }

    /** An exchange on a new lease that tells {@code listener}. */
    FcgiExchange start(boolean keepAlive, FcgiExchange.Listener listener) {
        leased = TestLeases.lease(backend, keepAlive);
        return FcgiExchange.start(leased.lease(), List.of(Map.entry("SCRIPT_FILENAME", "/srv/a.php")),
                new FcgiExchange.Options("req-1", 1024, Duration.ofSeconds(5)), listener);
    }

    @AfterEach
    void cleanUp() {
        backend.finishAndReleaseAll();
        if (leased != null) {
            leased.pool().close();
        }
    }

    /** What the exchange wrote, decoded. */
    List<Object> sent() {
        return sent(backend);
    }

    static ByteBuf record(int type, String content) {
        return record(type, 1, content);
    }

    static ByteBuf record(int type, int requestId, String content) {
        byte[] c = content.getBytes(StandardCharsets.ISO_8859_1);
        int pad = (8 - (c.length & 7)) & 7;
        ByteBuf b = Unpooled.buffer();
        b.writeByte(1).writeByte(type).writeShort(requestId).writeShort(c.length).writeByte(pad).writeByte(0);
        b.writeBytes(c).writeZero(pad);
        return b;
    }

    static ByteBuf endRequest(int protocolStatus) {
        return Unpooled.buffer().writeBytes(new byte[] {1, 3, 0, 1, 0, 8, 0, 0, 0, 0, 0, 0, (byte) protocolStatus, 0, 0, 0});
    }

    void assertClosedAndNotPooled() {
        assertThat(backend.isActive()).isFalse();
        assertThat(leased.pool().stats().open()).isZero();
        assertThat(leased.lease().isReleased()).isTrue();
    }

    /**
     * Closed, but its slot still taken: the worker may still run the script. It is free once the linger (the
     * read timeout of {@link TestLeases}, 1 s) has passed.
     */
    void assertClosedAndLingering() {
        assertThat(backend.isActive()).isFalse();
        assertThat(leased.lease().isReleased()).isTrue();
        assertThat(leased.pool().stats().open()).isEqualTo(1);
        assertThat(leased.pool().stats().lingering()).isEqualTo(1);
        backend.advanceTimeBy(1, TimeUnit.SECONDS);
        backend.runScheduledPendingTasks();
        assertThat(leased.pool().stats().open()).isZero();
        assertThat(leased.pool().stats().lingering()).isZero();
    }

    @Test
    void sendsBeginParamsStdinAndDeliversResponse() {
        FcgiExchange exchange = start(true);
        exchange.writeStdin(Unpooled.copiedBuffer("a=1", StandardCharsets.US_ASCII));
        exchange.endStdin();
        List<Object> sent = sent();
        assertThat(sent).hasSize(5);
        assertThat(sent.get(0)).isEqualTo(new FcgiBeginRequest(1, FcgiRole.RESPONDER, true));
        FcgiParams params = (FcgiParams) sent.get(1);
        assertThat(FcgiNameValues.decode(params.content())).containsExactly(Map.entry("SCRIPT_FILENAME", "/srv/a.php"));
        assertThat(((FcgiParams) sent.get(2)).isEndOfStream()).isTrue();
        assertThat(((FcgiStdin) sent.get(3)).content().toString(StandardCharsets.US_ASCII)).isEqualTo("a=1");
        assertThat(((FcgiStdin) sent.get(4)).isEndOfStream()).isTrue();
        sent.forEach(io.netty.util.ReferenceCountUtil::release);

        backend.writeInbound(record(6, "Status: 201 Created\r\nX-A: b\r\n\r\nhel"));
        backend.writeInbound(record(7, "PHP Notice: oops\n"));
        backend.writeInbound(record(6, "lo"), record(6, ""), endRequest(0));
        assertThat(recorder.head.status().code()).isEqualTo(201);
        assertThat(recorder.head.headers().get("X-A")).isEqualTo("b");
        assertThat(recorder.body).hasToString("hello");
        assertThat(recorder.ended).isTrue();
        assertThat(recorder.error).isNull();
        assertThat(exchange.isDone()).isTrue();
        // Clean end with keep-alive: pooled as idle, the exchange handler gone, the codec kept.
        assertThat(backend.isActive()).isTrue();
        assertThat(leased.pool().stats().idle()).isEqualTo(1);
        assertThat(((ExchangeSlot) backend.pipeline().get(ExchangeSlot.NAME)).isVacant()).isTrue();
        assertThat(backend.pipeline().get(FcgiRecordDecoder.class)).isNotNull();
    }

    /**
     * Without keep-alive the connection is closed after a clean end, which still counts as one: released REUSABLE, it
     * ends the address's run of failures (released CLOSE, every timeout of the process's life counted towards
     * max-fails, and two addresses with a slow script now and then were both marked down).
     */
    @Test
    void withoutKeepAliveConnectionIsClosedAfterEnd() {
        start(false).endStdin();
        List<Object> sent = sent();
        assertThat(((FcgiBeginRequest) sent.get(0)).keepConn()).isFalse();
        sent.forEach(io.netty.util.ReferenceCountUtil::release);
        backend.writeInbound(record(6, "\r\n"), endRequest(0));
        assertThat(recorder.ended).isTrue();
        assertThat(leased.lease().outcome()).isEqualTo(Lease.Outcome.REUSABLE);
        assertClosedAndNotPooled();
    }

    @Test
    void endBeforeTheRequestBodyEndedClosesTheConnection() {
        // php-fpm after fastcgi_finish_request(), or answering an upload early: STDIN was never terminated,
        // so the next request on this connection would be read as the rest of this body.
        FcgiExchange exchange = start(true);
        exchange.writeStdin(Unpooled.copiedBuffer("part", StandardCharsets.US_ASCII));
        sent().forEach(io.netty.util.ReferenceCountUtil::release);
        backend.writeInbound(record(6, "Status: 200\r\n\r\ndone"), endRequest(0));
        assertThat(recorder.ended).isTrue();
        assertThat(recorder.body).hasToString("done");
        assertThat(leased.pool().stats().idle()).isZero();
        assertClosedAndNotPooled();
    }

    @Test
    void strayDataOnIdleConnectionClosesIt() {
        start(true).endStdin();
        sent().forEach(io.netty.util.ReferenceCountUtil::release);
        backend.writeInbound(record(6, "\r\n"), endRequest(0));
        assertThat(leased.pool().stats().idle()).isEqualTo(1);
        backend.writeInbound(record(6, "late"));
        assertThat(backend.isActive()).isFalse();
        assertThat(leased.pool().stats().open()).isZero();
    }

    @Test
    void garbageIsAProtocolErrorAndConnectionIsNotReused() {
        start(true);
        backend.writeInbound(Unpooled.copiedBuffer("HTTP/1.1 200 OK\r\n", StandardCharsets.US_ASCII));
        assertThat(recorder.error).isInstanceOf(FcgiProtocolException.class).hasMessage("version: 72 (expected: 1)");
        assertClosedAndNotPooled();
    }

    /**
     * No memory for a read buffer (a low -XX:MaxDirectMemorySize under many answers at once): edge's own want, not a
     * backend failure. It was reported as one (502, "BackendUnavailableException: ...: OutOfDirectMemoryError") and
     * counted against the address's health; now the error itself goes to the caller (503) and the lease is let go as
     * CLOSE, nothing counted.
     */
    @Test
    void noMemoryForAReadIsNoBackendFailure() {
        start(true).endStdin();
        sent().forEach(ReferenceCountUtil::release);
        OutOfMemoryError noMemory = new OutOfMemoryError("failed to allocate 262144 byte(s) of direct memory");
        backend.pipeline().fireExceptionCaught(noMemory);
        assertThat(recorder.error).isSameAs(noMemory);
        assertThat(leased.lease().outcome()).isEqualTo(Lease.Outcome.CLOSE);
        assertClosedAndNotPooled();
    }

    /** No memory for a record's buffer as it is written (the encoder's, a flush's copy): as on a read, no backend failure. */
    @Test
    void noMemoryForAWriteIsNoBackendFailure() {
        OutOfMemoryError noMemory = new OutOfMemoryError("failed to allocate 65536 byte(s) of direct memory");
        backend.pipeline().addFirst(new ChannelOutboundHandlerAdapter() {
            @Override
            public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
                ReferenceCountUtil.release(msg);
                promise.setFailure(noMemory);
            }
        });
        start(true).endStdin();
        assertThat(recorder.error).isSameAs(noMemory);
        assertThat(leased.lease().outcome()).isEqualTo(Lease.Outcome.CLOSE);
        assertClosedAndNotPooled();
    }

    /** STDOUT or STDERR of a request this connection never carried: a protocol error that names the record. */
    @ParameterizedTest
    @ValueSource(ints = {6, 7})
    void aStreamRecordForAnotherRequestIsAProtocolErrorNamingIt(int type) {
        start(true).endStdin();
        List<ReferenceCounted> decoded = new ArrayList<>();
        backend.pipeline().addAfter("fcgi-decoder", "records", new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                decoded.add((ReferenceCounted) msg);
                ctx.fireChannelRead(msg);
            }
        });
        backend.writeInbound(record(type, 2, "Status: 200\r\n\r\nother"));
        assertThat(recorder.error).isInstanceOf(FcgiProtocolException.class).hasMessage("record: "
                + (type == 6 ? "FcgiStdout" : "FcgiStderr")
                + "(requestId=2, 20 bytes) (expected: STDOUT, STDERR or END_REQUEST for request 1)");
        assertThat(decoded).singleElement().as("the record, given back").extracting(ReferenceCounted::refCnt)
                .isEqualTo(0);
        assertClosedAndNotPooled();
    }

    @Test
    void closeMidRecordIsAProtocolError() {
        start(true).endStdin();
        ByteBuf full = record(6, "Status: 200\r\n\r\nbody");
        backend.writeInbound(full.readRetainedSlice(12));
        full.release();
        backend.close();
        assertThat(recorder.error).isInstanceOf(FcgiProtocolException.class)
                .hasMessageStartingWith("content: 4 bytes at end of stream");
        assertClosedAndNotPooled();
    }

    @Test
    void closeBetweenRecordsBeforeEndIsUnavailable() {
        start(true);
        backend.writeInbound(record(6, "Status: 200\r\n\r\n"));
        backend.close();
        assertThat(recorder.head).isNotNull();
        assertThat(recorder.error).isInstanceOf(BackendUnavailableException.class);
        assertClosedAndNotPooled();
    }

    /**
     * The head must come within the read timeout of the request's end, as nginx's upstream read timer, which no part of
     * the head moves (the resource audit: a backend that sent a header line every half second held its request for 34
     * minutes); once it is in, the timeout is the longest silence.
     */
    @Test
    void aHeadNotWholeWithinTheReadTimeoutIsBackendTimeoutHoweverItTrickles() {
        FcgiExchange exchange = start(true);
        exchange.endStdin();
        for (int i = 0; i < 4; i++) {
            backend.writeInbound(record(6, "X-Line-" + i + ": a\r\n"));
            backend.writeInbound(record(7, "a notice\n"));
            backend.advanceTimeBy(1, TimeUnit.SECONDS);
            backend.runScheduledPendingTasks();
        }
        assertThat(recorder.error).isNull();
        backend.writeInbound(record(6, "X-Line-4: a\r\n"));
        backend.advanceTimeBy(1, TimeUnit.SECONDS);
        backend.runScheduledPendingTasks();
        assertThat(recorder.head).isNull();
        assertThat(recorder.error).isInstanceOf(BackendTimeoutException.class);
        assertClosedAndLingering();
    }

    /** The read that ends the head moves the timeout: the body's silence counts from there, not from the request's end. */
    @Test
    void theReadThatEndsTheHeadStartsTheSilenceAfterIt() {
        FcgiExchange exchange = start(true);
        exchange.endStdin();
        backend.advanceTimeBy(4, TimeUnit.SECONDS);
        backend.runScheduledPendingTasks();
        backend.writeInbound(record(6, "Content-Type: text/plain\r\n\r\nfirst"));
        backend.advanceTimeBy(2, TimeUnit.SECONDS);
        backend.runScheduledPendingTasks();
        assertThat(recorder.head).isNotNull();
        assertThat(recorder.error).as("2 s after the head, 6 s after the request").isNull();
        exchange.abort();
    }

    @Test
    void stallPastReadTimeoutIsBackendTimeout() {
        FcgiExchange exchange = start(true);
        exchange.endStdin();
        backend.writeInbound(record(6, "Content-Type: text/plain\r\n\r\n"));
        backend.advanceTimeBy(4, TimeUnit.SECONDS);
        backend.runScheduledPendingTasks();
        backend.writeInbound(record(7, "still alive\n")); // data resets the clock
        backend.advanceTimeBy(4, TimeUnit.SECONDS);
        backend.runScheduledPendingTasks();
        assertThat(recorder.error).isNull();
        backend.advanceTimeBy(2, TimeUnit.SECONDS);
        backend.runScheduledPendingTasks();
        assertThat(recorder.error).isInstanceOf(BackendTimeoutException.class);
        assertClosedAndLingering();
    }

    @Test
    void backendRefusingRequestBodyPastTheWriteTimeoutIsBackendTimeout() {
        FcgiExchange exchange = start(true);
        backend.unsafe().outboundBuffer().setUserDefinedWritability(1, false);
        boolean[] resumed = {false};
        exchange.onWritable(() -> resumed[0] = true);
        backend.advanceTimeBy(6, TimeUnit.SECONDS);
        backend.runScheduledPendingTasks();
        assertThat(resumed[0]).isFalse();
        assertThat(recorder.error).isInstanceOf(BackendTimeoutException.class).hasMessageContaining("request body");
        assertClosedAndLingering();
    }

    @Test
    void backendTakingRequestBodyAgainInTimeCancelsTheWriteTimeout() {
        FcgiExchange exchange = start(true);
        backend.unsafe().outboundBuffer().setUserDefinedWritability(1, false);
        boolean[] resumed = {false};
        exchange.onWritable(() -> resumed[0] = true);
        backend.advanceTimeBy(3, TimeUnit.SECONDS);
        backend.runScheduledPendingTasks();
        backend.unsafe().outboundBuffer().setUserDefinedWritability(1, true);
        backend.runPendingTasks(); // the writability change is delivered through the loop
        backend.advanceTimeBy(10, TimeUnit.SECONDS);
        backend.runScheduledPendingTasks();
        assertThat(resumed[0]).isTrue();
        assertThat(recorder.error).isNull();
        exchange.abort();
    }

    @Test
    void pausedResponseDoesNotTimeOut() {
        FcgiExchange exchange = start(true);
        exchange.endStdin();
        exchange.pauseResponse();
        assertThat(backend.config().isAutoRead()).isFalse();
        backend.advanceTimeBy(30, TimeUnit.SECONDS);
        backend.runScheduledPendingTasks();
        assertThat(recorder.error).isNull();
        exchange.resumeResponse();
        assertThat(backend.config().isAutoRead()).isTrue();
        exchange.abort();
        backend.writeInbound(record(6, "\r\n"), endRequest(0)); // its last words and its end, in one read
        assertThat(leased.pool().stats().idle()).isEqualTo(1);
    }

    /**
     * A listener that throws taking a part of the body (edge's own bug) ends the exchange with its exception, as one
     * that throws taking the head: not a failure of the backend, nor an exception for the pipeline to misread as one.
     */
    @Test
    void aListenerThrowingOnTheBodyEndsTheExchangeWithoutBlamingTheBackend() {
        RuntimeException bug = new IllegalStateException("a bug of edge's");
        Recorder throwing = throwingOnBody(bug);
        start(true, throwing).endStdin();
        backend.writeInbound(record(6, "Content-Type: text/plain\r\n\r\nbody"));
        assertThat(throwing.error).isSameAs(bug);
        assertThat(leased.lease().outcome()).isEqualTo(io.edge.fastcgi.pool.Lease.Outcome.CLOSE);
        assertClosedAndNotPooled();
    }

    /**
     * A listener that throws taking the end (the response cache's store, a revalidated entry's answer: edge's own bug)
     * is told of it as of any of its failures, logged with its stack trace, the lease released as after any clean end
     * (the backend not blamed). Before, the exception went to the exchange's handler, which left the ended exchange
     * alone: nothing logged, and the client waited for its timeout.
     */
    @Test
    void aListenerThrowingOnTheEndIsToldOfItAndItIsLogged() throws Exception {
        RuntimeException bug = new IllegalStateException("a bug of edge's");
        Recorder throwing = new Recorder() {
            @Override
            public void onEnd() {
                super.onEnd();
                throw bug;
            }
        };
        List<ch.qos.logback.classic.spi.ILoggingEvent> events = loggedEvents(FcgiExchange.class.getName(), () -> {
            start(true, throwing).endStdin();
            sent().forEach(io.netty.util.ReferenceCountUtil::release);
            return backend.writeInbound(record(6, "Content-Type: text/plain\r\n\r\nbody"), record(6, ""),
                    endRequest(0));
        });
        assertThat(throwing.ended).isTrue();
        assertThat(throwing.error).isSameAs(bug);
        assertThat(leased.lease().outcome()).isEqualTo(io.edge.fastcgi.pool.Lease.Outcome.REUSABLE);
        assertThat(events).filteredOn(e -> e.getFormattedMessage().contains("the end of the response could not be taken"))
                .singleElement().satisfies(e -> assertThat(e.getThrowableProxy()).isNotNull());
    }

    /**
     * Out of direct memory taking a part of the body (a load's peak: 200 clients that read nothing, each holding its
     * answer) the exchange ends as for any listener failure, its line saying what to raise and without a stack trace:
     * no bug of edge's, and 120 answers failed so wrote 120 traces of 30 lines.
     */
    @Test
    void aListenerOutOfMemoryEndsTheExchangeWithALineAndNoTrace() throws Exception {
        OutOfMemoryError exhausted = new OutOfMemoryError("failed to allocate 851960 byte(s) of direct memory");
        Recorder throwing = throwingOnBody(exhausted);
        List<ch.qos.logback.classic.spi.ILoggingEvent> events = loggedEvents(FcgiExchange.class.getName(), () -> {
            start(true, throwing).endStdin();
            return backend.writeInbound(record(6, "Content-Type: text/plain\r\n\r\nbody"));
        });
        assertThat(throwing.error).isSameAs(exhausted);
        assertClosedAndNotPooled();
        assertThat(events).filteredOn(e -> e.getFormattedMessage().contains("could not be taken")).singleElement()
                .satisfies(e -> {
                    assertThat(e.getFormattedMessage()).contains("raise -XX:MaxDirectMemorySize");
                    assertThat(e.getThrowableProxy()).as("no stack trace").isNull();
                });
    }

    /**
     * A request whose client left that must reach the script whole (a POST) is aborted at the script's first output,
     * dropped, the close stopping the script; until then what befalls it is told to the listener as for any request.
     */
    @Test
    void aTaskForTheFirstOutputRunsBeforeItAndAnAbortThereDropsIt() {
        FcgiExchange exchange = start(true);
        exchange.endStdin();
        sent().forEach(io.netty.util.ReferenceCountUtil::release);
        int[] ran = {0};
        exchange.onFirstOutput(() -> {
            ran[0]++;
            exchange.abort();
        });
        backend.writeInbound(record(7, "PHP Notice: stderr is no output\n"));
        assertThat(ran[0]).isZero();
        ByteBuf output = record(6, "Status: 200\r\n\r\nstreaming");
        backend.writeInbound(output);
        assertThat(ran[0]).isEqualTo(1);
        assertThat(output.refCnt()).as("dropped").isZero();
        assertThat(recorder.head).as("never handled").isNull();
        assertThat(recorder.error).isNull();
        assertClosedAndNotPooled();
    }

    @Test
    void aTaskForTheFirstOutputLetsAFailureBeforeItBeToldAsForAnyRequest() {
        FcgiExchange exchange = start(true);
        exchange.endStdin();
        exchange.onFirstOutput(exchange::abort);
        backend.writeInbound(record(6, ""), endRequest(2)); // a stream ended empty, then the refusal
        assertThat(recorder.error).as("sent again by the caller").isInstanceOf(BackendOverloadedException.class);
    }

    /** FCGI_OVERLOADED after the script wrote is no refusal of an unread request: a backend speaking no FastCGI. */
    @Test
    void overloadedAfterOutputIsAProtocolError() {
        start(true).endStdin();
        backend.writeInbound(record(7, "PHP Warning: something\n"), endRequest(2));
        assertThat(recorder.error).isInstanceOf(FcgiProtocolException.class);
        assertThat(leased.lease().outcome()).isEqualTo(io.edge.fastcgi.pool.Lease.Outcome.BACKEND_FAILED);
    }

    @Test
    void overloadedIsItsOwnError() {
        start(true);
        backend.writeInbound(endRequest(2));
        assertThat(recorder.error).isInstanceOf(BackendOverloadedException.class);
        assertClosedAndNotPooled();
    }

    @Test
    void oversizedHeadIsAProtocolError() {
        start(true);
        ByteBuf oversized = record(6, "X-Big: " + "x".repeat(2000) + "\r\n\r\n");
        backend.writeInbound(oversized);
        assertThat(recorder.error).isInstanceOf(FcgiProtocolException.class)
                .hasMessageStartingWith("response head: more than 1024 bytes");
        assertThat(oversized.refCnt()).as("the STDOUT record was given back").isZero();
        assertClosedAndNotPooled();
    }

    @Test
    void endBeforeHeadIsAProtocolError() {
        start(true);
        backend.writeInbound(record(6, "X-A: 1\r\n"), endRequest(0));
        assertThat(recorder.error).isInstanceOf(FcgiProtocolException.class);
        assertClosedAndNotPooled();
    }

    /**
     * The client left after the request went out whole: php-fpm runs the script to its end anyway, so the exchange
     * keeps the connection (and its slot) until END_REQUEST, reading and dropping the response, resumed if it
     * was paused; STDERR is still logged. Then the connection is pooled as after any clean end.
     */
    @Test
    void abortOnceTheRequestIsWholeKeepsTheSlotWhileTheScriptIsSilentUntilEndRequest() {
        FcgiExchange exchange = start(true);
        exchange.endStdin();
        sent().forEach(io.netty.util.ReferenceCountUtil::release);
        backend.writeInbound(record(6, "Status: 200\r\n\r\nfirst"));
        exchange.pauseResponse();
        exchange.abort();
        assertThat(exchange.isDone()).isTrue();
        assertThat(backend.config().isAutoRead()).as("nobody waits for the response any more").isTrue();
        assertThat(leased.lease().isReleased()).as("the worker still runs the script").isFalse();
        assertThat(leased.pool().stats().open()).isEqualTo(1);
        backend.advanceTimeBy(4, TimeUnit.SECONDS); // the read timeout (5 s) still bounds it
        backend.runScheduledPendingTasks();
        assertThat(backend.isActive()).isTrue();
        backend.writeInbound(endRequest(0));
        assertThat(leased.lease().isReleased()).isTrue();
        assertThat(leased.pool().stats().idle()).as("clean end: kept alive").isEqualTo(1);
        assertThat(recorder.body).as("the listener heard nothing after abort").hasToString("first");
        assertThat(recorder.ended).isFalse();
        assertThat(recorder.error).isNull();
    }

    /**
     * A script still writing for a client that left (a stream, a long poll) is stopped by the close, as before the
     * exchange was kept: the first record after the abort closes the connection and frees the slot at once.
     */
    @ParameterizedTest
    @ValueSource(ints = {6, 7}) // STDOUT, STDERR
    void aRecordAfterTheAbortClosesTheConnectionAndFreesTheSlot(int type) {
        FcgiExchange exchange = start(true);
        exchange.endStdin();
        sent().forEach(io.netty.util.ReferenceCountUtil::release);
        exchange.abort();
        ByteBuf late = record(type, "tick\n");
        backend.writeInbound(late);
        assertThat(late.refCnt()).as("dropped").isZero();
        assertClosedAndNotPooled();
        assertThat(leased.pool().stats().lingering()).isZero();
        assertThat(recorder.error).as("no listener after abort").isNull();
    }

    /** A script's messages, which php-fpm sends last, are logged for a client that left too. */
    @Test
    void theStderrOfAnAbortedExchangeIsLoggedAndItsEndStillKeepsTheConnection() throws Exception {
        List<String> lines = stderrLines(() -> {
            leased = TestLeases.lease(backend, true);
            FcgiExchange exchange = FcgiExchange.start(leased.lease(), List.of(), new FcgiExchange.Options("req-3",
                    1024, Duration.ofSeconds(5), Duration.ofSeconds(5), ""), recorder);
            exchange.endStdin();
            sent().forEach(io.netty.util.ReferenceCountUtil::release);
            exchange.abort();
            return backend.writeInbound(record(7, "PHP Fatal error:  Allowed memory size exhausted\n"),
                    endRequest(0));
        });
        assertThat(lines).singleElement().asString().endsWith(": PHP Fatal error:  Allowed memory size exhausted");
        assertThat(leased.pool().stats().idle()).as("its last words and its end, in one read").isEqualTo(1);
        assertThat(recorder.error).as("no listener after abort").isNull();
    }

    /**
     * An answer dropped at its head for another backend (nginx's fastcgi_next_upstream http_503): the listener hears
     * nothing more, the slot stays taken while the script runs on, and at END_REQUEST the lease goes back as a failure
     * of the backend (closed, counted against its health), however clean the end; one dropped as no failure (a 404) is
     * kept as after any abort.
     */
    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void anAnswerDroppedAtItsHeadHoldsTheSlotToItsEndAndIsReleasedAsAFailureIfSo(boolean failed) {
        FcgiExchange[] exchange = new FcgiExchange[1];
        exchange[0] = start(true, new Recorder() {
            @Override
            public void onHead(HttpResponse h) {
                super.onHead(h);
                exchange[0].dropAnswer(failed);
            }
        });
        exchange[0].endStdin();
        sent().forEach(io.netty.util.ReferenceCountUtil::release);
        backend.writeInbound(record(6, "Status: 503\r\n\r\nbusy"));
        assertThat(exchange[0].isDone()).isTrue();
        assertThat(leased.lease().isReleased()).as("the worker still runs the script").isFalse();
        backend.writeInbound(record(6, ""), endRequest(0));
        assertThat(leased.lease().isReleased()).isTrue();
        assertThat(leased.lease().outcome()).isEqualTo(failed ? Lease.Outcome.BACKEND_FAILED : Lease.Outcome.REUSABLE);
        assertThat(leased.pool().stats().idle()).isEqualTo(failed ? 0 : 1);
    }

    /** A dropped answer whose script outlives the read timeout is released as timed out (its slot lingers), as any. */
    @Test
    void anAnswerDroppedAsAFailureThatGetsNoEndTimesOut() {
        FcgiExchange exchange = start(true);
        exchange.endStdin();
        sent().forEach(io.netty.util.ReferenceCountUtil::release);
        backend.writeInbound(record(6, "Status: 500\r\n\r\n"));
        exchange.dropAnswer(true);
        backend.advanceTimeBy(5, TimeUnit.SECONDS);
        backend.runScheduledPendingTasks();
        assertThat(leased.lease().outcome()).isEqualTo(Lease.Outcome.TIMED_OUT);
        assertClosedAndLingering();
    }

    @Test
    void anAbortedExchangeThatGetsNoEndTimesOutAndItsSlotLingers() {
        FcgiExchange exchange = start(true);
        exchange.endStdin();
        sent().forEach(io.netty.util.ReferenceCountUtil::release);
        exchange.abort();
        backend.advanceTimeBy(5, TimeUnit.SECONDS);
        backend.runScheduledPendingTasks();
        assertThat(recorder.error).as("no listener after abort").isNull();
        assertClosedAndLingering();
    }

    @Test
    void abortWhileTheBodyIsStillGoingOutClosesAndFreesTheSlot() {
        FcgiExchange exchange = start(true);
        exchange.writeStdin(Unpooled.copiedBuffer("part of it", StandardCharsets.US_ASCII));
        sent().forEach(io.netty.util.ReferenceCountUtil::release);
        exchange.abort();
        assertThat(recorder.error).isNull();
        assertClosedAndNotPooled();
        assertThat(leased.pool().stats().lingering()).as("the worker reads the end of its input and is free").isZero();
    }

    /**
     * A new connection reset before any record: as a stopping php-fpm resets the connections in its backlog, which
     * must be replayed (a stop and start fails no request). Once a record came (a script that logged), never.
     */
    @Test
    void aNewConnectionClosedWithoutARecordMayBeReplayedButNotAfterOne() {
        FcgiExchange exchange = start(true);
        exchange.endStdin();
        sent().forEach(io.netty.util.ReferenceCountUtil::release);
        backend.close();
        assertThat(recorder.error).isInstanceOf(BackendUnavailableException.class);
        assertThat(exchange.mayReplay()).isTrue();
    }

    @Test
    void aNewConnectionClosedAfterAStderrRecordMayNotBeReplayed() {
        FcgiExchange exchange = start(true);
        exchange.endStdin();
        sent().forEach(io.netty.util.ReferenceCountUtil::release);
        backend.writeInbound(record(7, "PHP Fatal error\n"));
        backend.close();
        assertThat(recorder.error).isInstanceOf(BackendUnavailableException.class);
        assertThat(exchange.mayReplay()).isFalse();
    }

    /**
     * A kept-alive connection the backend closed as the request went out, nothing coming back: the script never
     * ran, a replay is safe (nginx retries a cached connection likewise). Once a record came, it is not.
     */
    @Test
    void aReusedConnectionClosedWithoutARecordMayBeReplayedButNotAfterOne() {
        for (boolean answered : new boolean[] {false, true}) {
            EmbeddedChannel channel = new EmbeddedChannel();
            TestLeases.Leased first = TestLeases.lease(channel, true);
            FcgiExchange.start(first.lease(), List.of(), new FcgiExchange.Options("req-1", 1024, Duration.ofSeconds(5)),
                    new Recorder()).endStdin();
            channel.writeInbound(record(6, "\r\n"), endRequest(0));
            Lease reused = first.pool().acquire(channel.eventLoop()).getNow();
            assertThat(reused.isReused()).isTrue();
            Recorder second = new Recorder();
            FcgiExchange exchange = FcgiExchange.start(reused, List.of(),
                    new FcgiExchange.Options("req-2", 1024, Duration.ofSeconds(5)), second);
            exchange.endStdin();
            if (answered) {
                channel.writeInbound(record(7, "a notice\n"));
            }
            channel.close();
            assertThat(second.error).isInstanceOf(BackendUnavailableException.class);
            assertThat(exchange.mayReplay()).as("answered: " + answered).isEqualTo(!answered);
            channel.finishAndReleaseAll();
            first.pool().close();
        }
    }

    /**
     * php-fpm ends a kept connection after a worker's last request (pm.max_requests) by shutting its side down and
     * reading on until edge closes: a request sent meanwhile on the reused connection was never taken, and may go to
     * another connection, a POST too. The end of the backend's side is answered with one more write (ABORT_REQUEST):
     * taken, the request is unread; refused (a worker that died closed its socket whole), it is not. A fresh
     * connection, or one that brought back a record, is never unread.
     */
    @Test
    void aReusedConnectionWhoseBackendEndedItsSideButReadsOnNeverTookTheRequest() {
        for (boolean probeTaken : new boolean[] {true, false}) {
            EmbeddedChannel channel = new EmbeddedChannel();
            TestLeases.Leased first = TestLeases.lease(channel, true);
            FcgiExchange.start(first.lease(), List.of(), new FcgiExchange.Options("req-1", 1024, Duration.ofSeconds(5)),
                    new Recorder()).endStdin();
            channel.writeInbound(record(6, "\r\n"), endRequest(0));
            drop(channel);
            Lease reused = first.pool().acquire(channel.eventLoop()).getNow();
            Recorder second = new Recorder();
            FcgiExchange exchange = FcgiExchange.start(reused, List.of(),
                    new FcgiExchange.Options("req-2", 1024, Duration.ofSeconds(5)), second);
            exchange.writeStdin(Unpooled.copiedBuffer("a=1", StandardCharsets.US_ASCII));
            exchange.endStdin();
            drop(channel);
            if (!probeTaken) {
                channel.pipeline().addFirst(new ChannelOutboundHandlerAdapter() {
                    @Override
                    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
                        ReferenceCountUtil.release(msg);
                        promise.setFailure(new java.io.IOException("Broken pipe"));
                    }
                });
            }
            channel.pipeline().fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
            if (probeTaken) {
                assertThat(sent(channel)).as("the probe").containsExactly(new FcgiAbortRequest(1));
            }
            assertThat(channel.isActive()).isFalse();
            assertThat(second.error).isInstanceOf(BackendUnavailableException.class);
            assertThat(exchange.requestUnread()).as("probe taken: " + probeTaken).isEqualTo(probeTaken);
            assertThat(reused.isReleased()).isTrue();
            channel.finishAndReleaseAll();
            first.pool().close();
        }
        FcgiExchange fresh = start(true);
        fresh.endStdin();
        drop(backend);
        backend.pipeline().fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
        assertThat(recorder.error).isInstanceOf(BackendUnavailableException.class);
        assertThat(fresh.requestUnread()).as("a fresh connection: nothing to tell").isFalse();
        assertThat(backend.outboundMessages()).as("no probe").isEmpty();
    }

    /** Between exchanges the end of the backend's side closes the connection, and the pool forgets it. */
    @Test
    void anIdleConnectionWhoseBackendEndedItsSideIsClosed() {
        FcgiExchange exchange = start(true);
        exchange.endStdin();
        backend.writeInbound(record(6, "\r\n"), endRequest(0));
        assertThat(leased.pool().stats().idle()).isEqualTo(1);
        backend.pipeline().fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
        assertClosedAndNotPooled();
    }

    /**
     * BEGIN_REQUEST and the params wait for the first of the body; a connection that closes before it came (a large
     * body still being read back from its spool file) takes them with it: the backend has none of the request.
     */
    @Test
    void aConnectionClosedBeforeTheFirstOfTheRequestWentOutLeavesItUnread() {
        FcgiExchange exchange = start(true);
        backend.close();
        assertThat(recorder.error).isInstanceOf(BackendUnavailableException.class);
        assertThat(exchange.requestUnread()).isTrue();
    }

    /**
     * The first write the kernel refuses (EPIPE, ECONNRESET: a php-fpm killed with the connection in its backlog):
     * writes complete in order, so nothing of the request went before it, and the backend has none of it; it may
     * go to another connection without using up a GET's one replay (the php-fpm lifecycle audit: that replay went to
     * the dying php-fpm's listener and came back a 502). A write refused after another went in leaves it read, maybe.
     */
    @Test
    void aFirstWriteTheKernelRefusesLeavesTheRequestUnread() {
        for (boolean afterAnother : new boolean[] {false, true}) {
            EmbeddedChannel channel = new EmbeddedChannel();
            TestLeases.Leased leased = TestLeases.lease(channel, true);
            java.util.concurrent.atomic.AtomicInteger writes = new java.util.concurrent.atomic.AtomicInteger();
            channel.pipeline().addFirst(new ChannelOutboundHandlerAdapter() {
                @Override
                public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
                    if (afterAnother && writes.getAndIncrement() == 0) {
                        ctx.writeAndFlush(msg, promise); // in the socket, as the kernel took it
                        return;
                    }
                    ReferenceCountUtil.release(msg);
                    promise.setFailure(new java.io.IOException("Connection reset by peer"));
                }
            });
            Recorder failed = new Recorder();
            FcgiExchange exchange = FcgiExchange.start(leased.lease(), List.of(),
                    new FcgiExchange.Options("req", 1024, Duration.ofSeconds(5)), failed);
            exchange.endStdin();
            assertThat(failed.error).isInstanceOf(BackendUnavailableException.class);
            assertThat(exchange.requestUnread()).as("after another write: " + afterAnother).isEqualTo(!afterAnother);
            channel.finishAndReleaseAll();
            leased.pool().close();
        }
    }

    /**
     * The request a stderr line names is the client's too: its target may hold C1 control characters (RequestTarget
     * refuses only those below 0x21 and DEL), and is escaped as the script's message is.
     */
    @Test
    void theRequestAStderrLineNamesIsEscapedToo() throws Exception {
        List<String> lines = stderrLines(() -> {
            leased = TestLeases.lease(backend, true);
            FcgiExchange.start(leased.lease(), List.of(), new FcgiExchange.Options("req-1", 1024,
                    Duration.ofSeconds(5), Duration.ofSeconds(5), "client 10.0.0.7, request \"GET /a\u009b2J\""),
                    recorder).endStdin();
            return backend.writeInbound(record(7, "PHP Notice: oops\n"));
        });
        assertThat(lines).anySatisfy(line -> assertThat(line).endsWith("(client 10.0.0.7, request \"GET /a\\x9b2J\")"));
    }

    /** What {@code run} logs as a script's stderr, formatted. */
    private static List<String> stderrLines(Callable<?> run) throws Exception {
        return logged("io.edge.fastcgi.stderr", run);
    }

    /** What {@code run} logs to {@code logger}, formatted. */
    private static List<String> logged(String logger, Callable<?> run) throws Exception {
        return loggedEvents(logger, run).stream().map(e -> e.getFormattedMessage()).toList();
    }

    /** What {@code run} logs to {@code logger}, as logged (with its throwable, if any). */
    private static List<ch.qos.logback.classic.spi.ILoggingEvent> loggedEvents(String logger, Callable<?> run)
            throws Exception {
        ch.qos.logback.classic.Logger log =
                (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(logger);
        ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> lines =
                new ch.qos.logback.core.read.ListAppender<>();
        lines.start();
        log.addAppender(lines);
        try {
            run.call();
        } finally {
            log.detachAppender(lines);
        }
        return lines.list;
    }

    /** A listener that throws {@code failure} taking a part of the body (the part released first, as it owns it). */
    private static Recorder throwingOnBody(Throwable failure) {
        return new Recorder() {
            @Override
            public void onBody(ByteBuf chunk) {
                chunk.release();
                if (failure instanceof RuntimeException runtime) {
                    throw runtime;
                }
                throw (Error) failure;
            }
        };
    }

    /**
     * Lines split across records, several in one record, and one over 8 KiB: in pieces, none of it lost (php-fpm
     * joins a script's messages into one line, and its fatal error came after the first 8 KiB of notices).
     */
    @Test
    void stderrIsLoggedALineAtATimeWhateverTheRecordsAndLongLinesGoInPieces() throws Exception {
        String longLine = "x".repeat(9000) + "; PHP Fatal error:  Uncaught Error";
        List<String> lines = stderrLines(() -> {
            leased = TestLeases.lease(backend, true);
            FcgiExchange.start(leased.lease(), List.of(), new FcgiExchange.Options("req-2", 1024,
                    Duration.ofSeconds(5), Duration.ofSeconds(5), ""), recorder).endStdin();
            backend.writeInbound(record(7, "first half, "));
            backend.writeInbound(record(7, "second half\nsecond line\n\nthird "));
            backend.writeInbound(record(7, "line\n" + longLine.substring(0, 5000)));
            return backend.writeInbound(record(7, longLine.substring(5000) + "\n"));
        });
        assertThat(lines).extracting(line -> line.substring(line.indexOf(": ") + 2)).containsExactly("first half, second half", "second line", "third line", "x".repeat(8192),
                "(continued) " + "x".repeat(808) + "; PHP Fatal error:  Uncaught Error");
    }

    /**
     * A script flooding its stderr: its first lines are logged as they come, the rest counted, and the last of them
     * (where a fatal error stands) logged with that count as the request ends. Each line was logged: 10 MB of notices
     * held the event loop and crowded other requests' lines out of the error log (the FastCGI audit).
     */
    @Test
    void aStderrFloodIsLoggedUpToALimitThenCountedWithItsLastLine() throws Exception {
        int sent = FcgiExchange.STDERR_LINES + 50;
        List<String> lines = stderrLines(() -> {
            leased = TestLeases.lease(backend, true);
            FcgiExchange.start(leased.lease(), List.of(), new FcgiExchange.Options("req-4", 1024,
                    Duration.ofSeconds(5), Duration.ofSeconds(5), ""), recorder).endStdin();
            for (int i = 0; i < sent; i++) {
                backend.writeInbound(record(7, (i == sent - 1 ? "PHP Fatal error: " : "PHP Notice: ") + i + "\n"));
            }
            return backend.writeInbound(record(6, "\r\n"), endRequest(0));
        });
        assertThat(lines).hasSize(FcgiExchange.STDERR_LINES + 1);
        assertThat(lines.get(FcgiExchange.STDERR_LINES - 1)).endsWith("PHP Notice: " + (FcgiExchange.STDERR_LINES - 1));
        assertThat(lines.get(FcgiExchange.STDERR_LINES)).endsWith("(50 lines, " + (49 * "PHP Notice: 100".length()
                + "PHP Fatal error: 149".length()) + " bytes, not logged as they came; the last:) PHP Fatal error: 149");
    }

    /** A head of a thousand malformed header lines: three named in the log, then their count, not a line each. */
    @Test
    void aHeadOfManyMendedHeadersIsLoggedInFourLines() throws Exception {
        List<String> warned = logged(FcgiExchange.class.getName(), () -> {
            leased = TestLeases.lease(backend, true);
            FcgiExchange.start(leased.lease(), List.of(), new FcgiExchange.Options("req-5", 1 << 20,
                    Duration.ofSeconds(5), Duration.ofSeconds(5), ""), recorder).endStdin();
            return backend.writeInbound(record(6, "X bad: v\r\n".repeat(990) + "\r\nbody"), endRequest(0));
        });
        assertThat(recorder.head.status().code()).isEqualTo(200);
        assertThat(warned).hasSize(FcgiExchange.MENDED_LOGGED + 1)
                .last().asString().endsWith(": 987 more response headers mended or dropped");
    }

    /**
     * A long stderr line's pieces never end inside a UTF-8 sequence: one inside a record, one begun in an earlier
     * record, one that begins a record.
     */
    @ParameterizedTest
    @ValueSource(ints = {0, 1, 2})
    void aLongStderrLineIsNeverCutInsideAUtf8Sequence(int split) throws Exception {
        String[] records = switch (split) {
            case 0 -> new String[] {"a" + "é".repeat(4100) + "\n"}; // 8 201 bytes: 8 192 would end inside the 4 096th é
            case 1 -> new String[] {"x".repeat(8191) + "\u00c3", "\u00a9\n"}; // é's first byte, then its second
            default -> new String[] {"x".repeat(8191), "é\n"};
        };
        List<String> pieces = stderrLines(() -> {
            leased = TestLeases.lease(backend, true);
            FcgiExchange.start(leased.lease(), List.of(), new FcgiExchange.Options("req-3", 1024,
                    Duration.ofSeconds(5), Duration.ofSeconds(5), ""), recorder).endStdin();
            for (String sent : records) {
                // as the script wrote it: UTF-8, one char per byte here
                backend.writeInbound(record(7, split == 0 || split == 2
                        ? new String(sent.getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1) : sent));
            }
            return null;
        });
        assertThat(pieces).extracting(line -> line.substring(line.indexOf(": ") + 2)).containsExactly(split == 0
                ? new String[] {"a" + "é".repeat(4095), "(continued) " + "é".repeat(5)}
                : new String[] {"x".repeat(8191), "(continued) é"});
    }

    private static void drop(EmbeddedChannel channel) {
        for (Object o; (o = channel.readOutbound()) != null; ) {
            ReferenceCountUtil.release(o);
        }
    }

    /** What the exchange wrote on {@code channel}, decoded. */
    /** An exchange that holds its lease past END_REQUEST until the worker answers the probe, as edge's responder. */
    FcgiExchange startAwaitingWorker(boolean keepAlive) {
        leased = TestLeases.lease(backend, keepAlive);
        return FcgiExchange.start(leased.lease(), List.of(Map.entry("SCRIPT_FILENAME", "/srv/a.php")),
                new FcgiExchange.Options("req-1", 1024, Duration.ofSeconds(5), Duration.ofSeconds(5), "", true),
                recorder);
    }

    /** php-fpm's answer to the probe, sent once its worker reads the connection again. */
    static ByteBuf workerFree() {
        return record(10, 0, "\u000f\u0001FCGI_MPXS_CONNS0");
    }

    /**
     * After END_REQUEST (the client has its whole answer) the slot stays taken until the worker answers the
     * GET_VALUES sent behind the request: php-fpm answers it once the script is over, also after
     * fastcgi_finish_request(). FCGI_KEEP_CONN goes either way, or php-fpm would close at fastcgi_finish_request().
     */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void theSlotIsHeldPastEndRequestUntilTheWorkerAnswersTheProbe(boolean keepAlive) {
        FcgiExchange exchange = startAwaitingWorker(keepAlive);
        exchange.endStdin();
        List<Object> sent = sent();
        assertThat(((FcgiBeginRequest) sent.get(0)).keepConn()).isTrue();
        assertThat(((FcgiStdin) sent.get(sent.size() - 2)).isEndOfStream()).isTrue();
        assertThat(sent.get(sent.size() - 1)).isEqualTo(new FcgiGetValues(List.of("FCGI_MPXS_CONNS")));
        sent.forEach(ReferenceCountUtil::release);
        backend.writeInbound(record(6, "\r\nanswered"), endRequest(0));
        assertThat(recorder.ended).isTrue();
        assertThat(recorder.body).hasToString("answered");
        assertThat(exchange.isDone()).isTrue();
        assertThat(leased.lease().isReleased()).as("the worker may still run the script").isFalse();
        assertThat(leased.pool().stats().open()).isEqualTo(1);
        assertThat(leased.pool().stats().answered()).as("room for its client's next request").isEqualTo(1);
        backend.writeInbound(workerFree());
        assertThat(leased.lease().outcome()).isEqualTo(Lease.Outcome.REUSABLE);
        assertThat(leased.pool().stats().answered()).isZero();
        if (keepAlive) {
            assertThat(backend.isActive()).isTrue();
            assertThat(leased.pool().stats().idle()).isEqualTo(1);
            assertThat(((ExchangeSlot) backend.pipeline().get(ExchangeSlot.NAME)).isVacant()).isTrue();
        } else {
            assertClosedAndNotPooled();
        }
        assertThat(recorder.error).isNull();
    }

    /** A script that ends at once: END_REQUEST and the probe's answer come in one read, and the connection is kept. */
    @Test
    void endRequestAndTheProbesAnswerInOneReadKeepTheConnection() {
        startAwaitingWorker(true).endStdin();
        sent().forEach(ReferenceCountUtil::release);
        backend.writeInbound(Unpooled.wrappedBuffer(record(6, "\r\nquick"), endRequest(0), workerFree()));
        assertThat(recorder.body).hasToString("quick");
        assertThat(leased.lease().outcome()).isEqualTo(Lease.Outcome.REUSABLE);
        assertThat(backend.isActive()).isTrue();
        assertThat(leased.pool().stats().idle()).isEqualTo(1);
    }

    /** The probe's answer read before its padding came: the connection is kept all the same (the padding follows). */
    @Test
    void theProbesAnswerWithItsPaddingStillToComeKeepsTheConnection() {
        startAwaitingWorker(true).endStdin();
        sent().forEach(ReferenceCountUtil::release);
        backend.writeInbound(record(6, "\r\nquick"), endRequest(0));
        ByteBuf answer = workerFree();
        int padding = answer.getUnsignedByte(6);
        assertThat(padding).isPositive();
        backend.writeInbound(answer.readRetainedSlice(answer.readableBytes() - padding));
        assertThat(leased.lease().outcome()).isEqualTo(Lease.Outcome.REUSABLE);
        backend.writeInbound(answer); // the padding
        assertThat(backend.isActive()).isTrue();
        assertThat(leased.pool().stats().idle()).isEqualTo(1);
    }

    /** The connection closing meanwhile (php-fpm's worker ending at pm.max_requests) frees the slot; no error. */
    @Test
    void aConnectionEndingWhileTheWorkerIsAwaitedFreesTheSlot() {
        startAwaitingWorker(true).endStdin();
        sent().forEach(ReferenceCountUtil::release);
        backend.writeInbound(record(6, "\r\n"), endRequest(0));
        backend.close();
        assertThat(leased.lease().outcome()).isEqualTo(Lease.Outcome.CLOSE);
        assertThat(leased.pool().stats().open()).isZero();
        assertThat(recorder.ended).isTrue();
        assertThat(recorder.error).isNull();
    }

    /** Anything but the probe's answer after END_REQUEST is no FastCGI to trust: closed, the slot freed. */
    @Test
    void anotherRecordWhileTheWorkerIsAwaitedClosesTheConnection() {
        startAwaitingWorker(true).endStdin();
        sent().forEach(ReferenceCountUtil::release);
        backend.writeInbound(record(6, "\r\nbody"), endRequest(0));
        backend.writeInbound(record(6, "late"));
        assertThat(leased.lease().outcome()).isEqualTo(Lease.Outcome.CLOSE);
        assertClosedAndNotPooled();
        assertThat(recorder.body).hasToString("body");
        assertThat(recorder.error).isNull();
    }

    /** A probe left unanswered for the read timeout gives the slot up, closing the connection. */
    @Test
    void anUnansweredProbeGivesTheSlotUpAfterTheReadTimeout() {
        startAwaitingWorker(true).endStdin();
        sent().forEach(ReferenceCountUtil::release);
        backend.writeInbound(record(6, "\r\n"), endRequest(0));
        backend.advanceTimeBy(4, TimeUnit.SECONDS);
        backend.runScheduledPendingTasks();
        assertThat(leased.lease().isReleased()).isFalse();
        backend.advanceTimeBy(2, TimeUnit.SECONDS);
        backend.runScheduledPendingTasks();
        assertThat(leased.lease().outcome()).isEqualTo(Lease.Outcome.CLOSE);
        assertClosedAndNotPooled();
        assertThat(recorder.error).isNull();
    }

    /** A backend that answers the probe at once, before END_REQUEST, has its slot back at END_REQUEST. */
    @Test
    void aProbeAnsweredBeforeEndRequestReleasesAtEndRequest() {
        startAwaitingWorker(true).endStdin();
        sent().forEach(ReferenceCountUtil::release);
        backend.writeInbound(workerFree(), record(6, "\r\nok"));
        assertThat(leased.lease().isReleased()).isFalse();
        backend.writeInbound(endRequest(0));
        assertThat(leased.lease().outcome()).isEqualTo(Lease.Outcome.REUSABLE);
        assertThat(recorder.body).hasToString("ok");
        assertThat(leased.pool().stats().idle()).isEqualTo(1);
    }

    /**
     * A head the exchange refuses (a status out of range) fails the response at once, but the script runs on: its
     * slot is held, as a gone client's, until END_REQUEST and the worker's answer. A failure of its address, counted
     * at once, and the connection is closed, as nginx's invalid header (NGX_PEER_FAILED).
     */
    @Test
    void aRefusedHeadFailsTheResponseButHoldsTheSlotUntilTheWorkerIsFree() {
        startAwaitingWorker(true).endStdin();
        sent().forEach(ReferenceCountUtil::release);
        backend.writeInbound(record(6, "Status: 199 Weird\r\n\r\nx"));
        assertThat(recorder.error).isInstanceOf(FcgiProtocolException.class).hasMessageContaining("199");
        assertThat(leased.lease().isReleased()).as("the script runs on").isFalse();
        assertThat(backend.isActive()).isTrue();
        backend.writeInbound(endRequest(0));
        assertThat(leased.lease().isReleased()).as("until its worker is free").isFalse();
        backend.writeInbound(workerFree());
        assertThat(leased.lease().outcome()).isEqualTo(Lease.Outcome.BACKEND_FAILED);
        assertThat(leased.pool().stats().idle()).isZero();
        assertThat(recorder.ended).isFalse();
        assertThat(recorder.body).hasToString("");
    }

    /**
     * A head refused while the script writes on (a 1xx status, then more STDOUT in later reads, the body of a page that
     * went on after its header() calls): the connection, out of step with any other request, is never handed to the
     * next one. The first record after the refusal that END_REQUEST does not follow in the same read closes it and
     * frees the slot, whether or not the worker is awaited.
     */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void aRefusedHeadWithMoreOutputToComeNeverLeavesItsConnectionToTheNextRequest(boolean awaitWorker) {
        refusedHeadOnAKeptConnection(awaitWorker, "Status: 199 Weird\r\n\r\nthe page's start");
        assertThat(backend.isActive()).as("kept while the script is silent").isTrue();
        ByteBuf more = record(6, "Status: 200 OK\r\nX-Not: the next request's\r\n\r\nthe page goes on");
        backend.writeInbound(more);
        assertThat(more.refCnt()).as("dropped").isZero();
        assertClosedAndNotPooled();
        assertThat(leased.pool().stats().lingering()).isZero();
        assertThat(recorder.body).hasToString("");
    }

    /** As above, the rest of the output and END_REQUEST in one read: closed as a failed backend's, never pooled. */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void aRefusedHeadWhoseScriptEndsInTheReadOfItsLastOutputClosesItsConnection(boolean awaitWorker) {
        refusedHeadOnAKeptConnection(awaitWorker, "Status: 199 Weird\r\n\r\n");
        backend.writeInbound(Unpooled.wrappedBuffer(record(6, "the rest"), endRequest(0)));
        if (awaitWorker) {
            assertThat(leased.lease().isReleased()).as("until its worker is free").isFalse();
            backend.writeInbound(workerFree());
        }
        assertThat(leased.lease().outcome()).isEqualTo(Lease.Outcome.BACKEND_FAILED);
        assertClosedAndNotPooled();
        assertThat(leased.pool().stats().idle()).isZero();
    }

    /** A kept-alive exchange, its request whole, whose script's first output, {@code head}, is refused. */
    private void refusedHeadOnAKeptConnection(boolean awaitWorker, String head) {
        FcgiExchange exchange = awaitWorker ? startAwaitingWorker(true) : start(true);
        exchange.endStdin();
        sent().forEach(ReferenceCountUtil::release);
        backend.writeInbound(record(6, head));
        assertThat(recorder.error).isInstanceOf(FcgiProtocolException.class);
    }

    /** UNKNOWN_TYPE naming GET_VALUES: a backend that does not implement the probe's record, read it all the same. */
    static ByteBuf probeUnknown() {
        return record(11, 0, "\u0009\0\0\0\0\0\0\0");
    }

    /**
     * A backend that answers GET_VALUES with UNKNOWN_TYPE (FastCGI 1.0, 4.2) says it read the probe: at once, before
     * END_REQUEST (a backend serving requests beside its reading), the response is not failed and the slot comes back
     * at END_REQUEST; after it, as php-fpm's answer would, it frees the slot and the connection is kept.
     */
    @Test
    void unknownTypeForTheProbeBeforeEndRequestIsAnAnswerAtOnce() {
        startAwaitingWorker(true).endStdin();
        sent().forEach(ReferenceCountUtil::release);
        backend.writeInbound(probeUnknown(), record(6, "\r\nok"));
        assertThat(leased.lease().isReleased()).isFalse();
        backend.writeInbound(endRequest(0));
        assertThat(recorder.error).isNull();
        assertThat(recorder.body).hasToString("ok");
        assertThat(leased.lease().outcome()).isEqualTo(Lease.Outcome.REUSABLE);
        assertThat(leased.pool().stats().idle()).isEqualTo(1);
    }

    @Test
    void unknownTypeForTheProbeAfterEndRequestFreesTheSlot() {
        startAwaitingWorker(true).endStdin();
        sent().forEach(ReferenceCountUtil::release);
        backend.writeInbound(record(6, "\r\nlater"), endRequest(0));
        assertThat(leased.lease().isReleased()).isFalse();
        backend.writeInbound(probeUnknown());
        assertThat(leased.lease().outcome()).isEqualTo(Lease.Outcome.REUSABLE);
        assertThat(backend.isActive()).isTrue();
        assertThat(recorder.body).hasToString("later");
        assertThat(recorder.error).isNull();
    }

    private static List<Object> sent(EmbeddedChannel channel) {
        EmbeddedChannel peer = new EmbeddedChannel(new FcgiRecordDecoder());
        for (Object o; (o = channel.readOutbound()) != null; ) {
            peer.writeInbound(o);
        }
        List<Object> out = new ArrayList<>();
        for (Object o; (o = peer.readInbound()) != null; ) {
            out.add(o);
        }
        peer.finishAndReleaseAll();
        return out;
    }

    @Test
    void abortClosesWithoutCallingListener() {
        FcgiExchange exchange = start(true);
        exchange.abort();
        assertThat(recorder.error).isNull();
        assertClosedAndNotPooled();
        exchange.writeStdin(Unpooled.copiedBuffer("late", StandardCharsets.US_ASCII)); // released, not sent
    }

    @Test
    void largeBodyIsSplitIntoRecords() {
        FcgiExchange exchange = start(true);
        assertThat(backend.outboundMessages()).isEmpty(); // BEGIN_REQUEST and PARAMS wait for the body
        exchange.writeStdin(Unpooled.wrappedBuffer(new byte[200_000]));
        List<Object> all = sent();
        assertThat(all.subList(0, 3)).hasExactlyElementsOfTypes(FcgiBeginRequest.class, FcgiParams.class,
                FcgiParams.class);
        all.subList(0, 3).forEach(io.netty.util.ReferenceCountUtil::release);
        List<Object> sent = all.subList(3, all.size());
        assertThat(sent).hasSize(4);
        assertThat(sent).allSatisfy(o -> assertThat(((FcgiStdin) o).content().readableBytes()).isLessThanOrEqualTo(65535));
        sent.forEach(io.netty.util.ReferenceCountUtil::release);
        exchange.abort();
    }

}
