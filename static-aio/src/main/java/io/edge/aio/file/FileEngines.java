package io.edge.aio.file;

import io.edge.aio.StaticIoSettings;
import java.io.IOException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Builds the {@link FileEngine} that {@code static.io.engine} names. */
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
        return create(settings, IoUringEngine.unavailabilityCause());
    }

    /** As {@link #create(StaticIoSettings)} with the io_uring probe's answer given: null means available. */
    static FileEngine create(StaticIoSettings settings, String ioUringUnavailable) throws IOException {
        if (settings.poisonReleasedBuffers()) {
            log.warn("static.poison-released-buffers = on: released read buffers are poisoned and quarantined "
                    + "(debugging; slower)");
        }
        switch (settings.engine()) {
            case AUTO:
                if (ioUringUnavailable == null) {
                    log.info("static.io.engine = auto: io_uring (queue depth {} per event loop)", settings.queueDepth());
                    return new IoUringEngine(settings);
                }
                log.info("static.io.engine = auto: threads ({} threads), io_uring unavailable: {}", settings.threads(),
                        ioUringUnavailable);
                return new ThreadPoolEngine(settings);
            case IO_URING:
                if (ioUringUnavailable != null) {
                    throw new IOException("static.io.engine = io_uring, but io_uring is unavailable: "
                            + ioUringUnavailable + " (use auto or threads)");
                }
                return new IoUringEngine(settings);
            case THREADS:
                return new ThreadPoolEngine(settings);
            case LINUX_AIO_SENDFILE:
                return new LinuxAioSendfileEngine(settings);
            case SENDFILE:
                return new SendfileEngine(settings);
            default:
                throw new IllegalArgumentException("engine: " + settings.engine());
        }
    }
}
