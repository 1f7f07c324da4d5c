package io.edge.core.auth;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.edge.conf.AuthBasic;
import io.edge.conf.Htpasswd;
import io.edge.core.http.ErrorResponses;
import io.edge.core.http.Exchange;
import io.edge.core.http.Responder;
import io.edge.core.http.ThrottledWarnings;
import io.edge.fastcgi.LogText;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Base64;
import java.util.HexFormat;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A location's {@code auth-basic} in front of its responder, nginx's {@code auth_basic}: a request whose
 * {@code Authorization: Basic} names a user of the file with its password goes on; any other gets 401 with
 * {@code WWW-Authenticate: Basic realm="..."}. A password is checked on a small pool of its own (a SHA-512 crypt hash
 * takes milliseconds: on an event loop, a client guessing passwords would hold every connection of that loop), and a
 * good one remembered for a minute, so a browser's every request does not pay for it.
 */
public final class BasicAuthResponder implements Responder {

    private static final Logger LOG = LoggerFactory.getLogger(BasicAuthResponder.class);
    private static final ThrottledWarnings REFUSED = new ThrottledWarnings(LOG, System::nanoTime);
    /** Checks at most waiting for a thread; past them 503, as a full queue: guesses come faster than they are judged. */
    private static final int WAITING = 1024;
    private static final Executor CHECKS = checks();
    private static final Duration REMEMBERED = Duration.ofMinutes(1);

    private final Responder inner;
    private final AuthBasic settings;
    private final UserFile users;
    private final String challenge;
    /** Passwords found good lately: user, hash and a digest of the password (never the password itself). */
    private final Cache<String, Boolean> good = Caffeine.newBuilder().maximumSize(10_000)
            .expireAfterWrite(REMEMBERED).build();

    public BasicAuthResponder(Responder inner, AuthBasic settings, UserFile users) {
        this.inner = inner;
        this.settings = settings;
        this.users = users;
        this.challenge = "Basic realm=\"" + settings.realm() + "\"";
    }

    private static Executor checks() {
        AtomicInteger count = new AtomicInteger();
        ThreadPoolExecutor pool = new ThreadPoolExecutor(2, 2, 60, TimeUnit.SECONDS, new ArrayBlockingQueue<>(WAITING),
                r -> {
                    Thread t = new Thread(r, "edge-auth-" + count.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
        pool.allowCoreThreadTimeOut(true);
        return pool;
    }

    @Override
    public void respond(Exchange exchange) {
        String[] credentials = credentials(exchange.request().headers().get(HttpHeaderNames.AUTHORIZATION));
        if (credentials == null) {
            unauthorized(exchange); // a browser's first request: no log line, as nginx logs none for it
            return;
        }
        String user = credentials[0];
        String password = credentials[1];
        Htpasswd file = users.users();
        String hash = file.users().get(user);
        if (hash == null) {
            refused(exchange, "user \"" + LogText.escapeControls(user) + "\" was not found in " + settings.userFile());
            return;
        }
        String key = user + '\u0000' + hash + '\u0000' + digest(password);
        if (good.getIfPresent(key) != null) {
            inner.respond(exchange);
            return;
        }
        try {
            CHECKS.execute(() -> {
                boolean matches = file.matches(user, password);
                exchange.clientChannel().eventLoop().execute(() -> {
                    if (exchange.isEnded()) {
                        return;
                    }
                    if (!matches) {
                        refused(exchange, "user \"" + LogText.escapeControls(user) + "\": password mismatch");
                        return;
                    }
                    good.put(key, Boolean.TRUE);
                    try {
                        inner.respond(exchange);
                    } catch (RuntimeException e) {
                        LOG.error("responder failed for {}", exchange.request().uri(), e);
                        exchange.fail(e);
                    }
                });
            });
        } catch (RejectedExecutionException full) {
            exchange.sendError(HttpResponseStatus.SERVICE_UNAVAILABLE);
        }
    }

    /** User and password of an {@code Authorization: Basic} value, or null for none or one that cannot be read. */
    static String[] credentials(String authorization) {
        if (authorization == null || authorization.length() < 6
                || !authorization.regionMatches(true, 0, "Basic ", 0, 6)) {
            return null;
        }
        byte[] decoded;
        try {
            decoded = Base64.getDecoder().decode(authorization.substring(6).strip());
        } catch (IllegalArgumentException e) {
            return null;
        }
        String pair = new String(decoded, StandardCharsets.UTF_8);
        int colon = pair.indexOf(':');
        return colon < 0 ? null : new String[] {pair.substring(0, colon), pair.substring(colon + 1)};
    }

    private void refused(Exchange exchange, String why) {
        // nginx logs each at error level; a guesser's flood is one line in ten seconds here
        REFUSED.warn(BasicAuthResponder.class, exchange.request().method() + " " + exchange.request().uri() + " from "
                + exchange.remoteAddress().getAddress().getHostAddress() + " -> 401: " + why);
        unauthorized(exchange);
    }

    private void unauthorized(Exchange exchange) {
        FullHttpResponse response = ErrorResponses.response(exchange, HttpResponseStatus.UNAUTHORIZED);
        response.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, challenge);
        exchange.complete(exchange.writeAndFlush(response));
    }

    private static String digest(String password) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(password.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }
}
