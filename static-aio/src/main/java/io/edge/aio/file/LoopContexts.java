package io.edge.aio.file;

import io.netty.channel.IoEventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.internal.ThreadExecutorMap;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * One {@link LoopContext} per Netty epoll event loop, created lazily on that loop the first time work arrives
 * there. A caller that is not on an epoll loop (a test, a worker thread) uses one context on a private
 * single-thread epoll loop started on first use. A loop whose context could not be set up is not asked again
 * for {@link #RETRY_AFTER_NANOS}: its work fails over at once (each engine has a way round) instead of paying
 * for a failing set-up per read.
 */
final class LoopContexts<C extends LoopContext<?>> {

    /** Sets up a context; called on {@code loop}'s thread. */
    @FunctionalInterface
    interface Factory<C> {
        C create(IoEventLoop loop) throws IOException;
    }

    /** How long a loop whose context could not be set up gets no new try. */
    static final long RETRY_AFTER_NANOS = TimeUnit.SECONDS.toNanos(1);
    /** How often a close that waits looks whether the loops of the contexts left have ended meanwhile. */
    private static final long ENDED_LOOP_CHECK_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

    /** Why a loop has no context, and when it may be tried again. */
    private record SetupFailure(Throwable cause, long retryAt) {
    }

    private final String name;
    private final Factory<C> factory;
    private final Map<IoEventLoop, C> contexts = new ConcurrentHashMap<>();
    /** Touched only on the loop the key names. */
    private final Map<IoEventLoop, SetupFailure> failures = new ConcurrentHashMap<>();
    private final Object ownLoopLock = new Object();
    private MultiThreadIoEventLoopGroup ownLoop;
    private volatile boolean closed;
    private final LongSupplier nanoTime;

    /** @param name names the engine in messages and the private loop's thread */
    LoopContexts(String name, Factory<C> factory) {
        this(name, factory, System::nanoTime);
    }

    /** @param nanoTime the clock of the retry wait */
    LoopContexts(String name, Factory<C> factory, LongSupplier nanoTime) {
        this.name = name;
        this.factory = factory;
        this.nanoTime = nanoTime;
    }

    /**
     * Runs {@code task} with the context of the caller's event loop on that loop, at once if the caller is on it;
     * {@code failed} gets the reason if it cannot (closed, or the context could not be set up).
     */
    void execute(Consumer<C> task, Consumer<Throwable> failed) {
        if (closed) {
            failed.accept(new IOException(name + " closed"));
            return;
        }
        IoEventLoop loop = loopFor(ThreadExecutorMap.currentExecutor());
        if (loop == null) {
            failed.accept(new IOException(name + " closed"));
            return;
        }
        if (loop.inEventLoop()) {
            run(loop, task, failed);
            return;
        }
        try {
            loop.execute(() -> run(loop, task, failed));
        } catch (RejectedExecutionException e) {
            failed.accept(new IOException(name + " closed", e));
        }
    }

    private void run(IoEventLoop loop, Consumer<C> task, Consumer<Throwable> failed) {
        C context = contexts.get(loop);
        if (context == null) {
            if (closed) {
                failed.accept(new IOException(name + " closed"));
                return;
            }
            SetupFailure failure = failures.get(loop);
            if (failure != null && nanoTime.getAsLong() - failure.retryAt() < 0) {
                failed.accept(failure.cause());
                return;
            }
            try {
                context = factory.create(loop);
            } catch (IOException | RuntimeException e) {
                failures.put(loop, new SetupFailure(e, nanoTime.getAsLong() + RETRY_AFTER_NANOS));
                failed.accept(e);
                return;
            }
            failures.remove(loop);
            contexts.put(loop, context);
            if (closed) {
                // close() may have looked at the contexts before this one was there
                context.closeWhenIdle();
                failed.accept(new IOException(name + " closed"));
                return;
            }
        }
        task.accept(context);
    }

    /**
     * The caller's epoll loop, else the private one, started here on first use; null if that is not started yet and
     * {@link #close} has begun: it looked (or will look, under the same lock) for a private loop to stop, and would
     * never stop one started after it looked.
     */
    private IoEventLoop loopFor(EventExecutor current) {
        if (current instanceof IoEventLoop && ((IoEventLoop) current).isCompatible(LoopEventFd.class)) {
            return (IoEventLoop) current;
        }
        synchronized (ownLoopLock) {
            if (ownLoop == null) {
                if (closed) {
                    return null;
                }
                ownLoop = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory(name.replace(' ', '-'), true),
                        EpollIoHandler.newFactory());
            }
            return ownLoop.next();
        }
    }

    /**
     * The context of the caller's event loop if the caller is on one that has a context set up and not closing, else
     * null; sets none up. For work that is worth doing in a context only where one is at hand.
     */
    C currentIfPresent() {
        if (ThreadExecutorMap.currentExecutor() instanceof IoEventLoop loop && loop.inEventLoop()) {
            C context = contexts.get(loop);
            return context == null || context.isClosing() ? null : context;
        }
        return null;
    }

    /** Contexts set up so far (one per event loop that had work). */
    int size() {
        return contexts.size();
    }

    boolean isClosed() {
        return closed;
    }

    /** Whether every context not closed yet is on a loop that has ended, so none of them will close now. */
    private boolean onlyEndedLoopsLeft() {
        for (C context : contexts.values()) {
            if (!context.closeFuture().isDone() && !context.loop().isTerminated()) {
                return false;
            }
        }
        return true;
    }

    /**
     * Stops taking work and closes every context once nothing in it is busy. Off an event loop, waits up to
     * {@code waitNanos} for that, but not for a context whose loop has ended (a server stopped after its drain
     * timeout ends its loops first: their handles went with them, and nothing would ever finish that close, which
     * held a stop {@code waitNanos} past the drain); the private loop stops after its context closed.
     */
    void close(long waitNanos) {
        closed = true;
        List<CompletableFuture<Void>> closing = new ArrayList<>();
        for (C context : contexts.values()) {
            closing.add(context.closeFuture());
            try {
                context.loop().execute(context::closeWhenIdle);
            } catch (RejectedExecutionException e) {
                // The loop is shutting down and closes its handles itself.
            }
        }
        CompletableFuture<Void> all = CompletableFuture.allOf(closing.toArray(new CompletableFuture<?>[0]));
        if (!(ThreadExecutorMap.currentExecutor() instanceof IoEventLoop)) {
            long deadline = System.nanoTime() + waitNanos;
            for (long left = waitNanos; left > 0 && !onlyEndedLoopsLeft(); left = deadline - System.nanoTime()) {
                try {
                    all.get(Math.min(left, ENDED_LOOP_CHECK_NANOS), TimeUnit.NANOSECONDS);
                    break;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                } catch (TimeoutException e) {
                    // look again whether what is left can still close
                } catch (Exception e) {
                    break; // contexts still busy close when their last operation completes
                }
            }
        }
        synchronized (ownLoopLock) {
            if (ownLoop != null) {
                MultiThreadIoEventLoopGroup group = ownLoop;
                all.whenComplete((ok, error) -> group.shutdownGracefully(0, 1, TimeUnit.SECONDS));
            }
        }
    }
}
