package io.edge.aio.file;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.IoHandle;
import io.netty.channel.SingleThreadIoEventLoop;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** What a loop whose context cannot be set up gets: the failure at once, and a new try only after a wait. */
class LoopContextsTest {

    private final AtomicLong now = new AtomicLong();
    private final AtomicInteger setUps = new AtomicInteger();

    @Test
    void aLoopWhoseSetUpFailedIsNotTriedAgainUntilTheWaitIsOver() throws Exception {
        LoopContexts<LoopRing> contexts = new LoopContexts<>("test engine", loop -> {
            throw new IOException("set-up " + setUps.incrementAndGet() + " failed");
        }, now::get);
        try {
            assertThat(failureOf(contexts)).hasMessage("set-up 1 failed");
            now.addAndGet(LoopContexts.RETRY_AFTER_NANOS - 1);
            assertThat(failureOf(contexts)).as("the first failure, without a new set-up").hasMessage("set-up 1 failed");
            now.addAndGet(1);
            assertThat(failureOf(contexts)).hasMessage("set-up 2 failed");
            assertThat(setUps).hasValue(2);
            assertThat(contexts.size()).isZero();
        } finally {
            contexts.close(TimeUnit.SECONDS.toNanos(1));
        }
    }

    /**
     * Work from a caller that is on no epoll loop, submitted while the contexts close (from another thread): it is
     * refused, and no private loop is started after the close looked for one to stop. The close runs at the one
     * point in between, when {@code execute} asks the caller's loop (an incompatible one here) whether it takes the
     * eventfd.
     */
    @Test
    void workRacingTheCloseIsRefusedAndStartsNoPrivateLoopThatNothingStops() throws Exception {
        LoopContexts<LoopRing> contexts = new LoopContexts<>("racing engine", loop -> {
            throw new AssertionError("no context expected");
        });
        SingleThreadIoEventLoop caller = new SingleThreadIoEventLoop(null, new DefaultThreadFactory("caller"),
                EpollIoHandler.newFactory()) {
            @Override
            public boolean isCompatible(Class<? extends IoHandle> handleType) {
                contexts.close(TimeUnit.SECONDS.toNanos(1)); // on a loop: waits for nothing
                return false;
            }
        };
        try {
            CompletableFuture<Throwable> failed = new CompletableFuture<>();
            caller.submit(() -> contexts.execute(ring -> failed.completeExceptionally(new AssertionError("ran")),
                    failed::complete)).get(30, TimeUnit.SECONDS);
            assertThat(failed.get(30, TimeUnit.SECONDS)).hasMessage("racing engine closed");
            assertThat(Thread.getAllStackTraces().keySet()).extracting(Thread::getName)
                    .noneMatch(name -> name.startsWith("racing-engine-"));
        } finally {
            caller.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    /** A context that stays busy and watches no eventfd: nothing but its own loop's end could close it. */
    static final class HeldContext extends LoopContext<Object> {
        HeldContext(io.netty.channel.IoEventLoop loop) {
            super(loop, "held", new AtomicInteger());
        }

        @Override
        int busy() {
            return 1;
        }

        @Override
        int submitPrepared() {
            return 0;
        }

        @Override
        void reap() {
        }

        @Override
        void abandon(Object work, IOException why) {
        }

        @Override
        void free() {
        }

        @Override
        void abandonInFlight(IOException why) {
        }
    }

    /**
     * A stop after the drain timeout ends the event loops before it closes the engine: a context still busy on a loop
     * that has ended never closes, and the close does not wait for it (it held a stop 30 s past its drain timeout).
     * The wait given here is an hour; the guard around it is 30 s.
     */
    @Test
    void aCloseDoesNotWaitForAContextWhoseLoopHasEnded() throws Exception {
        LoopContexts<HeldContext> contexts = new LoopContexts<>("held engine", HeldContext::new);
        SingleThreadIoEventLoop loop = new SingleThreadIoEventLoop(null, new DefaultThreadFactory("held-loop"),
                EpollIoHandler.newFactory());
        CompletableFuture<HeldContext> made = new CompletableFuture<>();
        loop.submit(() -> contexts.execute(made::complete, made::completeExceptionally)).get(30, TimeUnit.SECONDS);
        HeldContext context = made.get(30, TimeUnit.SECONDS);
        loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        assertThat(context.closeFuture()).as("nothing closed it").isNotDone();

        CompletableFuture.runAsync(() -> contexts.close(TimeUnit.HOURS.toNanos(1))).get(30, TimeUnit.SECONDS);
    }

    private static Throwable failureOf(LoopContexts<LoopRing> contexts) throws Exception {
        CompletableFuture<Throwable> failed = new CompletableFuture<>();
        contexts.execute(ring -> failed.completeExceptionally(new AssertionError("no context expected")),
                failed::complete);
        return failed.get(30, TimeUnit.SECONDS);
    }
}
