package io.edge.core.image;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.conf.ServerSettings;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;

/** The workers' bound: threads plus queue admitted, one more refused at once, a slot freed when a job ends. */
class ImageWorkersTest {

    /** A job whose client is still there. */
    private static final BooleanSupplier WANTED = () -> false;

    @Test
    void admitsThreadsAndQueueThenRefuses() throws Exception {
        ImageWorkers workers = new ImageWorkers(new ServerSettings.ImageWorkers(1, 1, 100, Duration.ofSeconds(10)));
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch done = new CountDownLatch(2);
        Runnable blocking = () -> {
            started.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            done.countDown();
        };
        assertThat(workers.submit(blocking, WANTED)).isTrue();
        assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(workers.submit(done::countDown, WANTED)).as("queued").isTrue();
        assertThat(workers.admitted()).isEqualTo(2);
        assertThat(workers.submit(() -> { }, WANTED)).as("threads and queue full").isFalse();
        release.countDown();
        assertThat(done.await(10, TimeUnit.SECONDS)).isTrue();
        CountDownLatch again = new CountDownLatch(1);
        // the slots free as the jobs end (after done counted down): one is admitted again once they have
        while (!workers.submit(again::countDown, WANTED)) {
            Thread.onSpinWait();
        }
        assertThat(again.await(10, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void aReloadWidensTheBound() {
        ImageWorkers workers = new ImageWorkers(new ServerSettings.ImageWorkers(1, 0, 100, Duration.ofSeconds(10)));
        CountDownLatch release = new CountDownLatch(1);
        Runnable blocking = () -> {
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        };
        assertThat(workers.submit(blocking, WANTED)).isTrue();
        assertThat(workers.submit(blocking, WANTED)).isFalse();
        workers.update(new ServerSettings.ImageWorkers(2, 0, 100, Duration.ofSeconds(10)));
        assertThat(workers.submit(blocking, WANTED)).isTrue();
        release.countDown();
    }

    /** A job whose client left before a thread came to it is not run: counted, its slot freed. */
    @Test
    void aJobWhoseClientLeftIsSkippedAndCounted() throws Exception {
        ImageWorkers workers = new ImageWorkers(new ServerSettings.ImageWorkers(1, 1, 100, Duration.ofSeconds(10)));
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch started = new CountDownLatch(1);
        assertThat(workers.submit(() -> {
            started.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, WANTED)).isTrue();
        assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();
        AtomicBoolean gone = new AtomicBoolean();
        AtomicBoolean ran = new AtomicBoolean();
        assertThat(workers.submit(() -> ran.set(true), gone::get)).isTrue();
        gone.set(true);
        release.countDown();
        while (workers.admitted() > 0) {
            Thread.onSpinWait();
        }
        assertThat(ran).isFalse();
        assertThat(workers.abandoned()).isEqualTo(1);
    }
}
