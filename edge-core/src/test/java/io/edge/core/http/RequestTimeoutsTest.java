package io.edge.core.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The read-side timeouts on a frozen clock: each deadline holds however often it moved. */
class RequestTimeoutsTest {

    /** Stands for the decoder and the connection handler: a read is a whole head unless told otherwise. */
    static final class Decoder extends ChannelInboundHandlerAdapter {
        final RequestTimeouts timeouts;
        boolean headsComplete = true;
        final List<Object> events = new ArrayList<>();

        Decoder(RequestTimeouts timeouts) {
            this.timeouts = timeouts;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ReferenceCountUtil.release(msg);
            if (headsComplete) {
                timeouts.headReceived();
            }
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            events.add(evt);
        }
    }

    RequestTimeouts timeouts;
    Decoder decoder;
    EmbeddedChannel channel;

    @BeforeEach
    void open() {
        timeouts = new RequestTimeouts(Duration.ofSeconds(10), Duration.ofSeconds(60), Duration.ofSeconds(75));
        decoder = new Decoder(timeouts);
        channel = new EmbeddedChannel();
        channel.freezeTime();
        channel.pipeline().addLast(timeouts, decoder);
        channel.pipeline().fireChannelActive(); // the handlers were added after registration
    }

    @AfterEach
    void close() {
        channel.finishAndReleaseAll();
    }

    void advanceSeconds(double seconds) {
        channel.advanceTimeBy((long) (seconds * 1e9), TimeUnit.NANOSECONDS);
        channel.runScheduledPendingTasks();
    }

    void request() {
        channel.writeInbound(Unpooled.copiedBuffer("GET / HTTP/1.1\r\n\r\n", StandardCharsets.US_ASCII));
    }

    @Test
    void aNewConnectionWithoutAByteIsClosedAfterTheHeadTimeout() {
        advanceSeconds(9.9);
        assertThat(channel.isActive()).isTrue();
        advanceSeconds(0.1);
        assertThat(channel.isActive()).isFalse();
        assertThat(decoder.events).isEmpty();
    }

    @Test
    void aKeptAliveConnectionClosesAtItsLastKeepAliveDeadlineHoweverOftenItMoved() {
        for (int i = 0; i < 5; i++) {
            advanceSeconds(9);
            request();
            timeouts.awaitingRequest(channel.newSucceededFuture());
        }
        // last request at 45 s: its keep-alive wait ends at 120 s, after several earlier deadlines passed
        advanceSeconds(74.9);
        assertThat(channel.isActive()).isTrue();
        advanceSeconds(0.1);
        assertThat(channel.isActive()).isFalse();
        assertThat(decoder.events).isEmpty();
    }

    @Test
    void anIncompleteHeadGets408AtItsOwnDeadlineWithinALongKeepAliveWait() {
        request();
        timeouts.awaitingRequest(channel.newSucceededFuture()); // keep-alive until 75 s
        advanceSeconds(20);
        decoder.headsComplete = false;
        request(); // part of a head: 408 due at 30 s, earlier than the pending keep-alive timer
        advanceSeconds(9.9);
        assertThat(decoder.events).isEmpty();
        advanceSeconds(0.1);
        assertThat(decoder.events).singleElement().isInstanceOfSatisfying(HttpStatusException.class,
                e -> assertThat(e.status().code()).isEqualTo(408));
    }

    /**
     * An empty line after a request (a CRLF some clients send after a POST's body, in a read of its own) starts no
     * head (RFC 9112 2.2: ignored): the keep-alive wait goes on to its quiet close, with no 408 at the head timeout
     * that the client would read as the answer to its next request. On a new connection likewise.
     */
    @Test
    void emptyLinesBetweenRequestsStartNoHead() {
        decoder.headsComplete = false; // the decoder holds no head: only empty lines came
        channel.writeInbound(Unpooled.copiedBuffer("\r\n", StandardCharsets.US_ASCII));
        advanceSeconds(9.9);
        assertThat(channel.isActive()).isTrue();
        advanceSeconds(0.1);
        assertThat(channel.isActive()).as("a new connection's wait ends as it began").isFalse();
        assertThat(decoder.events).isEmpty();

        close();
        open();
        request();
        timeouts.awaitingRequest(channel.newSucceededFuture()); // keep-alive until 75 s
        decoder.headsComplete = false;
        advanceSeconds(0.3);
        channel.writeInbound(Unpooled.copiedBuffer("\r\n\n", StandardCharsets.US_ASCII));
        advanceSeconds(74);
        assertThat(channel.isActive()).isTrue();
        assertThat(decoder.events).as("no head timeout").isEmpty();
        advanceSeconds(0.7);
        assertThat(channel.isActive()).isFalse();
        assertThat(decoder.events).isEmpty();
    }

    /**
     * Part of the next head came in the same read as a request, or while it ran: once the answer is out, the rest
     * of that head is waited for as long as a head is ({@code requestHead}, then 408), not a kept-alive connection's
     * 75 s and a quiet close.
     */
    @Test
    void partOfTheNextHeadHeldWhenTheAnswerIsOutGets408AtTheHeadTimeout() {
        boolean[] midRequest = {true};
        timeouts.midRequestFrom(() -> midRequest[0]);
        request();
        ChannelPromise lastWrite = channel.newPromise();
        timeouts.awaitingRequest(lastWrite);
        advanceSeconds(30);
        assertThat(decoder.events).as("the answer is still going out").isEmpty();
        lastWrite.setSuccess();
        advanceSeconds(9.9);
        assertThat(decoder.events).isEmpty();
        advanceSeconds(0.1);
        assertThat(decoder.events).singleElement().isInstanceOfSatisfying(HttpStatusException.class,
                e -> assertThat(e.status().code()).isEqualTo(408));
    }

    @Test
    void theKeepAliveWaitStartsOnceTheLastResponseIsOut() {
        request();
        ChannelPromise lastWrite = channel.newPromise();
        timeouts.awaitingRequest(lastWrite); // a slow reader is still taking a large file
        assertTheWaitStartsOnceOut(lastWrite);
    }

    /** Holds the connection while {@code lastWrite} is pending (300 s), then gives it the 75 s keep-alive wait. */
    private void assertTheWaitStartsOnceOut(ChannelPromise lastWrite) {
        advanceSeconds(300);
        assertThat(channel.isActive()).isTrue();
        lastWrite.setSuccess();
        advanceSeconds(74.9);
        assertThat(channel.isActive()).isTrue();
        advanceSeconds(0.1);
        assertThat(channel.isActive()).isFalse();
    }

    @Test
    void aResponseThatEndsAfterTheNextRequestCameDoesNotArmAnOldWait() {
        request();
        ChannelPromise lastWrite = channel.newPromise();
        timeouts.awaitingRequest(lastWrite);
        request(); // pipelined: the next exchange runs before the first response is out
        lastWrite.setSuccess();
        advanceSeconds(1000);
        assertThat(channel.isActive()).isTrue();
    }

    @Test
    void theRestOfAnAnsweredRequestsBodyStartsNoHeadTimeoutAndTheKeepAliveWaitFollowsIt() {
        request(); // a POST answered 405 at once
        timeouts.bodyStarted();
        timeouts.awaitingRequest(channel.newSucceededFuture());
        decoder.headsComplete = false;
        advanceSeconds(1);
        bodyBytes(); // its body goes on arriving
        advanceSeconds(30);
        assertThat(decoder.events).isEmpty(); // no 408 for a head that never started
        timeouts.bodyEnded();
        advanceSeconds(74.9);
        assertThat(channel.isActive()).isTrue();
        advanceSeconds(0.1);
        assertThat(channel.isActive()).isFalse(); // the keep-alive wait, from the body's end, ended quietly
        assertThat(decoder.events).isEmpty();
    }

    @Test
    void aBodyEndingWhileTheResponseIsStillGoingOutLeavesTheWaitToTheResponsesEnd() {
        request();
        timeouts.bodyStarted();
        ChannelPromise lastWrite = channel.newPromise();
        timeouts.awaitingRequest(lastWrite); // answered before its body was all in; a slow reader takes the answer
        decoder.headsComplete = false;
        bodyBytes();
        timeouts.bodyEnded();
        assertTheWaitStartsOnceOut(lastWrite); // past the body's deadline while the response is not out yet
        assertThat(decoder.events).isEmpty();
    }

    @Test
    void aRunningExchangeIsNotTimedOutByTheReadSide() {
        request(); // BUSY: its writes are the write timeout's business
        advanceSeconds(1000);
        assertThat(channel.isActive()).isTrue();
        timeouts.awaitingRequest(channel.newSucceededFuture());
        advanceSeconds(74.9);
        assertThat(channel.isActive()).isTrue();
        advanceSeconds(0.1);
        assertThat(channel.isActive()).isFalse();
    }

    void bodyBytes() {
        channel.writeInbound(Unpooled.copiedBuffer("0123", StandardCharsets.US_ASCII));
    }

    @Test
    void aBodySilentForTheBodyTimeoutIsReportedOnceFromItsLastRead() {
        request();
        timeouts.bodyStarted();
        advanceSeconds(30);
        bodyBytes(); // moves the deadline to 90 s
        advanceSeconds(59.9);
        assertThat(decoder.events).isEmpty();
        advanceSeconds(0.1);
        assertThat(decoder.events).containsExactly(RequestTimeouts.BODY_TIMEOUT);
        advanceSeconds(1000);
        assertThat(decoder.events).hasSize(1);
    }

    @Test
    void timeWhileEdgePausedReadingDoesNotCountAgainstTheBody() {
        request();
        timeouts.bodyStarted();
        channel.config().setAutoRead(false); // waiting for a backend connection, or a backend not taking body
        advanceSeconds(1000);
        assertThat(decoder.events).isEmpty();
        channel.config().setAutoRead(true);
        advanceSeconds(59.9);
        assertThat(decoder.events).isEmpty();
        advanceSeconds(60.1);
        assertThat(decoder.events).containsExactly(RequestTimeouts.BODY_TIMEOUT);
    }

    /**
     * A pause that ends before the timer fires (a spool file behind the disk for most of a body timeout) counts no more
     * than one the timer saw: the client, silent for 10 s before it and a second after, was answered 408 when the
     * timer came just after edge read again, its deadline still the one from before the pause.
     */
    @Test
    void aPauseThatEndsJustBeforeTheDeadlineDoesNotCountEither() {
        request();
        timeouts.bodyStarted();
        advanceSeconds(10); // the head's timer fires, and re-arms for the body's deadline, 60 s from its start
        channel.config().setAutoRead(false);
        advanceSeconds(49.5);
        channel.config().setAutoRead(true);
        timeouts.readingResumed();
        advanceSeconds(1);
        assertThat(decoder.events).isEmpty();
        advanceSeconds(60);
        assertThat(decoder.events).containsExactly(RequestTimeouts.BODY_TIMEOUT);
    }

    @Test
    void aBodyThatEndedIsNoLongerTimed() {
        request();
        timeouts.bodyStarted();
        advanceSeconds(30);
        timeouts.bodyEnded();
        advanceSeconds(1000);
        assertThat(decoder.events).isEmpty();
        assertThat(channel.isActive()).isTrue();
    }
}
