package io.edge.core.tls;

import io.edge.conf.TlsCertificate;
import io.edge.conf.TlsStapling;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.bouncycastle.asn1.DERIA5String;
import org.bouncycastle.asn1.x509.AccessDescription;
import org.bouncycastle.asn1.x509.AuthorityInformationAccess;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The OCSP response stapled to the handshakes of one certificate, as nginx's ssl_stapling keeps it: the stapling-file's,
 * as it is; or one fetched from the responder, off the event loops, and fetched again before it runs out.
 * <pre>
 *   NEW --start--> FETCHING --good response--> HOLDING (staples it; fetches again at min(nextUpdate - 5 min, 1 h),
 *                      |                          |      at least 5 min on)
 *                      +--failure--> (keeps what it held while valid; fetches again in 5 min)
 *   any --close--> CLOSED (no more fetches, the one under way ended: a reload's new contexts have their own)
 * </pre>
 * A failure is also an answer past nginx's 16 KB (not read further) or not whole within a minute.
 * A handshake reads {@link #staple} alone, a volatile field: it never waits for a fetch.
 */
final class OcspStapler {

    private static final Logger LOG = LoggerFactory.getLogger(OcspStapler.class);
    /** nginx's: a good response is fetched again within an hour, one that failed in five minutes. */
    static final Duration REFRESH = Duration.ofHours(1);
    static final Duration RETRY = Duration.ofMinutes(5);
    /**
     * A responder has a minute for its whole answer. nginx's minute is between reads, so it waits on one that sends a
     * byte at a time until its 16 KB are full; edge gives it up.
     */
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    /** nginx's buffer for a responder's answer: what does not fit is not read (nor is a larger answer taken). */
    private static final int MOST = 16 * 1024;
    private static final String OCSP_RESPONSE = "application/ocsp-response";

    /**
     * The one thread that asks responders and judges their answers, never an event loop, nor the client certificate
     * checks'. It waits on no responder: an exchange goes on in java.net.http's own threads, so one that is slow holds
     * back no other certificate's. A daemon, named as edge's other threads, gone when idle.
     */
    private static final ScheduledExecutorService FETCHES = fetches();
    private static final HttpClient CLIENT = HttpClient.newBuilder()
            .connectTimeout(TIMEOUT)
            .followRedirects(HttpClient.Redirect.NEVER)
            .proxy(HttpClient.Builder.NO_PROXY)
            .version(HttpClient.Version.HTTP_1_1) // no h2c upgrade offered to a responder
            .build(); // its own executor: reads answers while FETCHES judges others'

    private static ScheduledExecutorService fetches() {
        ScheduledThreadPoolExecutor pool = new ScheduledThreadPoolExecutor(1, new DefaultThreadFactory("edge-ocsp",
                true));
        pool.setRemoveOnCancelPolicy(true);
        pool.setKeepAliveTime(60, TimeUnit.SECONDS);
        pool.allowCoreThreadTimeOut(true);
        return pool;
    }

    private final String name;
    private final TlsStapling settings;
    /** Null with a stapling-file. */
    private final OcspRequest request;
    private final URI responder;
    private final Clock clock;
    private volatile OcspResponse held;
    private ScheduledFuture<?> next;
    /** The exchange with the responder under way, or null. */
    private CompletableFuture<byte[]> asking;
    private boolean closed;

    private OcspStapler(String name, TlsStapling settings, OcspRequest request, URI responder, Clock clock) {
        this.name = name;
        this.settings = settings;
        this.request = request;
        this.responder = responder;
        this.clock = clock;
        byte[] file = settings.response();
        if (file != null) {
            held = new OcspResponse(file, Instant.EPOCH, null); // stapled as it is, as nginx's ssl_stapling_file
        }
    }

    /**
     * The stapler of {@code certificate}, or null where it staples nothing: stapling is off, or the request cannot be
     * made (no issuer certificate, no responder URL), said as nginx's "ssl_stapling" ignored.
     */
    static OcspStapler of(TlsCertificate certificate, Clock clock) {
        TlsStapling settings = certificate.stapling();
        if (!settings.enabled()) {
            return null;
        }
        String name = certificate.certificateFile().toString();
        if (settings.response() != null) {
            return new OcspStapler(name, settings, null, null, clock);
        }
        X509Certificate issuer = issuer(certificate.chain(), settings.trusted());
        if (issuer == null) {
            LOG.warn("tls.stapling of {}: off, the issuer certificate of \"{}\" is neither in the file nor in"
                    + " trusted-certificate (nginx: \"ssl_stapling\" ignored, issuer certificate not found)", name,
                    certificate.leaf().getSubjectX500Principal().getName());
            return null;
        }
        URI responder = settings.responder() != null ? settings.responder() : responderOf(certificate.leaf());
        if (responder == null) {
            LOG.warn("tls.stapling of {}: off, the certificate names no http:// OCSP responder and tls has no"
                    + " stapling-responder (nginx: \"ssl_stapling\" ignored, no OCSP responder URL in the certificate)",
                    name);
            return null;
        }
        return new OcspStapler(name, settings, new OcspRequest(certificate.leaf(), issuer), responder, clock);
    }

    /** The certificate of {@code chain}'s leaf's issuer: the next of the chain that signed it, else a trusted one. */
    static X509Certificate issuer(List<X509Certificate> chain, List<X509Certificate> trusted) {
        X509Certificate leaf = chain.get(0);
        List<X509Certificate> candidates = new ArrayList<>(chain.subList(1, chain.size()));
        candidates.addAll(trusted);
        for (X509Certificate candidate : candidates) {
            if (candidate.getSubjectX500Principal().equals(leaf.getIssuerX500Principal())) {
                try {
                    leaf.verify(candidate.getPublicKey());
                    return candidate;
                } catch (java.security.GeneralSecurityException e) {
                    // a CA of the same name, another key: not this one's
                }
            }
        }
        return null;
    }

    /** The http:// OCSP URL of {@code certificate}'s Authority Information Access, or null. */
    static URI responderOf(X509Certificate certificate) {
        byte[] extension = certificate.getExtensionValue(Extension.authorityInfoAccess.getId());
        if (extension == null) {
            return null;
        }
        try {
            AuthorityInformationAccess access = AuthorityInformationAccess.getInstance(
                    JcaX509ExtensionUtils.parseExtensionValue(extension));
            for (AccessDescription description : access.getAccessDescriptions()) {
                GeneralName location = description.getAccessLocation();
                if (description.getAccessMethod().equals(AccessDescription.id_ad_ocsp)
                        && location.getTagNo() == GeneralName.uniformResourceIdentifier) {
                    URI uri = URI.create(DERIA5String.getInstance(location.getName()).getString());
                    if ("http".equalsIgnoreCase(uri.getScheme()) && uri.getHost() != null) {
                        return uri;
                    }
                }
            }
        } catch (IOException | IllegalArgumentException | IllegalStateException e) {
            LOG.warn("Authority Information Access of {}: {}", certificate.getSubjectX500Principal().getName(),
                    e.getMessage());
        }
        return null;
    }

    /** Begins fetching (at once, off the caller's thread); nothing with a stapling-file. */
    synchronized void start() {
        if (request != null && !closed && next == null) {
            next = FETCHES.schedule(this::fetch, 0, TimeUnit.SECONDS);
        }
    }

    /** Fetches no more. */
    synchronized void close() {
        closed = true;
        if (next != null) {
            next.cancel(false);
        }
        if (asking != null) {
            asking.cancel(true); // ends the exchange: a reload's contexts ask on their own
        }
    }

    /** The response to staple to a handshake now, or null: none yet, or the one held ran out. */
    byte[] staple() {
        OcspResponse response = held;
        if (response == null || !response.validAt(clock.instant())) {
            return null;
        }
        return response.encoded();
    }

    /** Asks the responder; {@link #answered} takes its answer. On {@link #FETCHES}. */
    private void fetch() {
        CompletableFuture<byte[]> answer;
        try {
            answer = ask(responder, request.encoded());
        } catch (RuntimeException e) { // a request java.net.http refuses: failed as an answer, asked again
            answer = CompletableFuture.failedFuture(e);
        }
        synchronized (this) {
            if (closed) {
                answer.cancel(true);
                return;
            }
            asking = answer;
        }
        answer.whenCompleteAsync(this::answered, FETCHES);
    }

    /** Keeps a good answer, says why another is not stapled, and sets the next fetch. On {@link #FETCHES}. */
    private void answered(byte[] answer, Throwable failure) {
        Duration after;
        try {
            if (failure != null) {
                throw failure instanceof CompletionException && failure.getCause() != null ? failure.getCause()
                        : failure;
            }
            OcspResponse response = OcspResponse.check(answer, request, settings.verify(), clock.instant());
            held = response;
            Instant now = clock.instant();
            after = refreshAfter(now, response.nextUpdate());
            LOG.debug("tls.stapling of {}: good from {}, next update {}", name, responder, response.nextUpdate());
        } catch (Throwable e) {
            if (e instanceof CancellationException && isClosed()) {
                return; // closed: a reload's contexts ask on their own
            }
            LOG.warn("tls.stapling of {}: the response of {} is not stapled: {}", name, responder,
                    e instanceof CancellationException ? "no answer within " + TIMEOUT.toSeconds() + " s"
                    : e.getMessage() == null ? e.toString() : e.getMessage());
            after = RETRY;
        }
        synchronized (this) {
            asking = null;
            if (!closed) {
                next = FETCHES.schedule(this::fetch, after.toMillis(), TimeUnit.MILLISECONDS);
            }
        }
    }

    private synchronized boolean isClosed() {
        return closed;
    }

    /** When to fetch again after a good response, as nginx: before nextUpdate, within an hour, not before 5 min. */
    static Duration refreshAfter(Instant now, Instant nextUpdate) {
        Duration after = nextUpdate == null ? REFRESH : Duration.between(now, nextUpdate).minus(RETRY);
        if (after.compareTo(REFRESH) > 0) {
            after = REFRESH;
        }
        return after.compareTo(RETRY) < 0 ? RETRY : after;
    }

    /**
     * The responder's answer to {@code request}, asked as nginx asks: GET of the request's base64, URL-escaped, after
     * the responder's path (RFC 6960 appendix A.1; a response a CDN in front of the responder may cache). Read into
     * {@link #MOST} bytes at most, within {@link #TIMEOUT} for the whole exchange (cancelled then); a status other
     * than 200 fails it, and so does a Content-Type other than an OCSP response's ({@link #refusal}).
     */
    static CompletableFuture<byte[]> ask(URI responder, byte[] request) {
        HttpRequest get = HttpRequest.newBuilder(requestUri(responder, request))
                .timeout(TIMEOUT)
                .header("Accept", OCSP_RESPONSE)
                .GET()
                .build();
        CompletableFuture<HttpResponse<byte[]>> sent = CLIENT.sendAsync(get, head -> new Bounded(refusal(head)));
        ScheduledFuture<?> deadline = FETCHES.schedule(() -> sent.cancel(true), TIMEOUT.toMillis(),
                TimeUnit.MILLISECONDS);
        CompletableFuture<byte[]> answer = sent.whenComplete((response, failure) -> deadline.cancel(false))
                .thenApply(response -> {
                    if (response.statusCode() != 200) {
                        throw new IllegalArgumentException("HTTP status " + response.statusCode()
                                + " (expected: 200)");
                    }
                    return response.body();
                });
        answer.whenComplete((body, failure) -> {
            if (failure instanceof CancellationException) {
                sent.cancel(true); // a close's: the exchange ends too
            }
        });
        return answer;
    }

    /**
     * Why an answer of these headers is not read, or null: a Content-Type other than application/ocsp-response, as
     * nginx's ngx_ssl_ocsp_process_headers refuses it ("OCSP responder sent invalid "Content-Type" header") whatever
     * the status; an answer without one is read.
     */
    static String refusal(HttpResponse.ResponseInfo head) {
        for (String type : head.headers().allValues("Content-Type")) {
            if (!type.strip().equalsIgnoreCase(OCSP_RESPONSE)) {
                return "Content-Type: \"" + type + "\" (expected: " + OCSP_RESPONSE + ", as nginx takes)";
            }
        }
        return null;
    }

    /**
     * A body of {@link #MOST} bytes at most: a longer one is cancelled (its connection closed) and fails; so is one
     * whose headers were refused, unread.
     */
    private static final class Bounded implements HttpResponse.BodySubscriber<byte[]> {

        private final CompletableFuture<byte[]> body = new CompletableFuture<>();
        private final ByteArrayOutputStream read = new ByteArrayOutputStream();
        private final String refusal;
        private Flow.Subscription subscription;

        Bounded(String refusal) {
            this.refusal = refusal;
        }

        @Override
        public CompletionStage<byte[]> getBody() {
            return body;
        }

        @Override
        public void onSubscribe(Flow.Subscription subscription) {
            this.subscription = subscription;
            if (refusal != null) {
                subscription.cancel();
                body.completeExceptionally(new IllegalArgumentException(refusal));
                return;
            }
            subscription.request(Long.MAX_VALUE);
        }

        @Override
        public void onNext(List<ByteBuffer> buffers) {
            for (ByteBuffer buffer : buffers) {
                if (body.isDone()) {
                    return;
                }
                if (buffer.remaining() > MOST - read.size()) {
                    subscription.cancel();
                    body.completeExceptionally(new IllegalArgumentException("answer: more than " + MOST
                            + " bytes (expected: an OCSP response of at most " + MOST + " bytes, as nginx reads)"));
                    return;
                }
                byte[] bytes = new byte[buffer.remaining()];
                buffer.get(bytes);
                read.writeBytes(bytes);
            }
        }

        @Override
        public void onError(Throwable failure) {
            body.completeExceptionally(failure);
        }

        @Override
        public void onComplete() {
            body.complete(read.toByteArray());
        }
    }

    /** {@code responder} with the GET form of {@code request} after its path. */
    static URI requestUri(URI responder, byte[] request) {
        String path = responder.getRawPath() == null || responder.getRawPath().isEmpty() ? "/"
                : responder.getRawPath();
        String encoded = Base64.getEncoder().encodeToString(request).replace("+", "%2B").replace("/", "%2F")
                .replace("=", "%3D");
        return URI.create("http://" + responder.getRawAuthority() + path + (path.endsWith("/") ? "" : "/") + encoded);
    }
}
