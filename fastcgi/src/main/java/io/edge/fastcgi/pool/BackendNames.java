package io.edge.fastcgi.pool;

import io.netty.resolver.AddressResolver;
import io.netty.resolver.AddressResolverGroup;
import io.netty.resolver.InetNameResolver;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * Looks a backend's host name up when it is connected to, on threads of its own: the JDK's lookup
 * ({@code getaddrinfo}, with /etc/hosts and nsswitch as the rest of the machine sees them) waits for DNS, 5 s per
 * server and try when one does not answer, and Netty's default resolver would wait on the event loop that connects,
 * holding every client of that loop. The JDK keeps answers (30 s) and failures (10 s), so a backend host may come
 * and go in DNS, as HAProxy's resolvers allow; most connects find their answer there. A lookup not answered within
 * the connect timeout fails the connect, as a connect that times out does.
 */
final class BackendNames extends AddressResolverGroup<InetSocketAddress> {

    /** How a name is looked up: the JDK's resolver, or a test's. */
    interface Lookup {
        List<InetAddress> lookUp(String host) throws UnknownHostException;
    }

    private static final Lookup JDK = host -> Arrays.asList(InetAddress.getAllByName(host));

    /** Shared by every group: a few at once, so a name that hangs does not hold up another's. */
    private static final Executor LOOKUPS = lookupThreads();

    private final Lookup lookup;
    private final Executor lookups;
    private final long timeoutNanos;

    BackendNames(Duration timeout) {
        this(JDK, LOOKUPS, timeout);
    }

    BackendNames(Lookup lookup, Executor lookups, Duration timeout) {
        this.lookup = lookup;
        this.lookups = lookups;
        this.timeoutNanos = Math.max(1, timeout.toNanos());
    }

    @Override
    protected AddressResolver<InetSocketAddress> newResolver(EventExecutor loop) {
        return new OffLoopResolver(loop).asAddressResolver();
    }

    /** Resolves on the lookup threads; the promise, the connect's, completes on {@code loop}. */
    private final class OffLoopResolver extends InetNameResolver {

        OffLoopResolver(EventExecutor loop) {
            super(loop);
        }

        @Override
        protected void doResolve(String host, Promise<InetAddress> promise) {
            doResolveAll(host, promise, addresses -> addresses.get(0));
        }

        @Override
        protected void doResolveAll(String host, Promise<List<InetAddress>> promise) {
            doResolveAll(host, promise, addresses -> addresses);
        }

        /** The promise notifies its listeners on the loop, whichever thread completes it. */
        private <T> void doResolveAll(String host, Promise<T> promise, Function<List<InetAddress>, T> answer) {
            ScheduledFuture<?> deadline = executor().schedule(() -> promise.tryFailure(new UnknownHostException(
                    host + ": no answer within " + TimeUnit.NANOSECONDS.toMillis(timeoutNanos) + " ms")),
                    timeoutNanos, TimeUnit.NANOSECONDS);
            try {
                lookups.execute(() -> {
                    try {
                        promise.trySuccess(answer.apply(lookup.lookUp(host)));
                    } catch (UnknownHostException | RuntimeException e) {
                        promise.tryFailure(e);
                    } finally {
                        deadline.cancel(false);
                    }
                });
            } catch (RuntimeException e) { // the lookup threads refused it
                deadline.cancel(false);
                promise.tryFailure(e);
            }
        }
    }

    private static Executor lookupThreads() {
        AtomicInteger count = new AtomicInteger();
        ThreadPoolExecutor pool = new ThreadPoolExecutor(4, 4, 60, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
                task -> {
                    Thread thread = new Thread(task, "edge-backend-dns-" + count.incrementAndGet());
                    thread.setDaemon(true);
                    return thread;
                });
        pool.allowCoreThreadTimeOut(true);
        return pool;
    }
}
