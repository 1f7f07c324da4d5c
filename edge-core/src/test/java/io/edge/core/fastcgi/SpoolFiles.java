package io.edge.core.fastcgi;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** For tests: the spool files (request bodies, responses) this process holds open, unlinked as they are made. */
public final class SpoolFiles {

    private SpoolFiles() {
    }

    /**
     * Descriptors of this process (edge runs in it) on deleted files whose path starts with {@code prefix}: a spool
     * directory and a file name prefix, such as {@code dir.toRealPath() + "/edge-body-"}.
     */
    public static long open(String prefix) throws IOException {
        long open = 0;
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            for (Path fd : (Iterable<Path>) fds::iterator) {
                try {
                    String target = Files.readSymbolicLink(fd).toString();
                    if (target.startsWith(prefix) && target.endsWith(" (deleted)")) {
                        open++;
                    }
                } catch (IOException closedMeanwhile) {
                    // the listing's own descriptor, or one closed since
                }
            }
        }
        return open;
    }

    /**
     * Keeps the spool threads ({@link SpooledBody#THREADS}) busy until the returned task is run (a minute at most):
     * meanwhile no spool file is written or read, as on a disk that hangs.
     */
    public static Runnable holdThreads() throws InterruptedException {
        CountDownLatch running = new CountDownLatch(2);
        CountDownLatch release = new CountDownLatch(1);
        for (int i = 0; i < 2; i++) {
            SpooledBody.THREADS.execute(() -> {
                running.countDown();
                try {
                    release.await(1, TimeUnit.MINUTES);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
        }
        if (!running.await(30, TimeUnit.SECONDS)) {
            release.countDown();
            throw new IllegalStateException("the spool threads were never both free");
        }
        return release::countDown;
    }
}
