package io.edge.core;

import io.netty.channel.IoHandle;
import io.netty.channel.IoHandler;
import io.netty.channel.IoHandlerContext;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.IoOps;
import io.netty.channel.IoRegistration;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollIoOps;

/**
 * Netty's epoll {@link IoHandler}, with its registrations put back into epoll when they need it again.
 *
 * <p>Netty 4.2.18 takes a descriptor out of epoll ({@code EPOLL_CTL_DEL}) when a channel's interest goes to nothing,
 * but keeps its registration marked as added, so the next interest is sent as a change of what epoll no longer holds
 * ({@code EPOLL_CTL_MOD}: ENOENT). A connection's interest goes to nothing once its client half-closed (reading is
 * over) and nothing waits to be written: between two chunks of a file that are read from the disk. The next chunk to
 * meet a full socket buffer then could not wait for writability; Netty shut the output down and the client had its
 * response cut short. Here a registration whose interest went to nothing is cancelled and made anew, through the
 * handler, when an interest comes again: the fresh registration adds the descriptor ({@code EPOLL_CTL_ADD}), as the
 * first one did. Nothing else changes: every other call goes to Netty's handler as it is.
 */
final class ReaddingEpollIoHandler implements IoHandler {

    private final IoHandler epoll;

    private ReaddingEpollIoHandler(IoHandler epoll) {
        this.epoll = epoll;
    }

    /** {@link EpollIoHandler#newFactory()}, its handlers wrapped. */
    static IoHandlerFactory newFactory() {
        IoHandlerFactory epollFactory = EpollIoHandler.newFactory();
        return executor -> new ReaddingEpollIoHandler(epollFactory.newHandler(executor));
    }

    @Override
    public void initialize() {
        epoll.initialize();
    }

    @Override
    public int run(IoHandlerContext context) {
        return epoll.run(context);
    }

    @Override
    public void prepareToDestroy() {
        epoll.prepareToDestroy();
    }

    @Override
    public void destroy() {
        epoll.destroy();
    }

    @Override
    public IoRegistration register(IoHandle handle) throws Exception {
        return new Registration(handle, epoll.register(handle));
    }

    @Override
    public void wakeup() {
        epoll.wakeup();
    }

    @Override
    public boolean isCompatible(Class<? extends IoHandle> handleType) {
        return epoll.isCompatible(handleType);
    }

    /**
     * One handle's registration: ADDED (in epoll) --submit(nothing)--> OUT (Netty removed it) --submit(some)--> ADDED
     * again through a new registration; any --cancel()--> CANCELLED, final. Submits come from the handle's loop.
     */
    private final class Registration implements IoRegistration {
        private final IoHandle handle;
        private IoRegistration current;
        private boolean out;
        private boolean cancelled;

        Registration(IoHandle handle, IoRegistration first) {
            this.handle = handle;
            this.current = first;
        }

        @Override
        public <T> T attachment() {
            return current.attachment();
        }

        @Override
        public long submit(IoOps ops) {
            boolean none = ((EpollIoOps) ops).value() == EpollIoOps.NONE.value();
            if (out && !none && !cancelled) {
                current.cancel(); // its descriptor is no longer in epoll: the delete it tries fails quietly
                try {
                    current = epoll.register(handle);
                } catch (Exception e) {
                    throw new IllegalStateException("re-registering " + handle + " with epoll", e);
                }
            }
            out = none;
            return current.submit(ops);
        }

        @Override
        public boolean isValid() {
            return current.isValid();
        }

        @Override
        public boolean cancel() {
            cancelled = true;
            return current.cancel();
        }
    }
}
