package io.edge.aio.file;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.DefaultFileRegion;
import io.netty.channel.FileRegion;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.channels.Channels;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SendfileEngineTest {

    @TempDir
    Path dir;
    Path file;
    SendfileEngine engine;

    @BeforeEach
    void setUp() throws IOException {
        file = FileEngineContract.settled(Files.writeString(dir.resolve("thumb.jpg"), "0123456789abcdef"));
        engine = new SendfileEngine(new OpenFileCache(8, Duration.ofSeconds(5), 16, () -> 0L), 4, 16 * 1024);
    }

    @AfterEach
    void tearDown() {
        engine.close();
        assertThat(engine.cache().descriptorsInUse()).isZero();
    }

    private OpenFile open() {
        return engine.open(file, true).toCompletableFuture().join();
    }

    @Test
    void regionSendsItsRangeAndHoldsTheFile() throws IOException {
        OpenFile open = open();
        Object message = engine.region(open, 3, 4);
        open.release(); // the region holds its own reference
        assertThat(message).isInstanceOf(DefaultFileRegion.class);
        FileRegion region = (FileRegion) message;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (WritableByteChannel sink = Channels.newChannel(out)) {
            while (region.transferred() < region.count()) {
                region.transferTo(sink, region.transferred());
            }
        }
        assertThat(out.toString(StandardCharsets.US_ASCII)).isEqualTo("3456");

        engine.cache().invalidate(file);
        assertThat(open.refCnt()).isEqualTo(1);
        assertThat(open.channel().isOpen()).isTrue();
        region.release();
        assertThat(open.refCnt()).isZero();
        assertThat(open.channel().isOpen()).isFalse();
    }

    @Test
    void releasingARegionKeepsTheCachedDescriptorOpen() {
        OpenFile open = open();
        ((FileRegion) engine.region(open, 0, 16)).release();
        assertThat(open.channel().isOpen()).isTrue();
        open.release();
    }

    @Test
    void chunksAndRangeChecks() {
        assertThat(engine.chunkSize()).isEqualTo(4);
        assertThat(FileEngine.chunks(16, 4)).isEqualTo(4);
        assertThat(FileEngine.chunks(17, 4)).isEqualTo(5);
        assertThat(FileEngine.chunks(0, 4)).isZero();
        OpenFile open = open();
        try {
            assertThatThrownBy(() -> engine.region(open, 10, 7)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> engine.region(open, 0, 0)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> engine.region(open, -1, 2)).isInstanceOf(IllegalArgumentException.class);
            assertThat(open.refCnt()).isEqualTo(2);
        } finally {
            open.release();
        }
    }

    @Test
    void readsSmallFilesIntoAPooledBuffer() {
        OpenFile open = open();
        ByteBuf body = engine.read(open, 2, 10, PooledByteBufAllocator.DEFAULT).toCompletableFuture().join();
        open.release();
        try {
            assertThat(body.toString(StandardCharsets.US_ASCII)).isEqualTo("23456789ab");
        } finally {
            body.release();
        }
        assertThat(engine.inlineLimit()).isEqualTo(16 * 1024);
    }

    @Test
    void aFileThatShrankFailsTheReadWithoutLeaking() throws IOException {
        OpenFile open = open();
        try {
            Files.writeString(file, "0123"); // truncates the same inode
            assertThatThrownBy(() -> engine.read(open, 0, 16, PooledByteBufAllocator.DEFAULT).toCompletableFuture().join())
                    .isInstanceOf(CompletionException.class)
                    .hasCauseInstanceOf(java.io.EOFException.class);
        } finally {
            open.release();
        }
    }

    @Test
    void openFailuresCompleteExceptionally() {
        assertThatThrownBy(() -> engine.open(dir.resolve("missing"), true).toCompletableFuture().join())
                .hasCauseInstanceOf(java.nio.file.NoSuchFileException.class);
    }
}
