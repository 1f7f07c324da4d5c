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
import java.util.function.Consumer;

/**
 * One {@link LoopContext} per Netty epoll event loop, created lazily on that loop the first time work arrives
 * there. A caller that is not on an epoll loop (a test, a worker thread) uses one context on a private
 * single-thread epoll loop started on first use.
 */
final class LoopContexts<C extends LoopContext<?>> {

    /** Sets up a context; called on {@code loop}'s thread. */
    @FunctionalInterface
    interface Factory<C> {
        C create(IoEventLoop loop) throws IOException;
    }

    private final String name;
    private final Factory<C> factory;
    private final Map<IoEventLoop, C> contexts = new ConcurrentHashMap<>();
    private final Object ownLoopLock = new Object();
    private MultiThreadIoEventLoopGroup ownLoop;
    private volatile boolean closed;

    /** @param name names the engine in messages and the private loop's thread */
    LoopContexts(String name, Factory<C> factory) {
        this.name = name;
        this.factory = factory;
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
            try {
                context = factory.create(loop);
            } catch (IOException | RuntimeException e) {
                failed.accept(e);
                return;
            }
            contexts.put(loop, context);
        }
        task.accept(context);
    }

    private IoEventLoop loopFor(EventExecutor current) {
        if (current instanceof IoEventLoop && ((IoEventLoop) current).isCompatible(LoopEventFd.class)) {
            return (IoEventLoop) current;
        }
        synchronized (ownLoopLock) {
            if (ownLoop == null) {
                ownLoop = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory(name.replace(' ', '-'), true),
                        EpollIoHandler.newFactory());
            }
            return ownLoop.next();
        }
    }

    /** Contexts set up so far (one per event loop that had work). */
    int size() {
        return contexts.size();
    }

    boolean isClosed() {
        return closed;
    }

    /**
     * Stops taking work and closes every context once nothing in it is busy. Off an event loop, waits up to
     * {@code waitNanos} for that; the private loop stops after its context closed.
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
            try {
                all.get(waitNanos, TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (Exception e) {
                // Contexts still busy close when their last operation completes.
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
