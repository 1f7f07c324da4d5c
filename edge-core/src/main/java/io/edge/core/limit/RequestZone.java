package io.edge.core.limit;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.util.concurrent.TimeUnit;

/**
 * One table of clients of a request limit (nginx's {@code limit_req_zone}): per key ({@link ZoneKeys}: a client's
 * address, or the value of the zone's key text), how far it is past the rate, a leaky bucket as nginx's. Each request
 * adds one; the bucket drains at the rate. Thread-safe: the event loops share it.
 */
public final class RequestZone {

    /** Clients remembered at most; the least recently seen are forgotten first, as a full nginx zone forgets. */
    static final int MAX_CLIENTS = 100_000;

    /** What {@link #admit} says of a request that may not go now nor wait. */
    public static final long REFUSED = -1;

    private final double perNano;
    private final Cache<Object, Bucket> clients;

    /** A client's requests past the rate, as of {@code atNanos}. */
    private record Bucket(double excess, long atNanos) {
    }

    /** @param rate requests per second allowed on average */
    public RequestZone(double rate) {
        this.perNano = rate / TimeUnit.SECONDS.toNanos(1);
        // A bucket drained empty is as good as none: it goes after the time the largest burst takes to drain.
        this.clients = Caffeine.newBuilder().maximumSize(MAX_CLIENTS)
                .expireAfterAccess(Math.max(1, (long) Math.ceil(1_000_001 / rate)), TimeUnit.SECONDS).build();
    }

    /**
     * Counts a request of {@code client} at {@code nowNanos} against a burst of {@code burst}, of which the first
     * {@code delay} requests past the rate go at once (nginx's {@code delay=}; {@code burst} for its {@code nodelay},
     * 0 to space out every one): 0 to go at once, the nanoseconds it must wait to conform to the rate, or
     * {@link #REFUSED} past the burst, which then counts nothing (as nginx's). A request that goes at once or waits
     * counts alike: the bucket holds it from now, whatever its wait.
     */
    public long admit(Object client, long nowNanos, int burst, int delay) {
        long[] wait = new long[1];
        clients.asMap().compute(client, (address, bucket) -> {
            double next = next(bucket, nowNanos);
            if (next > burst + 1e-9) {
                wait[0] = REFUSED;
                return bucket;
            }
            // nginx's (excess - delay) / rate: only what is past the delay waits, for what the rate takes to drain it
            wait[0] = next > delay + 1e-9 ? (long) Math.ceil((next - delay) / perNano) : 0;
            return new Bucket(next, nowNanos);
        });
        return wait[0];
    }

    /**
     * Whether a request of {@code client} at {@code nowNanos} is within a burst of {@code burst}, counting nothing:
     * nginx's look at a zone before the last of a location's, which takes from none until all have let it in.
     */
    boolean fits(Object client, long nowNanos, int burst) {
        return next(clients.getIfPresent(client), nowNanos) <= burst + 1e-9;
    }

    /**
     * Counts a request of {@code client} that every zone of its location let in, whatever its burst now (nginx's
     * ngx_http_limit_req_account: what another request took meanwhile is not looked at again): its wait, as
     * {@link #admit}'s.
     */
    long count(Object client, long nowNanos, int delay) {
        return admit(client, nowNanos, Integer.MAX_VALUE, delay);
    }

    /**
     * How far {@code client} would be past the rate with a request at {@code nowNanos}, counting nothing: nginx's
     * excess as its line about a refused request says it (0.929 requests).
     */
    double excessWithOneMore(Object client, long nowNanos) {
        return next(clients.getIfPresent(client), nowNanos);
    }

    /**
     * How far {@code client} is past the rate at {@code nowNanos}: nginx's excess as its line about a delayed request,
     * counted already, says it; 0 for a client not seen or drained.
     */
    double excess(Object client, long nowNanos) {
        Bucket bucket = clients.getIfPresent(client);
        return bucket == null ? 0 : Math.max(0, bucket.excess - (nowNanos - bucket.atNanos) * perNano);
    }

    /** nginx's: what was past the rate, less what drained since, plus this request; a new client starts empty. */
    private double next(Bucket bucket, long nowNanos) {
        return bucket == null ? 0 : Math.max(0, bucket.excess - (nowNanos - bucket.atNanos) * perNano + 1);
    }
}
