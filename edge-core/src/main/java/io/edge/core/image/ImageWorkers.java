package io.edge.core.image;

import io.edge.conf.ServerSettings;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.time.Duration;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BooleanSupplier;

/**
 * The threads that make images (server.image-filter): at most {@code workers} at once, at most {@code queue} more
 * waiting; one beyond is refused at once ({@link #submit} false), never queued without bound.
 *
 * <pre>
 *   submit --admitted < threads + queue--> WAITING --a thread free--> RUNNING --done--> (slot freed)
 *                                                  \--its client gone--> skipped, counted in abandoned (slot freed)
 *   submit --admitted >= threads + queue--> refused (false)
 * </pre>
 *
 * Invariant: {@link #admitted} counts the jobs waiting or running, and never exceeds threads + queue of the
 * settings current when each was admitted. Threads start as jobs come and end after a minute idle; a reload's new
 * settings apply to the jobs admitted from then on.
 */
public final class ImageWorkers {

    private final ThreadPoolExecutor pool;
    private final AtomicInteger admitted = new AtomicInteger();
    private final LongAdder abandoned = new LongAdder();
    private volatile ServerSettings.ImageWorkers settings;

    public ImageWorkers(ServerSettings.ImageWorkers settings) {
        int threads = settings.threads();
        this.pool = new ThreadPoolExecutor(threads, threads, 60, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
                new DefaultThreadFactory("edge-image", true));
        pool.allowCoreThreadTimeOut(true);
        this.settings = settings;
    }

    /** Takes a reload's settings: the threads' count at once, the queue's bound for jobs admitted from now. */
    public synchronized void update(ServerSettings.ImageWorkers next) {
        int threads = next.threads();
        if (threads > pool.getMaximumPoolSize()) {
            pool.setMaximumPoolSize(threads);
            pool.setCorePoolSize(threads);
        } else {
            pool.setCorePoolSize(threads);
            pool.setMaximumPoolSize(threads);
        }
        settings = next;
    }

    /** The pixels an image may have to be decoded. */
    public long maxPixels() {
        return settings.maxPixels();
    }

    /** How long a worker may make one image (from when it starts on it). */
    public Duration timeout() {
        return settings.timeout();
    }

    /**
     * Runs {@code job} on a worker and returns true, or returns false at once where threads and queue are full. A job
     * whose {@code gone} says true when a thread comes to it (its client left while it waited) is not run, and is
     * counted in {@link #abandoned}: a decoding for nobody would hold the thread from the images still wanted.
     */
    public boolean submit(Runnable job, BooleanSupplier gone) {
        ServerSettings.ImageWorkers now = settings;
        int bound = now.threads() + now.queue();
        while (true) {
            int current = admitted.get();
            if (current >= bound) {
                return false;
            }
            if (admitted.compareAndSet(current, current + 1)) {
                break;
            }
        }
        pool.execute(() -> {
            try {
                if (gone.getAsBoolean()) {
                    abandoned.increment();
                } else {
                    job.run();
                }
            } finally {
                admitted.decrementAndGet();
            }
        });
        return true;
    }

    /** Jobs waiting or running now. */
    public int admitted() {
        return admitted.get();
    }

    /** Jobs not run since start, their client gone before a thread came to them. */
    public long abandoned() {
        return abandoned.sum();
    }
}
