package io.edge.core.limit;

import io.edge.cache.http.ResponseCache;
import io.edge.conf.LimitRate;
import io.edge.core.http.Exchange;
import io.edge.fastcgi.LogText;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pace of one answer's body under a limit-rate, nginx's {@code limit_rate} and {@code limit_rate_after}: the bytes
 * sent past {@code after} may be as many as the rate allows for the time since the body started plus one second (the
 * first second's worth free, as nginx's). The sender asks {@link #holds} before each piece it writes, with the body
 * bytes it handed to the channel so far (compressed ones where the answer is compressed, as nginx counts what it sent);
 * ahead of the rate, the pace schedules the sender's next try on the client's event loop for when the next piece is
 * allowed, and the sender writes nothing until then: the loop never waits. The pieces past {@code after} are a quarter
 * second's worth ({@link #piece}), 4 KiB at least (nginx's own floor): the client sees a steady stream, with no silence
 * a proxy in front would take for a stalled server.
 *
 * <p>Made only for an answer that has a limit: a sender without one holds no pace (null) and asks nothing. On the
 * client's event loop alone.
 */
public final class BodyPace {

    private static final Logger LOG = LoggerFactory.getLogger(BodyPace.class);

    /** The least a paced piece holds, nginx's. */
    static final long MIN_PIECE = 4 * 1024;
    /** {@link #rateOf} a line that is no number. */
    private static final long NO_NUMBER = Long.MIN_VALUE;

    private final LimitRate limitRate;
    private final EventLoop loop;
    /** When the body started, on the loop's clock (nginx counts from the request's start). */
    private final long startNanos;
    /** The wait {@link #holds} scheduled, until it ends or is cancelled; else null. */
    private ScheduledFuture<?> wait;

    /**
     * The limit-rate of a script's answer, its body or the file it hands out, from the backend or from the response
     * cache: the script's {@code X-Accel-Limit-Rate} {@code header} (bytes a second; 0: none), as nginx takes it, with
     * the {@code after} of {@code own}, the limit-rate of the location that answers; without the header, or with one
     * that is no number or is negative (ignored, as nginx ignores it), {@code own}; null for none. {@code whose}
     * starts the debug line that says one was ignored (the request's id, say), asked only then.
     */
    public static LimitRate ofScript(String header, LimitRate own, Supplier<String> whose) {
        if (header == null) {
            return own;
        }
        long rate = rateOf(header);
        if (rate == NO_NUMBER) {
            if (LOG.isDebugEnabled()) {
                LOG.debug("{} X-Accel-Limit-Rate {} is no number: ignored", whose.get(),
                        LogText.escapeControls(header));
            }
            return own;
        }
        if (rate < 0) {
            return own;
        }
        return rate == 0 ? null : new LimitRate(rate, own == null ? 0 : own.after());
    }

    /**
     * The one of a backend's {@code X-Accel-Limit-Rate} lines ({@code lines}, as they came) that sets the pace, as nginx
     * takes it ({@link ResponseCache#limitRateLine}: the last that is a number), for a proxied answer as for a script's
     * (measured: nginx paces both alike); the one the response cache paces the answer's hits by too.
     */
    public static String scriptRate(List<String> lines) {
        return ResponseCache.limitRateLine(lines);
    }

    /** The rate a line of X-Accel-Limit-Rate says, negative where it is no number or below 0. */
    private static long rateOf(String line) {
        try {
            return Long.parseLong(line.strip());
        } catch (NumberFormatException e) {
            return NO_NUMBER;
        }
    }

    /** A pace of {@code limitRate} for a body starting now, on {@code loop}'s clock. */
    public BodyPace(LimitRate limitRate, EventLoop loop) {
        this.limitRate = limitRate;
        this.loop = loop;
        this.startNanos = loop.ticker().nanoTime();
    }

    /**
     * The body bytes of {@code exchange}'s answer the pace counts as gone: those written, as they go out (compressed
     * where the location's gzip compresses them: nginx's limit_rate counts the bytes sent); 0 where it counts none.
     */
    public static long sent(Exchange exchange) {
        return Math.max(0, exchange.bodyBytesWritten());
    }

    /**
     * The most of the body the next piece may hold once {@code sent} bytes went, at most {@code max}: before
     * {@code after}, up to it exactly (those go at full speed); past it, a quarter second's worth, 4 KiB at least.
     */
    public long piece(long sent, long max) {
        if (sent < limitRate.after()) {
            return Math.min(max, limitRate.after() - sent);
        }
        return Math.min(max, Math.max(MIN_PIECE, limitRate.bytesPerSecond() / 4));
    }

    /**
     * Whether {@code sent} body bytes are ahead of the rate: then {@code next} is scheduled on the loop for when the
     * next piece is allowed, and true is returned; while a wait it scheduled has not ended, true without another.
     */
    public boolean holds(long sent, Runnable next) {
        if (wait != null) {
            return true;
        }
        long delay = waitNanos(limitRate, sent, loop.ticker().nanoTime() - startNanos);
        if (delay <= 0) {
            return false;
        }
        wait = loop.schedule(() -> {
            wait = null;
            next.run();
        }, delay, TimeUnit.NANOSECONDS);
        return true;
    }

    /** Whether a body of {@code bytes}, none of it sent yet, may go now in one write. */
    public boolean allowsAtOnce(long bytes) {
        return waitNanos(limitRate, bytes, loop.ticker().nanoTime() - startNanos) <= 0;
    }

    /** Drops a wait {@link #holds} scheduled: a client that left is let go now, not when its next piece was due. */
    public void cancel() {
        if (wait != null) {
            wait.cancel(false);
            wait = null;
        }
    }

    /**
     * How long after {@code elapsedNanos} into the body {@code sent} bytes of it are within {@code limitRate}: the
     * bytes past {@code after} may be as many as the rate allows for the elapsed time plus one second; 0 or less: now.
     */
    static long waitNanos(LimitRate limitRate, long sent, long elapsedNanos) {
        long ahead = sent - limitRate.after();
        if (ahead <= 0) {
            return 0;
        }
        long allowedAt = (long) ((double) ahead / limitRate.bytesPerSecond() * 1e9) - TimeUnit.SECONDS.toNanos(1);
        return allowedAt - elapsedNanos;
    }
}
