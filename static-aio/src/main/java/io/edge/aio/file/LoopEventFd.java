package io.edge.aio.file;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import io.edge.aio.linux.Syscalls;
import io.netty.channel.IoEvent;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoRegistration;
import io.netty.channel.epoll.EpollIoHandle;
import io.netty.channel.epoll.EpollIoOps;
import io.netty.channel.unix.FileDescriptor;
import io.netty.util.concurrent.Future;
import java.io.IOException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An eventfd ({@code EFD_NONBLOCK}) watched by one Netty epoll event loop (level-triggered {@code EPOLLIN}):
 * the kernel signals it when asynchronous I/O completes (an io_uring's registered eventfd, a kernel AIO iocb's
 * {@code IOCB_FLAG_RESFD}) and the loop's own thread runs {@link Listener#signalled()}. No other thread is
 * involved. Opened, signalled and cancelled on the loop only.
 */
final class LoopEventFd implements EpollIoHandle {

    private static final Logger log = LoggerFactory.getLogger(LoopEventFd.class);
    private static final int EFD_NONBLOCK = 0x800;

    /** The owner: an I/O context bound to the loop. */
    interface Listener {
        /** Completions were posted; the counter is reset already. */
        void signalled();

        /** The loop closes its handles (it shuts down), or could not watch this one: stop using it. */
        void loopClosed();
    }

    private final int fd;
    private final FileDescriptor descriptor;
    private final Memory counter = new Memory(8);
    private final Listener listener;
    private IoRegistration registration;
    private boolean cancelled;

    private LoopEventFd(int fd, Listener listener) {
        this.fd = fd;
        this.descriptor = new FileDescriptor(fd);
        this.listener = listener;
    }

    /** Creates an eventfd and has {@code loop} watch it for {@code listener}; call on that loop's thread. */
    static LoopEventFd open(IoEventLoop loop, String owner, Listener listener) throws IOException {
        assert loop.inEventLoop();
        int efd = Syscalls.eventfd(0, EFD_NONBLOCK | Syscalls.O_CLOEXEC);
        if (efd < 0) {
            throw Syscalls.error("eventfd2", -efd);
        }
        LoopEventFd eventFd = new LoopEventFd(efd, listener);
        Future<IoRegistration> registered = loop.register(eventFd);
        if (registered.isDone() && !registered.isSuccess()) {
            // On its own loop the registration is decided at once (epoll_ctl refused: ENOSPC, ENOMEM): the
            // caller's set-up fails, and nothing of it is left open.
            Syscalls.closeQuietly(efd);
            throw new IOException(owner + ": cannot watch the completion eventfd on " + loop, registered.cause());
        }
        registered.addListener(f -> {
            if (!f.isSuccess()) {
                log.error("{}: cannot watch the completion eventfd on {}", owner, loop, f.cause());
                eventFd.cancel();
                listener.loopClosed();
                return;
            }
            eventFd.registration = registered.getNow();
            if (eventFd.cancelled) {
                eventFd.registration.cancel();
            } else {
                eventFd.registration.submit(EpollIoOps.EPOLLIN);
            }
        });
        return eventFd;
    }

    /** The raw descriptor, for the kernel to signal. */
    int eventFd() {
        return fd;
    }

    @Override
    public FileDescriptor fd() {
        return descriptor;
    }

    @Override
    public void handle(IoRegistration registration, IoEvent event) {
        Syscalls.read(fd, Pointer.nativeValue(counter), 8); // reset; EAGAIN if already drained
        listener.signalled();
    }

    /** Stops watching and closes the eventfd; idempotent. */
    void cancel() {
        if (cancelled) {
            return;
        }
        cancelled = true;
        if (registration != null) {
            registration.cancel();
        }
        Syscalls.closeQuietly(fd);
    }

    /** Netty closes registered handles when the loop shuts down. */
    @Override
    public void close() {
        if (!cancelled) {
            listener.loopClosed();
        }
        cancel();
    }
}
