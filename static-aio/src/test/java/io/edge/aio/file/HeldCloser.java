package io.edge.aio.file;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Holds {@link FileServerFiles#CLOSER}'s thread until {@link #close}: a close handed to it meanwhile is seen pending.
 */
final class HeldCloser implements AutoCloseable {

    private final CountDownLatch held = new CountDownLatch(1);

    HeldCloser() {
        FileServerFiles.CLOSER.execute(() -> {
            try {
                held.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
    }

    /** Lets the thread go and waits (a bound) for the closes handed to it so far. */
    void runClosesHandedOver() throws Exception {
        held.countDown();
        CompletableFuture.runAsync(() -> { }, FileServerFiles.CLOSER).get(30, TimeUnit.SECONDS);
    }

    @Override
    public void close() {
        held.countDown();
    }
}
