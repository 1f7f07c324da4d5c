package io.edge.core.auth;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.edge.conf.AuthBasic;
import io.edge.conf.Htpasswd;
import io.edge.core.http.ErrorResponses;
import io.edge.core.http.Exchange;
import io.edge.core.http.HeldRequest;
import io.edge.core.http.ThrottledWarnings;
import io.edge.fastcgi.LogText;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.util.NetUtil;
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
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A location's {@code auth-basic}, nginx's {@code auth_basic}, met as a request enters it ({@code LocationChecks}): a
 * request whose {@code Authorization: Basic} names a user of the file with its password goes on; any other gets 401
 * with {@code WWW-Authenticate: Basic realm="..."}; while the file is gone every request gets 403, while it cannot be read
 * 500, as nginx's. A password is checked on a small pool of its own (a SHA-512 crypt hash takes milliseconds: on an
 * event loop, a client guessing passwords would hold every connection of that loop), with the request's body left in
 * the socket meanwhile, and skipped for a client that left; a good one is remembered for a minute, so a browser's every
 * request does not pay for it. Names and passwords are compared as the bytes sent, as nginx compares them.
 */
public final class BasicAuth {

    private static final Logger LOG = LoggerFactory.getLogger(BasicAuth.class);
    private static final ThrottledWarnings REFUSED = new ThrottledWarnings(LOG, System::nanoTime);
    /** Checks at most waiting for a thread; past them 503 with Retry-After: guesses come faster than they are judged. */
    private static final int WAITING = 256;
    private static final Executor CHECKS = checks();
    /**
     * Passwords found good lately: file, user, hash and a digest of the password (never the password itself), so a
     * changed password or a user removed ends its welcome at once.
     */
    private static final Cache<String, Boolean> GOOD = Caffeine.newBuilder().maximumSize(10_000)
            .expireAfterWrite(Duration.ofMinutes(1)).build();

    private BasicAuth() {
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

    /**
     * Runs {@code granted} on the exchange's event loop (now, or once the password is checked) if the request carries a
     * user and password of {@code settings}' file; else answers it (401, or 403/500 while the file is gone or
     * unreadable, 503 while the checks are full).
     */
    public static void authorize(Exchange exchange, AuthBasic settings, Runnable granted) {
        UserFile file = UserFile.of(settings.userFile(), settings.users());
        if (file.state() != UserFile.State.READ) {
            exchange.sendError(file.state() == UserFile.State.MISSING ? HttpResponseStatus.FORBIDDEN
                    : HttpResponseStatus.INTERNAL_SERVER_ERROR);
            return;
        }
        String[] credentials = credentials(exchange.request().headers().get(HttpHeaderNames.AUTHORIZATION));
        if (credentials == null) {
            unauthorized(exchange, settings); // a browser's first request: no log line, as nginx logs none for it
            return;
        }
        String user = credentials[0];
        String password = credentials[1];
        Htpasswd users = file.users();
        String hash = users.users().get(user);
        if (hash == null) {
            refused(exchange, settings, "user \"" + LogText.escapeControls(user) + "\" was not found in "
                    + settings.userFile());
            return;
        }
        String key = settings.userFile() + "\u0000" + user + '\u0000' + hash + '\u0000' + digest(password);
        if (GOOD.getIfPresent(key) != null) {
            exchange.authenticated(user);
            granted.run();
            return;
        }
        // Its body stays in the socket while the check waits (read now, uploads would wait in memory, many at once)
        HeldRequest held = HeldRequest.hold(exchange);
        AtomicBoolean gone = new AtomicBoolean();
        exchange.onClientGone(() -> gone.set(true));
        try {
            CHECKS.execute(() -> {
                if (gone.get()) {
                    return; // its client left while it waited: no hash for nobody
                }
                boolean matches;
                RuntimeException failed = null;
                try {
                    matches = users.matches(user, password);
                } catch (RuntimeException e) {
                    matches = false;
                    failed = e;
                }
                RuntimeException failure = failed;
                boolean good = matches;
                exchange.clientChannel().eventLoop().execute(() -> {
                    if (!held.release()) {
                        return;
                    }
                    if (failure != null) {
                        LOG.error("checking the password of user \"{}\" of {} failed", LogText.escapeControls(user),
                                settings.userFile(), failure);
                        exchange.fail(failure);
                        return;
                    }
                    if (!good) {
                        refused(exchange, settings, "user \"" + LogText.escapeControls(user) + "\": password mismatch");
                        return;
                    }
                    GOOD.put(key, Boolean.TRUE);
                    exchange.authenticated(user);
                    HeldRequest.run(exchange, granted);
                });
            });
        } catch (RejectedExecutionException full) {
            held.release();
            exchange.sendError(HttpResponseStatus.SERVICE_UNAVAILABLE);
        }
    }

    /**
     * User and password of an {@code Authorization: Basic} value, as bytes one char each (ISO-8859-1), or null for none
     * or one that cannot be read.
     */
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
        String pair = new String(decoded, StandardCharsets.ISO_8859_1);
        int colon = pair.indexOf(':');
        return colon < 0 ? null : new String[] {pair.substring(0, colon), pair.substring(colon + 1)};
    }

    private static void refused(Exchange exchange, AuthBasic settings, String why) {
        // nginx logs each at error level; a guesser's flood is one line in ten seconds here (the access log has each 401)
        REFUSED.warn(BasicAuth.class, exchange.request().method() + " " + LogText.escapeBytes(exchange.request().uri())
                + " from " + NetUtil.toAddressString(exchange.remoteAddress().getAddress()) + " -> 401: " + why);
        unauthorized(exchange, settings);
    }

    private static void unauthorized(Exchange exchange, AuthBasic settings) {
        String challenge = "Basic realm=\"" + settings.realm() + "\"";
        if (exchange.toNamedErrorPage(HttpResponseStatus.UNAUTHORIZED,
                new DefaultHttpHeaders().set(HttpHeaderNames.WWW_AUTHENTICATE, challenge))) {
            return; // nginx's error_page 401 @app: the application answers, the challenge kept
        }
        FullHttpResponse response = ErrorResponses.response(exchange, HttpResponseStatus.UNAUTHORIZED);
        response.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, challenge);
        exchange.complete(exchange.writeAndFlush(response));
    }

    private static String digest(String password) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(password.getBytes(StandardCharsets.ISO_8859_1)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }
}
