package io.edge.aio.file;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edge.aio.StaticIoSettings;
import io.edge.aio.StaticIoSettings.Engine;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileEnginesTest {

    @TempDir
    Path dir;

    static StaticIoSettings settings(Engine engine) {
        return settings(engine, false);
    }

    static StaticIoSettings settings(Engine engine, boolean poisonReleasedBuffers) {
        return new StaticIoSettings(engine, 8, 2, 16, Duration.ofSeconds(5), 1, 64, 1 << 20, Duration.ofSeconds(30),
                poisonReleasedBuffers);
    }

    @Test
    void autoFallsBackToThreadsWhenIoUringIsUnavailable() throws IOException {
        try (FileEngine engine = FileEngines.create(settings(Engine.AUTO), "disabled by test", null)) {
            assertThat(engine).isInstanceOf(ThreadPoolEngine.class);
        }
    }

    @Test
    void ioUringAskedForButUnavailableFailsNamingTheCause() {
        assertThatThrownBy(() -> FileEngines.create(settings(Engine.IO_URING),
                "io_uring_setup: Operation not permitted (EPERM)", null))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("EPERM");
    }

    /** Here io_uring is permitted (as on the machines edge is built for): auto takes it. */
    @Test
    void autoUsesIoUringWhereAvailable() throws IOException {
        try (FileEngine engine = FileEngines.create(settings(Engine.AUTO))) {
            assertThat(engine).isInstanceOf(IoUringEngine.class);
        }
    }

    @Test
    void namedEngines() throws IOException {
        try (FileEngine threads = FileEngines.create(settings(Engine.THREADS), null, null);
                FileEngine sendfile = FileEngines.create(settings(Engine.SENDFILE), null, null);
                FileEngine aio = FileEngines.create(settings(Engine.LINUX_AIO_SENDFILE), null, null)) {
            assertThat(threads).isInstanceOf(ThreadPoolEngine.class);
            assertThat(sendfile).isInstanceOf(SendfileEngine.class);
            assertThat(aio).isInstanceOf(LinuxAioSendfileEngine.class);
        }
    }

    /**
     * A reload that changes the static settings builds a new engine: one of the same kind counts on from its
     * predecessor's counters (they went back to 0, which Prometheus takes for a restart), also what the predecessor
     * still counts while it drains; one of another kind is another series and starts from 0.
     */
    @Test
    void anEngineThatReplacesOneOfItsKindCountsOnFromItsCounters() throws Exception {
        Path path = Files.write(dir.resolve("f"), FileEngineContract.bytes(5000, 7));
        try (FileEngine before = FileEngines.create(settings(Engine.THREADS), null, null)) {
            sendOneRegion(before, path);
            try (FileEngine after = FileEngines.create(settings(Engine.THREADS), null, before);
                    FileEngine other = FileEngines.create(settings(Engine.SENDFILE), null, before)) {
                assertThat(after.stats().sendfileRegions()).isEqualTo(1);
                sendOneRegion(before, path); // still draining
                sendOneRegion(after, path);
                assertThat(after.stats().sendfileRegions()).isEqualTo(3);
                assertThat(other.stats().sendfileRegions()).isZero();
            }
        }
    }

    /** Asks {@code engine} for a region of {@code path} and gives it back unsent. */
    private static void sendOneRegion(FileEngine engine, Path path) throws Exception {
        OpenFile file = engine.open(path, true).toCompletableFuture().get(10, java.util.concurrent.TimeUnit.SECONDS);
        try {
            io.netty.util.ReferenceCountUtil.release(engine.region(file, 0, 100));
        } finally {
            file.release();
        }
    }

    @Test
    void poisonReleasedBuffersReachesEveryEngine() throws Exception {
        byte[] content = FileEngineContract.bytes(5000, 7);
        Path path = Files.write(dir.resolve("f"), content);
        for (Engine engine : Engine.values()) {
            try (FileEngine poisoning = FileEngines.create(settings(engine, true))) {
                PoisonedReadBuffersTest.assertReleasedReadBufferIsPoisoned(poisoning, path, content);
            }
        }
    }

    @Test
    void theDisableSwitchIsHonouredByTheProbe() {
        String before = System.getProperty("edge.io_uring.disable");
        System.setProperty("edge.io_uring.disable", "true");
        try {
            assertThat(IoUringEngine.probe()).contains("edge.io_uring.disable");
        } finally {
            if (before == null) {
                System.clearProperty("edge.io_uring.disable");
            } else {
                System.setProperty("edge.io_uring.disable", before);
            }
        }
    }
}
