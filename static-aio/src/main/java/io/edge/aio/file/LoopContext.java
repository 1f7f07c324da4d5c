package io.edge.aio.file;

import io.netty.channel.IoEventLoop;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Kernel I/O state bound to one epoll event loop (an io_uring, a kernel AIO context), created on and only
 * ever touched by that loop's thread, woken through a {@link LoopEventFd}, with a FIFO of work {@code W}
 * waiting for the kernel to take more.
 *
 * <p>States: {@code OPEN} -> {@code CLOSING} ({@link #closeWhenIdle}: no new work, waiting work failed, work
 * the kernel owns runs to its completion) -> {@code CLOSED} ({@link #free}: eventfd and kernel objects gone).
 * The loop shutting down jumps to {@code CLOSED} at once: no completion will be reaped any more, so the work the
 * kernel had is failed too ({@link #abandonInFlight}); memory the kernel may still write is then never reused
 * (see the subclass).
 */
abstract class LoopContext<W> implements LoopEventFd.Listener {

    private static final Logger log = LoggerFactory.getLogger(LoopContext.class);

    private final IoEventLoop loop;
    private final String name;
    private final CompletableFuture<Void> closed = new CompletableFuture<>();
    private final ArrayDeque<W> waiting = new ArrayDeque<>();
    private final AtomicInteger waitingCount;
    private LoopEventFd eventFd;
    private boolean flushScheduled;
    private boolean closing;
    private boolean destroyed;

    /** @param waitingCount counts the work waiting here (shared with the other loops' contexts) */
    LoopContext(IoEventLoop loop, String name, AtomicInteger waitingCount) {
        this.loop = loop;
        this.name = name;
        this.waitingCount = waitingCount;
    }

    /** Queues {@code work} until the kernel can take it; a closing context fails it at once. */
    final void enqueue(W work) {
        if (closing) {
            abandon(work, new IOException(name + " closed"));
            return;
        }
        waiting.add(work);
        waitingCount.incrementAndGet();
    }

    /** The longest waiting work, or null. */
    final W dequeue() {
        W work = waiting.poll();
        if (work != null) {
            waitingCount.decrementAndGet();
        }
        return work;
    }

    /** Takes {@code work} out of the queue; false if it is not there (started or done). */
    final boolean removeWaiting(W work) {
        if (waiting.remove(work)) {
            waitingCount.decrementAndGet();
            return true;
        }
        return false;
    }

    final boolean hasWaiting() {
        return !waiting.isEmpty();
    }

    private void abandonWaiting(IOException why) {
        for (W work; (work = dequeue()) != null; ) {
            abandon(work, why);
        }
    }

    /** Hands the eventfd's descriptor to the kernel object that signals it. */
    @FunctionalInterface
    interface EventFdUser {
        void use(int eventFd) throws IOException;
    }

    /**
     * Opens the eventfd the kernel signals on completion, has the loop watch it and hands it to {@code user};
     * if anything fails, the context is closed (eventfd and kernel objects freed) and the failure rethrown.
     */
    final void watchCompletions(EventFdUser user) throws IOException {
        try {
            eventFd = LoopEventFd.open(loop, name, this);
            user.use(eventFd.eventFd());
        } catch (IOException | RuntimeException e) {
            loopClosed();
            throw e;
        }
    }

    /** Operations holding kernel-owned memory: the context cannot be freed before they are done. */
    abstract int busy();

    /**
     * Has the work prepared in this loop iteration go to the kernel in one call ({@link #submitPrepared}) after
     * the current task. Call on the loop.
     */
    final void flushLater() {
        if (!flushScheduled) {
            flushScheduled = true;
            loop.execute(this::flush);
        }
    }

    private void flush() {
        flushScheduled = false;
        if (destroyed) {
            return;
        }
        if (submitPrepared() > 0 && !flushScheduled) {
            flushScheduled = true; // the kernel is short of resources (EAGAIN): try again shortly
            loop.schedule(this::flush, 1, TimeUnit.MILLISECONDS);
        }
    }

    /** Hands the prepared work to the kernel; returns how much it left prepared (to retry shortly). */
    abstract int submitPrepared();

    /** Collects completions and starts waiting work. */
    abstract void reap();

    /** Fails work that never reached the kernel. */
    abstract void abandon(W work, IOException why);

    /** Frees kernel objects and memory; called once, when {@link #busy()} is 0 or the loop shuts down. */
    abstract void free();

    /**
     * The loop shut down with work the kernel had (after {@link #free}): fails it, since no completion of it will
     * ever be reaped, giving back what the kernel is done with. Called once, on the loop.
     */
    abstract void abandonInFlight(IOException why);

    @Override
    public final void signalled() {
        reap();
        closeIfIdle();
    }

    /** In {@code CLOSING}, frees everything if nothing is busy any more. Call on the loop. */
    final void closeIfIdle() {
        if (closing && busy() == 0) {
            destroy();
        }
    }

    /** Stops taking work and frees everything once nothing is busy. Call on the loop. */
    final void closeWhenIdle() {
        if (closing) {
            return;
        }
        closing = true;
        abandonWaiting(new IOException(name + " closed"));
        if (busy() == 0) {
            destroy();
        }
    }

    @Override
    public final void loopClosed() {
        boolean wasDestroyed = destroyed;
        if (!wasDestroyed && busy() != 0) {
            log.warn("{}: event loop closed with {} operations busy; they fail, and memory the kernel may still write "
                    + "is not reused", name, busy());
        }
        closing = true;
        IOException why = new EngineClosedException("event loop closed");
        abandonWaiting(why);
        destroy();
        if (!wasDestroyed) {
            abandonInFlight(why);
        }
    }

    private void destroy() {
        if (destroyed) {
            return;
        }
        destroyed = true;
        if (eventFd != null) {
            eventFd.cancel();
        }
        free();
        closed.complete(null);
    }

    final boolean isClosing() {
        return closing;
    }

    final boolean isDestroyed() {
        return destroyed;
    }

    final String name() {
        return name;
    }

    final CompletableFuture<Void> closeFuture() {
        return closed;
    }

    final IoEventLoop loop() {
        return loop;
    }
}
