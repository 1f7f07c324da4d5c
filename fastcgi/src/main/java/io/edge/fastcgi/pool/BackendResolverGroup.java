package io.edge.fastcgi.pool;

import io.netty.resolver.AddressResolver;
import io.netty.resolver.AddressResolverGroup;
import io.netty.resolver.InetNameResolver;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Looks a backend's host name up when it is connected to, on threads of its own: the JDK's lookup
 * ({@code getaddrinfo}, with /etc/hosts and nsswitch as the rest of the machine sees them) waits for DNS, 5 s per
 * server and try when one does not answer, and Netty's default resolver would wait on the event loop that connects,
 * holding every client of that loop. The JDK keeps answers (30 s) and failures (10 s), so a backend host may come
 * and go in DNS, as HAProxy's resolvers allow; most connects find their answer there. A lookup not answered within
 * the connect timeout fails the connect, as a connect that times out does.
 *
 * <p>One lookup per name is in flight at a time, its answer shared by every connect that asks meanwhile: the JDK
 * runs one per name anyway and holds the others, so a name whose DNS hangs holds one lookup thread, not all of them.
 * One group per connect timeout, shared by every pool ({@link #of}): a group holds a resolver per event loop until
 * that loop ends, and a reload's pools must not add theirs.
 */
final class BackendResolverGroup extends AddressResolverGroup<InetSocketAddress> {

    /** How a name is looked up: the JDK's resolver, or a test's. */
    interface Lookup {
        List<InetAddress> lookUp(String host) throws UnknownHostException;
    }

    private static final Lookup JDK = host -> Arrays.asList(InetAddress.getAllByName(host));

    /** Shared by every group: the names being looked up at once, each on one thread. */
    private static final Executor LOOKUPS = lookupThreads();

    private static final ConcurrentMap<Duration, BackendResolverGroup> BY_TIMEOUT = new ConcurrentHashMap<>();

    private final Lookup lookup;
    private final Executor lookups;
    private final long timeoutNanos;
    /** The lookup in flight for each name, which connects asking meanwhile share. */
    private final ConcurrentMap<String, CompletableFuture<List<InetAddress>>> inFlight = new ConcurrentHashMap<>();

    /** The group of connects with {@code timeout}, made once. */
    static BackendResolverGroup of(Duration timeout) {
        return BY_TIMEOUT.computeIfAbsent(timeout, t -> new BackendResolverGroup(JDK, LOOKUPS, t));
    }

    BackendResolverGroup(Lookup lookup, Executor lookups, Duration timeout) {
        this.lookup = lookup;
        this.lookups = lookups;
        this.timeoutNanos = Math.max(1, timeout.toNanos());
    }

    @Override
    protected AddressResolver<InetSocketAddress> newResolver(EventExecutor loop) {
        return new OffLoopResolver(loop).asAddressResolver();
    }

    /** The lookup of {@code host}: the one in flight, else a new one, which leaves {@link #inFlight} as it ends. */
    private CompletableFuture<List<InetAddress>> lookUp(String host) {
        CompletableFuture<List<InetAddress>> started = new CompletableFuture<>();
        CompletableFuture<List<InetAddress>> running = inFlight.putIfAbsent(host, started);
        if (running != null) {
            return running;
        }
        started.whenComplete((addresses, error) -> inFlight.remove(host, started));
        try {
            lookups.execute(() -> {
                try {
                    started.complete(lookup.lookUp(host));
                } catch (UnknownHostException | RuntimeException e) {
                    started.completeExceptionally(e);
                }
            });
        } catch (RuntimeException e) { // the lookup threads refused it
            started.completeExceptionally(e);
        }
        return started;
    }

    /** Resolves on the lookup threads; the promise, the connect's, completes on {@code loop}. */
    private final class OffLoopResolver extends InetNameResolver {

        OffLoopResolver(EventExecutor loop) {
            super(loop);
        }

        @Override
        protected void doResolve(String host, Promise<InetAddress> promise) {
            resolve(host, promise, addresses -> addresses.get(0));
        }

        @Override
        protected void doResolveAll(String host, Promise<List<InetAddress>> promise) {
            resolve(host, promise, addresses -> addresses);
        }

        /** The promise notifies its listeners on the loop, whichever thread completes it. */
        private <T> void resolve(String host, Promise<T> promise, Function<List<InetAddress>, T> answer) {
            ScheduledFuture<?> deadline = executor().schedule(() -> promise.tryFailure(new UnknownHostException(
                    host + ": no answer within " + TimeUnit.NANOSECONDS.toMillis(timeoutNanos) + " ms")),
                    timeoutNanos, TimeUnit.NANOSECONDS);
            lookUp(host).whenComplete((addresses, error) -> {
                deadline.cancel(false);
                if (error != null) {
                    promise.tryFailure(error);
                } else {
                    promise.trySuccess(answer.apply(addresses));
                }
            });
        }
    }

    private static Executor lookupThreads() {
        ThreadPoolExecutor pool = new ThreadPoolExecutor(4, 4, 60, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
                new DefaultThreadFactory("edge-backend-dns", true));
        pool.allowCoreThreadTimeOut(true);
        return pool;
    }
}
