package io.edge.aio.file;

import io.edge.aio.StaticIoSettings;
import java.io.IOException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Builds the {@link FileEngine} that {@code static.engine} names. */
public final class FileEngines {

    private static final Logger log = LoggerFactory.getLogger(FileEngines.class);

    private FileEngines() {
    }

    /**
     * The engine for {@code settings}: {@code auto} is io_uring where this process may use it, else threads,
     * with one log line naming the reason; {@code io_uring} fails if it is unavailable;
     * {@code linux-aio-sendfile} falls back to the thread pool by itself (one log line) where it cannot work.
     * With {@code static.poison-released-buffers} on (one log line), every engine reads into poisoning buffers
     * ({@link ReadBuffers}).
     *
     * @throws IOException if {@code io_uring} was asked for and is unavailable (the message says why)
     */
    public static FileEngine create(StaticIoSettings settings) throws IOException {
        return create(settings, null);
    }

    /**
     * As {@link #create(StaticIoSettings)}, for static settings a reload changed: an engine of the same kind as
     * {@code predecessor} (null: none) counts on in its counters since start ({@link FileEngineStats} sendfile regions,
     * reads, timeouts, read latency), which adds what its own requests still count while they drain; the gauges are
     * the new engine's own. An engine of another kind is another series (its {@code engine} label) and starts from 0.
     */
    public static FileEngine create(StaticIoSettings settings, FileEngine predecessor) throws IOException {
        return create(settings, IoUringEngine.unavailabilityCause(), predecessor);
    }

    /** As {@link #create(StaticIoSettings, FileEngine)} with the io_uring probe's answer given: null means available. */
    static FileEngine create(StaticIoSettings settings, String ioUringUnavailable, FileEngine predecessor)
            throws IOException {
        if (settings.poisonReleasedBuffers()) {
            log.warn("static.poison-released-buffers = on: released read buffers are poisoned and quarantined "
                    + "(debugging; slower)");
        }
        switch (settings.engine()) {
            case AUTO:
                if (ioUringUnavailable == null) {
                    log.info("static.engine = auto: io_uring (queue depth {} per event loop)", settings.queueDepth());
                    return ioUring(settings, predecessor);
                }
                log.info("static.engine = auto: threads ({} threads), io_uring unavailable: {}", settings.threads(),
                        ioUringUnavailable);
                return threads(settings, predecessor);
            case IO_URING:
                if (ioUringUnavailable != null) {
                    throw new IOException("static.engine = io_uring, but io_uring is unavailable: "
                            + ioUringUnavailable + " (use auto or threads)");
                }
                log.info("static.engine = io_uring (queue depth {} per event loop)", settings.queueDepth());
                return ioUring(settings, predecessor);
            case THREADS:
                log.info("static.engine = threads ({} threads)", settings.threads());
                return threads(settings, predecessor);
            case LINUX_AIO_SENDFILE:
                return predecessor instanceof LinuxAioSendfileEngine before
                        ? new LinuxAioSendfileEngine(settings, before.ownCounters(), before.poolCounters())
                        : new LinuxAioSendfileEngine(settings);
            case SENDFILE:
                log.info("static.engine = sendfile: files opened and read on the event loop (the blocking baseline)");
                return predecessor instanceof SendfileEngine before
                        ? new SendfileEngine(settings, before.counters()) : new SendfileEngine(settings);
            default:
                throw new IllegalArgumentException("engine: " + settings.engine());
        }
    }

    private static FileEngine ioUring(StaticIoSettings settings, FileEngine predecessor) throws IOException {
        return predecessor instanceof IoUringEngine before
                ? new IoUringEngine(settings, before.ownCounters(), before.poolCounters()) : new IoUringEngine(settings);
    }

    private static FileEngine threads(StaticIoSettings settings, FileEngine predecessor) {
        return predecessor instanceof ThreadPoolEngine before
                ? new ThreadPoolEngine(settings, before.counters()) : new ThreadPoolEngine(settings);
    }
}
