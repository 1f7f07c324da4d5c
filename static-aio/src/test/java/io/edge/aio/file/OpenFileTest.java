package io.edge.aio.file;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The bytes a pool thread read at open ({@link OpenFile#offerContent}): taken once, else released with the file. */
class OpenFileTest {

    @TempDir
    Path dir;

    private OpenFile open(OpenFileCache cache, String content) throws IOException {
        return cache.acquire(Files.writeString(dir.resolve("f"), content), true);
    }

    private static OpenFileCache uncached() {
        return new OpenFileCache(0, Duration.ofSeconds(5), 10, System::nanoTime);
    }

    private static ByteBuf bytes(String s) {
        return Unpooled.directBuffer().writeBytes(s.getBytes(StandardCharsets.US_ASCII));
    }

    /**
     * nginx's entity tag, {@code "<mtime s hex>-<size hex>"}: a CDN's copies revalidated against nginx stay 304s after
     * the move, and two origins whose copies of a file keep only whole seconds ({@code scp -p}, a tar) agree. Edge's
     * had milliseconds: every If-None-Match from nginx's days was a 200 (probe).
     */
    @Test
    void theEntityTagIsNginxs() throws IOException {
        try (OpenFileCache cache = uncached()) {
            Path copy = Files.writeString(dir.resolve("g"), "x".repeat(0x16b7));
            Files.setLastModifiedTime(copy, FileTime.from(Instant.parse("2026-12-01T10:00:00.734Z")));
            OpenFile file = cache.acquire(copy, true);
            try {
                // date -u -d '2026-12-01 10:00:00' +%s = 1796119200 = 0x6b0e9aa0
                assertThat(file.etag()).isEqualTo("\"6b0e9aa0-16b7\"");
            } finally {
                file.release();
            }
        }
        assertThat(OpenFile.etagOf(Instant.parse("2026-12-01T10:00:00Z").toEpochMilli(), 0x16b7))
                .as("the same whole second").isEqualTo("\"6b0e9aa0-16b7\"");
        // date -u -d '1960-01-01' +%s = -315619200 = -0x12cff780: nginx prints a time_t signed
        assertThat(OpenFile.etagOf(Instant.parse("1960-01-01T00:00:00Z").toEpochMilli(), 4))
                .as("before 1970").isEqualTo("\"-12cff780-4\"");
    }

    /**
     * The last close of a large file deleted while open frees its blocks, reading the file system's bitmaps from the
     * disk if need be: released last by an event loop, it is closed on a thread of its own. A thumbnail is closed
     * at once, where it is released.
     */
    @Test
    void aLargeFileAnEventLoopReleasesLastIsClosedOffTheLoopAndASmallOneAtOnce() throws Exception {
        Path large = dir.resolve("video");
        try (RandomAccessFile raf = new RandomAccessFile(large.toFile(), "rw")) {
            raf.setLength(OpenFile.CLOSED_OFF_THE_LOOP_ABOVE + 1);
        }
        MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        try (HeldCloser closer = new HeldCloser(); OpenFileCache cache = uncached()) {
            OpenFile big = cache.acquire(large, true);
            OpenFile small = open(cache, "a thumbnail");
            Files.delete(large); // replaced by a deploy while open
            assertThat(cache.descriptorsInUse()).isEqualTo(2);
            group.next().submit(() -> {
                big.release();
                small.release();
            }).get(30, TimeUnit.SECONDS);
            assertThat(cache.descriptorsInUse()).as("the large file's, waiting for its thread").isEqualTo(1);
            closer.runClosesHandedOver();
            assertThat(cache.descriptorsInUse()).isZero();
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    @Test
    void theOfferedBytesAreTakenByOneReadOnly() throws IOException {
        try (OpenFileCache cache = uncached()) {
            OpenFile file = open(cache, "0123456789");
            ByteBuf whole = bytes("0123456789");
            try {
                file.offerContent(whole);
                ByteBuf taken = file.takeContent(0, 10);
                assertThat(taken).isSameAs(whole);
                assertThat(file.takeContent(0, 10)).as("taken already").isNull();
                taken.release();
            } finally {
                file.release();
            }
            assertThat(whole.refCnt()).isZero();
        }
    }

    @Test
    void aPartOfTheOfferedBytesIsASliceAndTheRestIsReleasedWithIt() throws IOException {
        try (OpenFileCache cache = uncached()) {
            OpenFile file = open(cache, "0123456789");
            ByteBuf whole = bytes("0123456789");
            try {
                file.offerContent(whole);
                ByteBuf part = file.takeContent(2, 5);
                assertThat(part.toString(StandardCharsets.US_ASCII)).isEqualTo("23456");
                assertThat(file.takeContent(0, 10)).isNull();
                part.release();
                assertThat(whole.refCnt()).as("the slice held the last reference").isZero();
            } finally {
                file.release();
            }
        }
    }

    @Test
    void bytesNobodyTookAreReleasedWithTheFile() throws IOException {
        try (OpenFileCache cache = uncached()) {
            OpenFile file = open(cache, "0123456789");
            ByteBuf whole = bytes("0123456789");
            file.offerContent(whole);
            assertThat(whole.refCnt()).isEqualTo(1);
            file.release();
            assertThat(whole.refCnt()).isZero();
        }
    }

    @Test
    void droppedBytesAreReleasedAndNotTaken() throws IOException {
        try (OpenFileCache cache = uncached()) {
            OpenFile file = open(cache, "0123456789");
            ByteBuf whole = bytes("0123456789");
            try {
                file.offerContent(whole);
                file.dropContent();
                assertThat(whole.refCnt()).isZero();
                assertThat(file.takeContent(0, 10)).isNull();
            } finally {
                file.release();
            }
        }
    }

    @Test
    void anOfferThatDoesNotMatchTheFilesSizeOrComesSecondIsReleasedAtOnce() throws IOException {
        try (OpenFileCache cache = uncached()) {
            OpenFile file = open(cache, "0123456789");
            ByteBuf shorter = bytes("01234");
            ByteBuf first = bytes("0123456789");
            ByteBuf second = bytes("0123456789");
            try {
                file.offerContent(shorter);
                assertThat(shorter.refCnt()).as("the file changed size since it was opened").isZero();
                file.offerContent(first);
                file.offerContent(second);
                assertThat(second.refCnt()).isZero();
                assertThat(first.refCnt()).isEqualTo(1);
            } finally {
                file.release();
            }
            assertThat(first.refCnt()).isZero();
        }
    }
}
