package io.edge.core.limit;

import io.edge.conf.LimitMode;
import io.edge.core.http.Exchange;
import io.edge.core.http.ThrottledWarnings;
import io.edge.fastcgi.LogText;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.util.NetUtil;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.event.Level;

/**
 * The error-log lines of the requests a limit refuses or delays, in nginx's words, so that what reads nginx's error log
 * reads edge's from the message on (fail2ban's nginx-limit-req filter's {@code limiting requests, excess: [\d\.]+ by
 * zone "(?:[^"]+)", client: <HOST>,}):
 * <pre>
 * limiting requests, excess: 0.929 by zone "one", client: 127.0.0.1, server: example.org, request: "GET / HTTP/1.1", host: "example.org"
 * limiting connections, dry run, by zone "addr", client: 127.0.0.1, server: example.org, request: "GET /big HTTP/1.1", host: "example.org"
 * </pre>
 * A line for every refusal by default, as nginx's: each goes through the error log's queue (ErrorLogQueue), bounded
 * and never blocking an event loop, which drops lines in a flood and says how many; {@code log = throttled} writes the
 * first and then one in ten seconds ({@link ThrottledWarnings}). The message is made only when its level is logged.
 */
final class LimitLog {

    private LimitLog() {
    }

    /** The level of {@code mode}'s line in edge's error log: nginx's notice and info are both edge's info. */
    static Level level(LimitMode mode) {
        return switch (mode.level()) {
            case ERROR -> Level.ERROR;
            case WARN -> Level.WARN;
            case NOTICE, INFO -> Level.INFO;
        };
    }

    /**
     * The level of the line of a request {@code mode}'s limit delays: one of nginx's below the refusal's (its
     * delay_log_level), info staying info; in edge's, error's is warn, the others' info.
     */
    static Level delayLevel(LimitMode mode) {
        return mode.level() == LimitMode.Level.ERROR ? Level.WARN : Level.INFO;
    }

    /**
     * Logs a refusal, {@code what} saying why ({@code limiting requests, excess: ...}) and {@code context} of which
     * request ({@link #context}, made only when the line is written), as {@code mode} says: every one, or throttled by
     * {@code throttled} under {@code kind}.
     */
    static void refused(Logger log, ThrottledWarnings throttled, Class<?> kind, LimitMode mode, String what,
                        Supplier<String> context) {
        Level level = level(mode);
        if (!log.isEnabledForLevel(level)) {
            return;
        }
        String line = what + context.get();
        if (mode.every()) {
            log.atLevel(level).log(line);
        } else {
            throttled.log(level, kind, line);
        }
    }

    /** nginx's {@code 0.929}: requests past the rate, to the thousandth below. */
    static String excess(double excess) {
        long thousandths = (long) (excess * 1000);
        return thousandths / 1000 + "." + String.format("%03d", thousandths % 1000);
    }

    /**
     * What nginx's error log says of the request a line is about: {@code , client: 127.0.0.1, server: example.org,
     * request: "GET / HTTP/1.1", host: "example.org"}, the client as the access log names it (real-ip's behind a
     * trusted proxy; an IPv6 one in RFC 5952's short form), no host where the request sent none. What the client sent
     * has its control characters and bytes above ASCII escaped ({@code \x9b}, {@code caf\xc3\xa9}), as edge's other
     * lines quote a request target ({@link LogText#escapeBytes}): its bytes 0x80-0x9F are C1 controls once read (a
     * terminal's CSI, a next line).
     */
    static String context(Exchange exchange) {
        StringBuilder context = new StringBuilder(", client: ")
                .append(NetUtil.toAddressString(exchange.remoteAddress().getAddress()));
        if (exchange.site() != null) {
            context.append(", server: ").append(exchange.site().serverName());
        }
        context.append(", request: \"").append(LogText.escapeBytes(exchange.requestLine())).append('"');
        String host = exchange.request().headers().get(HttpHeaderNames.HOST);
        if (host != null) {
            context.append(", host: \"").append(LogText.escapeBytes(host)).append('"');
        }
        return context.toString();
    }
}
