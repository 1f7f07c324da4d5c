package io.edge.core.tls;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import io.edge.conf.TlsClientVerify;
import java.net.URI;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.BiFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The OCSP check of a client's verified chain, as nginx's ssl_ocsp (ngx_ssl_ocsp_validate): each certificate asked
 * about in turn, the client's first, at the responder its Authority Information Access names (or ocsp-responder, over
 * every certificate's own), with the next of the chain as its issuer; {@code leaf} asks about the client's alone,
 * {@code on} about all but the root. The first that is not good ends it:
 * <pre>
 *   good ............................... the next certificate, or 0 (the chain passes) after the last
 *   revoked ............................ OCSP_REVOKED ("certificate revoked")
 *   unknown ............................ OCSP_UNKNOWN ("certificate status unknown")
 *   no responder URL, no answer, HTTP status other than 200, an answer that does not verify, is about another
 *   certificate or is more than 5 minutes past its nextUpdate ... OCSP_REQUEST_FAILED ("certificate status request
 *   failed")
 * </pre>
 * Each of these refuses the request as nginx 1.22 does (400 "The SSL certificate error"). The answer is checked as
 * nginx checks it (OpenSSL's OCSP_basic_verify without flags): its signer is the issuer, or a responder the issuer
 * named for OCSP signing.
 *
 * <p>Nothing here waits: the exchange is {@link OcspStapler#ask}'s (java.net.http's threads, a minute for the whole),
 * the answer judged on the thread that completes it, never an event loop. Answers (good, revoked and unknown alike,
 * as nginx's ssl_ocsp_cache) are kept by the certificate's id, where ocsp-cache allows, until their nextUpdate (an
 * hour where they have none, as nginx's); no failure is kept, so the next connection asks again.
 */
final class ClientOcsp {

    private static final Logger LOG = LoggerFactory.getLogger(ClientOcsp.class);
    /** nginx's: an answer without a nextUpdate is kept an hour. */
    static final Duration KEPT = Duration.ofHours(1);

    private final TlsClientVerify.Ocsp settings;
    private final Clock clock;
    /** Asks a responder: the request's DER to the answer's. */
    private final BiFunction<URI, byte[], CompletableFuture<byte[]>> responders;
    /** The answers kept, by {@link OcspRequest#key}; null with ocsp-cache 0. */
    private final Cache<String, Kept> answers;

    ClientOcsp(TlsClientVerify.Ocsp settings, Clock clock) {
        this(settings, clock, OcspStapler::ask);
    }

    ClientOcsp(TlsClientVerify.Ocsp settings, Clock clock,
            BiFunction<URI, byte[], CompletableFuture<byte[]>> responders) {
        this.settings = settings;
        this.clock = clock;
        this.responders = responders;
        this.answers = settings.cache() == 0 ? null : Caffeine.newBuilder()
                .maximumSize(settings.cache())
                .expireAfter(Expiry.<String, Kept>creating((key, kept) -> kept.left(clock.instant())))
                .build();
    }

    /** An answer's status, kept until {@code until}. */
    private record Kept(OcspResponse.Status status, Instant until) {

        Duration left(Instant now) {
            Duration left = Duration.between(now, until);
            return left.isNegative() ? Duration.ZERO : left;
        }
    }

    /**
     * What the responders say of {@code chain}, the client's certificate first and the trusted root last, as one of
     * {@link ClientVerifier}'s codes: 0 where every certificate asked about is good, else OCSP_REVOKED, OCSP_UNKNOWN or
     * OCSP_REQUEST_FAILED. Never completes exceptionally.
     */
    CompletableFuture<Integer> check(List<X509Certificate> chain) {
        return check(chain, new CompletableFuture<>());
    }

    /**
     * {@link #check}, for a client that may leave meanwhile: once {@code gone} completes, the exchange under way with a
     * responder ends (as nginx's ngx_ssl_ocsp_cleanup closes it with the connection) and none other begins, the check
     * failing (OCSP_REQUEST_FAILED).
     */
    CompletableFuture<Integer> check(List<X509Certificate> chain, CompletableFuture<?> gone) {
        int asked = settings.checked() == TlsClientVerify.Ocsp.Checked.LEAF ? Math.min(1, chain.size() - 1)
                : chain.size() - 1;
        CompletableFuture<Integer> status;
        try {
            status = next(chain, 0, asked, gone);
        } catch (RuntimeException e) { // a request that cannot even start (the first: the later ones fail below)
            status = CompletableFuture.failedFuture(e);
        }
        return status.exceptionally(failure -> {
            LOG.warn("OCSP of the client certificate {}: {}", name(chain.get(0)), failure instanceof
                    CompletionException && failure.getCause() != null ? failure.getCause() : failure);
            return ClientVerifier.OCSP_REQUEST_FAILED;
        });
    }

    /** The status of {@code chain}'s certificate {@code index}, then of the next up to {@code asked}, while good. */
    private CompletableFuture<Integer> next(List<X509Certificate> chain, int index, int asked,
            CompletableFuture<?> gone) {
        if (index >= asked) {
            return CompletableFuture.completedFuture(0);
        }
        if (gone.isDone()) {
            return CompletableFuture.completedFuture(ClientVerifier.OCSP_REQUEST_FAILED); // nobody waits for it
        }
        return status(new OcspRequest(chain.get(index), chain.get(index + 1)), gone)
                .thenCompose(error -> error != 0 ? CompletableFuture.completedFuture(error)
                        : next(chain, index + 1, asked, gone));
    }

    /** What the responder (or the cache) says of {@code request}'s certificate, as a code of {@link #check}. */
    private CompletableFuture<Integer> status(OcspRequest request, CompletableFuture<?> gone) {
        String key = request.key();
        Kept kept = answers == null ? null : answers.getIfPresent(key);
        if (kept != null && clock.instant().isBefore(kept.until())) {
            return CompletableFuture.completedFuture(code(kept.status()));
        }
        URI responder = settings.responder() != null ? settings.responder()
                : OcspStapler.responderOf(request.certificate());
        if (responder == null) {
            LOG.warn("OCSP of the client certificate {}: no http:// OCSP responder URL in it, and tls has no"
                    + " ocsp-responder (nginx: no OCSP responder URL in certificate)", name(request.certificate()));
            return CompletableFuture.completedFuture(ClientVerifier.OCSP_REQUEST_FAILED);
        }
        CompletableFuture<byte[]> exchange = responders.apply(responder, request.encoded());
        gone.whenComplete((left, failure) -> exchange.cancel(true));
        return exchange.handle((der, failure) -> {
            if (failure != null && gone.isDone()) {
                LOG.debug("OCSP of the client certificate {}: the client left, the exchange with {} ended",
                        name(request.certificate()), responder);
                return ClientVerifier.OCSP_REQUEST_FAILED;
            }
            if (failure != null) {
                Throwable cause = failure instanceof CompletionException && failure.getCause() != null
                        ? failure.getCause() : failure;
                LOG.warn("OCSP of the client certificate {}: no answer from {}: {}", name(request.certificate()),
                        responder, cause.getMessage() == null ? cause.toString() : cause.getMessage());
                return ClientVerifier.OCSP_REQUEST_FAILED;
            }
            OcspResponse.Answer answer;
            try {
                answer = OcspResponse.answer(der, request, true, clock.instant());
            } catch (IllegalArgumentException e) {
                LOG.warn("OCSP of the client certificate {}: the answer of {} is not taken: {}",
                        name(request.certificate()), responder, e.getMessage());
                return ClientVerifier.OCSP_REQUEST_FAILED;
            }
            if (answers != null) {
                // nginx's: until its nextUpdate, else an hour from now
                answers.put(key, new Kept(answer.status(), answer.nextUpdate() != null ? answer.nextUpdate()
                        : clock.instant().plus(KEPT)));
            }
            return code(answer.status());
        });
    }

    private static int code(OcspResponse.Status status) {
        return switch (status) {
            case GOOD -> 0;
            case REVOKED -> ClientVerifier.OCSP_REVOKED;
            case UNKNOWN -> ClientVerifier.OCSP_UNKNOWN;
        };
    }

    private static String name(X509Certificate certificate) {
        return certificate.getSubjectX500Principal().getName();
    }
}
