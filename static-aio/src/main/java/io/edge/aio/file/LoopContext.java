package io.edge.aio.file;

import io.netty.channel.IoEventLoop;
import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Kernel I/O state bound to one epoll event loop (an io_uring, a kernel AIO context), created on and only
 * ever touched by that loop's thread, woken through a {@link LoopEventFd}.
 *
 * <p>States: {@code OPEN} -> {@code CLOSING} ({@link #closeWhenIdle}: no new work, waiting work failed, work
 * the kernel owns runs to its completion) -> {@code CLOSED} ({@link #free}: eventfd and kernel objects gone).
 * The loop shutting down jumps to {@code CLOSED} at once; memory the kernel may still write is then never
 * reused (see the subclass).
 */
abstract class LoopContext implements LoopEventFd.Listener {

    private static final Logger log = LoggerFactory.getLogger(LoopContext.class);

    private final IoEventLoop loop;
    private final String name;
    private final CompletableFuture<Void> closed = new CompletableFuture<>();
    private LoopEventFd eventFd;
    private boolean closing;
    private boolean destroyed;

    LoopContext(IoEventLoop loop, String name) {
        this.loop = loop;
        this.name = name;
    }

    /** Opens the eventfd the kernel signals on completion and has the loop watch it; returns its descriptor. */
    final int watchCompletions() throws IOException {
        eventFd = LoopEventFd.open(loop, name, this);
        return eventFd.eventFd();
    }

    /** Operations holding kernel-owned memory: the context cannot be freed before they are done. */
    abstract int busy();

    /** Collects completions and starts waiting work. */
    abstract void reap();

    /** Fails every operation that has not reached the kernel. */
    abstract void abandonWaiting(IOException why);

    /** Frees kernel objects and memory; called once, when {@link #busy()} is 0 or the loop shuts down. */
    abstract void free();

    @Override
    public final void signalled() {
        reap();
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
        if (!destroyed && busy() != 0) {
            log.warn("{}: event loop closed with {} operations busy; their memory is not reused", name, busy());
        }
        closing = true;
        abandonWaiting(new IOException("event loop closed"));
        destroy();
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
