package io.edge.cache.content;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.cache.ContentCacheSettings;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ContentCacheTest {

    @TempDir
    Path dir;
    final AtomicLong clock = new AtomicLong(1_000_000_000L);
    final AtomicInteger stats = new AtomicInteger();
    final ContentCache.Stat stat = (path, confined) -> {
        stats.incrementAndGet();
        return version(path);
    };

    /** The file's version as the JDK tells it on Linux: its file key (device and inode), size, mtime and ctime. */
    static FileVersion version(Path path) throws IOException {
        Map<String, Object> a = Files.readAttributes(path, "unix:fileKey,size,lastModifiedTime,ctime,isRegularFile");
        if (!(Boolean) a.get("isRegularFile")) {
            throw new NoSuchFileException(path.toString(), null, "not a regular file");
        }
        return new FileVersion(a.get("fileKey"), (Long) a.get("size"), ((FileTime) a.get("lastModifiedTime")).toMillis(),
                ((FileTime) a.get("ctime")).to(TimeUnit.NANOSECONDS));
    }

    /** {@code file} with its mtime an hour back. */
    static Path settled(Path file) throws IOException {
        Files.setLastModifiedTime(file, FileTime.from(Instant.now().minus(Duration.ofHours(1))));
        return file;
    }

    private ContentCache cache(long maxBytes, int maxFileSize) {
        return new ContentCache(new ContentCacheSettings(maxBytes, maxFileSize, Duration.ofSeconds(5)), clock::get);
    }

    private static ByteBuf direct(String text) {
        ByteBuf buf = ByteBufAllocator.DEFAULT.directBuffer(text.length());
        buf.writeCharSequence(text, StandardCharsets.US_ASCII);
        return buf;
    }

    private static ContentMetadata meta(long size) {
        return new ContentMetadata(new FileVersion(null, size, 1_000, FileVersion.CHANGE_TIME_UNKNOWN), "\"e\"",
                "text/plain");
    }

    /**
     * Writes a file, modified an hour ago (as in a tree deployed a while ago: the cache keeps no bytes of a file
     * modified within its revalidation period), and puts its bytes, as the static path would after reading it.
     */
    private Path cached(ContentCache cache, String name, String text) throws IOException {
        Path file = settled(Files.writeString(dir.resolve(name), text));
        assertThat(cache.put(file, direct(text), new ContentMetadata(version(file), null, null))).isTrue();
        return file;
    }

    /**
     * A reload that changes the content cache's settings builds a new one: it counts on from its predecessor's
     * counters (they went back to 0, which Prometheus takes for a restart), also what the predecessor still counts while
     * it drains.
     */
    @Test
    void aCacheThatReplacesAnotherCountsOnFromItsCounters() throws IOException {
        try (ContentCache before = cache(1 << 20, 1024)) {
            Path file = cached(before, "a.txt", "hello");
            before.get(file, stat).content().release();
            assertThat(before.get(dir.resolve("none"), stat)).isNull();
            try (ContentCache after = new ContentCache(new ContentCacheSettings(1 << 19, 1024, Duration.ofSeconds(5)),
                    clock::get, before)) {
                assertThat(after.stats().hits()).isEqualTo(1);
                assertThat(after.stats().misses()).isEqualTo(1);
                before.get(file, stat).content().release(); // still draining
                assertThat(after.get(dir.resolve("other"), stat)).isNull();
                assertThat(after.stats().hits()).isEqualTo(2);
                assertThat(after.stats().misses()).isEqualTo(2);
            }
        }
    }

    /** A hit its caller may not answer with (read through a link, for a site that checks links) counts as a miss. */
    @Test
    void aRefusedHitCountsAsAMiss() throws IOException {
        try (ContentCache cache = cache(1 << 20, 1024)) {
            Path file = cached(cache, "a.txt", "hello");
            cache.refuse(cache.get(file, stat));
            assertThat(cache.stats().hits()).isZero();
            assertThat(cache.stats().misses()).isEqualTo(1);
            cache.get(file, stat).release();
            assertThat(cache.stats().hits()).isEqualTo(1);
        }
    }

    /**
     * What the cache held goes on to the one a reload builds (a new max-bytes, or the other cache's new share of the
     * direct memory hold), as the response cache's does: every entry, with its compressed form, but a file over the new
     * max-file-size; each cache holds its own reference, so closing the old one (its generation retired) leaves the new
     * one's bytes whole.
     */
    @Test
    void aReloadCarriesWhatTheCacheHeldToTheNewOne() throws IOException {
        ContentCache before = cache(1 << 20, 1024);
        Path hot = cached(before, "hot.txt", "h".repeat(600));
        Path cold = cached(before, "cold.txt", "c".repeat(600));
        Path large = cached(before, "large.txt", "l".repeat(900));
        CachedContent hit = before.get(hot, stat);
        ByteBuf gzipped = direct("GZ");
        before.keepCompressed(hot, hit, 1, gzipped);
        gzipped.release();
        hit.release();

        ContentCache after = new ContentCache(new ContentCacheSettings(1 << 21, 800, Duration.ofSeconds(5)),
                clock::get, before);
        before.close(); // its generation retired
        try (after) {
            assertThat(after.get(large, stat)).as("over the new max-file-size").isNull();
            CachedContent carried = after.get(hot, stat);
            assertThat(carried.content().toString(StandardCharsets.US_ASCII)).isEqualTo("h".repeat(600));
            ByteBuf kept = after.compressed(carried, 1);
            assertThat(kept.toString(StandardCharsets.US_ASCII)).isEqualTo("GZ");
            kept.release();
            carried.release();
            CachedContent other = after.get(cold, stat);
            assertThat(other.content().toString(StandardCharsets.US_ASCII)).isEqualTo("c".repeat(600));
            other.release();
            after.cleanUp();
            assertThat(after.stats().entries()).isEqualTo(2);
        }
    }

    /**
     * A smaller cache takes the hottest entries that fit, by Caffeine's account of hot, and no more than it holds: the
     * one asked for most goes on. (Caffeine counts reads once a cache is half full: before that, nothing is near
     * eviction, and its order is the order of writes.)
     */
    @Test
    void aSmallerCacheTakesTheHottestEntriesThatFit() throws IOException {
        try (ContentCache before = cache(6 << 10, 1024)) {
            Path hot = cached(before, "hot.txt", "h".repeat(600));
            for (int i = 0; i < 3; i++) {
                cached(before, "cold" + i + ".txt", "c".repeat(600));
            }
            for (int i = 0; i < 10; i++) {
                before.get(hot, stat).release();
            }
            long twoFit = 2 * ContentCache.weight(hot, 600) + 100;
            try (ContentCache after = new ContentCache(new ContentCacheSettings(twoFit, 1024, Duration.ofSeconds(5)),
                    clock::get, before)) {
                after.cleanUp();
                assertThat(after.stats().entries()).isEqualTo(2);
                assertThat(after.stats().bytesHeld()).isLessThanOrEqualTo(twoFit);
                assertThat(after.stats().evictions()).as("none put only to be evicted").isZero();
                after.get(hot, stat).release();
            }
        }
    }

    /**
     * The old generation's requests still running after a reload tell their cache of a file that changed (a read that
     * found it so, its revalidation): the copy carried to the new cache is dropped too, else it would answer the old
     * bytes on until its own check.
     */
    @Test
    void aFileTheOldCacheFindsChangedIsDroppedFromTheNewOne() throws IOException {
        try (ContentCache before = cache(1 << 20, 1024)) {
            Path told = cached(before, "told.txt", "old");
            Path checked = cached(before, "checked.txt", "old");
            try (ContentCache after = new ContentCache(new ContentCacheSettings(1 << 19, 1024, Duration.ofSeconds(5)),
                    clock::get, before)) {
                before.invalidate(told);
                assertThat(after.get(told, stat)).isNull();

                Files.writeString(checked, "new bytes");
                clock.addAndGet(Duration.ofSeconds(5).toNanos());
                assertThat(before.get(checked, stat)).isNull();
                after.cleanUp();
                assertThat(after.stats().entries()).as("dropped without a lookup here").isZero();
            }
        }
    }

    /**
     * The bytes of a file modified within the revalidation period are not kept: it may still be being written in
     * place (a thumbnail a script writes as it makes it), and its first pieces would answer as the whole file until
     * the entry's first revalidation (the thumbnail-generation audit); nor of one whose mtime is ahead of the clock.
     * Once settled, they are.
     */
    @Test
    void theBytesOfAFileModifiedMomentsAgoAreNotKept() throws IOException {
        try (ContentCache cache = cache(1 << 20, 1024)) {
            Path file = Files.writeString(dir.resolve("making.jpg"), "first piece");
            ByteBuf piece = direct("first piece");
            assertThat(cache.put(file, piece, new ContentMetadata(version(file), null, null))).isFalse();
            assertThat(piece.refCnt()).as("released").isZero();
            assertThat(cache.get(file, stat)).isNull();
            Files.setLastModifiedTime(file, FileTime.fromMillis(System.currentTimeMillis() + 10_000));
            assertThat(cache.settled(version(file))).as("ahead of the clock: no telling").isFalse();
            settled(file);
            assertThat(cache.settled(version(file))).isTrue();
            assertThat(cache.put(file, direct("first piece"), new ContentMetadata(version(file), null, null))).isTrue();
            CachedContent hit = cache.get(file, stat);
            assertThat(hit).isNotNull();
            hit.release();
        }
    }

    @Test
    void hitIsARetainedDuplicateWithItsOwnIndexes() throws IOException {
        try (ContentCache cache = cache(1 << 20, 1024)) {
            Path file = cached(cache, "a.txt", "hello");
            CachedContent first = cache.get(file, stat);
            CachedContent second = cache.get(file, stat);
            assertThat(first.content().readCharSequence(5, StandardCharsets.US_ASCII)).hasToString("hello");
            assertThat(second.content().readableBytes()).isEqualTo(5);
            assertThat(first.content().refCnt()).isEqualTo(3); // cache + two holders share one count
            assertThat(first.metadata().size()).isEqualTo(5);
            first.release();
            second.release();
            assertThat(cache.stats().hits()).isEqualTo(2);
            assertThat(cache.get(dir.resolve("other"), stat)).isNull();
            assertThat(cache.stats().misses()).isEqualTo(1);
            assertThat(stats).hasValue(0); // a hit within revalidateAfter touches no disk
        }
    }

    /**
     * A compressible file's gzip form is kept beside its bytes once made (copied, not taken): handed out at its level
     * only, counted in the entry's weight, and let go with the entry when revalidation finds the file changed.
     */
    @Test
    void keepsACompressedFormBesideTheBytesUntilTheFileChanges() throws IOException {
        try (ContentCache cache = cache(1 << 20, 1024)) {
            Path file = cached(cache, "a.txt", "hello hello hello");
            CachedContent hit = cache.get(file, stat);
            assertThat(cache.compressed(hit, 1)).isNull();
            ByteBuf gzipped = direct("GZ");
            cache.keepCompressed(file, hit, 1, gzipped);
            assertThat(gzipped.refCnt()).as("copied, not taken").isEqualTo(1);
            gzipped.release();
            hit.release();
            cache.cleanUp();
            assertThat(cache.stats().bytesHeld()).isEqualTo(ContentCache.weight(file, 17 + 2));
            assertThat(cache.stats().entries()).isEqualTo(1);

            CachedContent again = cache.get(file, stat);
            assertThat(again.content().toString(StandardCharsets.US_ASCII)).isEqualTo("hello hello hello");
            assertThat(cache.compressed(again, 6)).as("another level").isNull();
            ByteBuf kept = cache.compressed(again, 1);
            assertThat(kept.toString(StandardCharsets.US_ASCII)).isEqualTo("GZ");
            again.release();

            Files.writeString(file, "changed, and longer");
            clock.addAndGet(Duration.ofSeconds(5).toNanos());
            assertThat(cache.get(file, stat)).isNull();
            assertThat(kept.refCnt()).as("the cache let go of its copy").isEqualTo(1);
            kept.release();
            assertThat(cache.stats().entries()).isZero();
        }
    }

    @Test
    void weighsByBytes() {
        try (ContentCache cache = cache(1 << 20, 1024)) {
            Path a = Path.of("/a");
            Path b = Path.of("/bb");
            cache.put(a, direct("x".repeat(100)), meta(100));
            cache.put(b, direct("y".repeat(1000)), meta(1000));
            cache.cleanUp();
            assertThat(cache.stats().bytesHeld())
                    .isEqualTo(ContentCache.weight(a, 100) + ContentCache.weight(b, 1000))
                    .isEqualTo(100 + 1000 + 2 * ContentCache.ENTRY_OVERHEAD + 2 * 2 + 2 * 3);
            assertThat(cache.stats().entries()).isEqualTo(2);
        }
    }

    @Test
    void refusesFilesOverMaxFileSizeAndReleasesThem() {
        try (ContentCache cache = cache(1 << 20, 4)) {
            ByteBuf big = direct("12345");
            assertThat(cache.put(Path.of("/big"), big, meta(5))).isFalse();
            assertThat(big.refCnt()).isZero();
            ByteBuf wrongSize = direct("123");
            assertThat(cache.put(Path.of("/w"), wrongSize, meta(4))).isFalse();
            assertThat(wrongSize.refCnt()).isZero();
            assertThat(cache.stats().entries()).isZero();
        }
    }

    @Test
    void oneMillionDistinctKeysStayUnderTheByteBound() {
        long maxBytes = 1 << 20;
        List<ByteBuf> samples = new ArrayList<>();
        List<Path> sampleKeys = new ArrayList<>();
        try (ContentCache cache = cache(maxBytes, 64)) {
            for (int i = 0; i < 1_000_000; i++) {
                // Heap buffers without leak tracking keep a million puts fast under paranoid detection.
                ByteBuf content = Unpooled.wrappedBuffer(new byte[16]);
                Path key = Path.of("/t/" + i);
                if (i % 10_000 == 0) {
                    samples.add(content);
                    sampleKeys.add(key);
                }
                cache.put(key, content, meta(16));
                if (i % 100_000 == 0) {
                    cache.cleanUp();
                    assertThat(cache.stats().bytesHeld()).isLessThanOrEqualTo(maxBytes);
                }
            }
            cache.cleanUp();
            ContentCacheStats s = cache.stats();
            assertThat(s.bytesHeld()).isLessThanOrEqualTo(maxBytes).isGreaterThan(maxBytes / 2);
            assertThat(s.evictions()).isEqualTo(1_000_000 - s.entries());
            for (int i = 0; i < samples.size(); i++) {
                CachedContent hit = cache.get(sampleKeys.get(i), stat);
                if (hit == null) {
                    assertThat(samples.get(i).refCnt()).as("evicted sample %d released", i).isZero();
                } else {
                    assertThat(samples.get(i).refCnt()).isEqualTo(2);
                    hit.release();
                }
            }
        }
        assertThat(samples).allSatisfy(buf -> assertThat(buf.refCnt()).isZero());
    }

    /** What the static path does for one request of {@code path}: a hit, or a miss that may copy the file in. */
    private void request(ContentCache cache, Path path) {
        CachedContent hit = cache.get(path, stat);
        if (hit != null) {
            hit.release();
        } else if (cache.admit(path)) {
            cache.put(path, Unpooled.wrappedBuffer(new byte[16]), meta(16));
        }
    }

    @Test
    void admissionsThatGoUnhitAreThrottledAndAHotSetBringsThemBackWhileTheUnhitOnesRemain() {
        try (ContentCache cache = cache(1 << 20, 64)) {
            // Churn: every file asked for twice (its second miss passes the doorkeeper), never again.
            int key = 0;
            while (cache.stats().admitOneIn() < 4 && key < 1_000_000) {
                Path path = Path.of("/cold/" + key++);
                request(cache, path);
                request(cache, path);
            }
            assertThat(cache.stats().admitOneIn()).isEqualTo(4);
            int admitted = 0;
            for (int i = 0; i < 8; i++) {
                Path candidate = Path.of("/candidate/" + i);
                assertThat(cache.admit(candidate)).as("first miss: the doorkeeper's").isFalse();
                admitted += cache.admit(candidate) ? 1 : 0;
            }
            assertThat(admitted).as("one second miss in four").isEqualTo(2);
            assertThat(cache.stats().entries()).as("unhit entries still held").isGreaterThan(1000);
            // A hot set appears: at one admission in four it still gets in, and is then answered from memory.
            List<Path> hot = new ArrayList<>();
            for (int i = 0; i < 512; i++) {
                hot.add(Path.of("/hot/" + i));
            }
            for (int round = 0; round < 100; round++) {
                hot.forEach(path -> request(cache, path));
            }
            long hitsBefore = cache.stats().hits();
            hot.forEach(path -> request(cache, path));
            assertThat(cache.stats().hits() - hitsBefore).isEqualTo(hot.size());
            // Everything hot is held, so nothing is admitted and no window ends: the old verdict decays.
            assertThat(cache.stats().admitOneIn()).isGreaterThan(1);
            for (int decay = 0; decay < 2; decay++) {
                clock.addAndGet(TimeUnit.SECONDS.toNanos(AdmissionPace.DECAY_SECONDS));
                Path candidate = Path.of("/later/" + decay);
                cache.admit(candidate);
                cache.admit(candidate);
            }
            assertThat(cache.stats().admitOneIn()).isOne();
        }
    }

    @Test
    void retainedDuplicatesSurviveEviction() {
        Path hot = Path.of("/hot");
        ByteBuf content = direct("x".repeat(600));
        try (ContentCache cache = cache(ContentCache.weight(hot, 600) + 10, 1024)) {
            cache.put(hot, content, meta(600));
            CachedContent sending = cache.get(hot, stat);
            cache.put(Path.of("/other"), direct("y".repeat(600)), meta(600)); // over the bound: one must go
            cache.cleanUp();
            assertThat(cache.stats().entries()).isEqualTo(1);
            assertThat(cache.stats().evictions()).isEqualTo(1);
            cache.invalidate(hot); // whichever stayed, the hot one is out of the cache now
            assertThat(content.refCnt()).isEqualTo(1); // only the sender's
            assertThat(sending.content().readableBytes()).isEqualTo(600);
            assertThat(sending.content().getByte(599)).isEqualTo((byte) 'x');
            sending.release();
            assertThat(content.refCnt()).isZero();
        }
    }

    @Test
    void revalidatesAfterTheIntervalAgainstSizeAndMtime() throws IOException {
        try (ContentCache cache = cache(1 << 20, 1024)) {
            Path file = cached(cache, "r.txt", "one");
            clock.addAndGet(Duration.ofSeconds(5).toNanos());
            CachedContent hit = cache.get(file, stat); // due: stat'ed once, unchanged
            assertThat(hit).isNotNull();
            hit.release();
            assertThat(stats).hasValue(1);
            cache.get(file, stat).release(); // trusted again for another interval
            assertThat(stats).hasValue(1);

            Files.writeString(file, "three");
            CachedContent trusted = cache.get(file, stat); // not due yet: the old bytes, no stat
            assertThat(trusted.content().toString(StandardCharsets.US_ASCII)).isEqualTo("one");
            trusted.release();
            clock.addAndGet(Duration.ofSeconds(5).toNanos());
            assertThat(cache.get(file, stat)).isNull();
            assertThat(stats).hasValue(2);
            assertThat(cache.stats().invalidations()).isEqualTo(1);
            assertThat(cache.stats().entries()).isZero();
        }
    }

    @Test
    void sameSizeNewMtimeOrVanishedFileInvalidates() throws IOException {
        try (ContentCache cache = cache(1 << 20, 1024)) {
            Path touched = cached(cache, "t.txt", "abc");
            Path gone = cached(cache, "g.txt", "abc");
            Files.setLastModifiedTime(touched, FileTime.fromMillis(Files.getLastModifiedTime(touched).toMillis() + 2_000));
            Files.delete(gone);
            clock.addAndGet(Duration.ofSeconds(6).toNanos());
            assertThat(cache.get(touched, stat)).isNull();
            assertThat(cache.get(gone, (path, confined) -> {
                throw new NoSuchFileException(path.toString());
            })).isNull();
            assertThat(cache.stats().invalidations()).isEqualTo(2);
        }
    }

    /**
     * Content read from a file reached with no link on the way is revalidated as such: a stat that finds a link on the
     * way now (the same inode, its directory moved out of the root and a link left in its place) drops it, and the
     * next request goes to the file, whose open checks the link. Content read through a link is asked no such thing.
     */
    @Test
    void theRevalidationOfContentReadWithNoLinkOnTheWayIsToldSo() throws IOException {
        try (ContentCache cache = cache(1 << 20, 1024)) {
            Path confined = settled(Files.writeString(dir.resolve("c.txt"), "within"));
            cache.put(confined, direct("within"), new ContentMetadata(version(confined), null, null, true));
            Path linked = cached(cache, "l.txt", "linked");
            List<Boolean> asked = new ArrayList<>();
            ContentCache.Stat linkOnTheWayNow = (path, noLinkExpected) -> {
                asked.add(noLinkExpected);
                if (noLinkExpected) {
                    throw new FileSystemException(path.toString(), null, "reached through a link now");
                }
                return version(path);
            };
            clock.addAndGet(Duration.ofSeconds(5).toNanos());
            assertThat(cache.get(confined, linkOnTheWayNow)).isNull();
            CachedContent hit = cache.get(linked, linkOnTheWayNow);
            assertThat(hit).isNotNull();
            hit.release();
            assertThat(asked).containsExactly(true, false);
            assertThat(cache.stats().invalidations()).isEqualTo(1);
        }
    }

    /** The reviewer's {@code mv r.new r.txt}: another inode with the same size and mtime replaces the file. */
    @Test
    void aFileRenamedOverItWithTheSameSizeAndMtimeInvalidates() throws IOException {
        try (ContentCache cache = cache(1 << 20, 1024)) {
            Path file = cached(cache, "r.txt", "AAAA-version-1\n");
            FileTime mtime = Files.getLastModifiedTime(file);
            Path replacement = dir.resolve("r.new");
            Files.writeString(replacement, "BBBB-version-2\n");
            Files.setLastModifiedTime(replacement, mtime);
            Files.move(replacement, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            clock.addAndGet(Duration.ofSeconds(5).toNanos());
            assertThat(cache.get(file, stat)).isNull();
            assertThat(cache.stats().invalidations()).isEqualTo(1);
        }
    }

    /** The reviewer's {@code cp -p} over the file: the same inode rewritten, size and mtime put back. */
    @Test
    void aFileRewrittenInPlaceWithItsMtimeRestoredInvalidates() throws IOException {
        try (ContentCache cache = cache(1 << 20, 1024)) {
            Path file = cached(cache, "r.txt", "AAAA-version-1\n");
            Object inode = Files.readAttributes(file, BasicFileAttributes.class).fileKey();
            rewriteKeepingTimes(file, "BBBB-version-2\n");
            assertThat(Files.readAttributes(file, BasicFileAttributes.class).fileKey()).isEqualTo(inode);
            clock.addAndGet(Duration.ofSeconds(5).toNanos());
            assertThat(cache.get(file, stat)).isNull();
            assertThat(cache.stats().invalidations()).isEqualTo(1);
        }
    }

    /**
     * What {@code cp -p} does to an existing file: truncates and writes it, then sets its mtime back. Repeated until
     * the ctime moved: the kernel stamps with a clock that may tick only every few milliseconds (a file system
     * without fine-grained ctimes), and a test rewriting within one tick would have changed nothing a stat can see.
     */
    static void rewriteKeepingTimes(Path file, String text) throws IOException {
        FileTime mtime = Files.getLastModifiedTime(file);
        long ctime = version(file).changeTimeNanos();
        do {
            Files.writeString(file, text, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE);
            Files.setLastModifiedTime(file, mtime);
        } while (version(file).changeTimeNanos() == ctime);
    }

    @Test
    void onAnEventLoopADueEntryAnswersAndIsRevalidatedOnceElsewhere() throws IOException {
        try (ContentCache cache = cache(1 << 20, 1024)) {
            Path file = cached(cache, "a.txt", "hello");
            List<Runnable> queued = new ArrayList<>();
            clock.addAndGet(Duration.ofSeconds(6).toNanos());
            Files.setLastModifiedTime(file, FileTime.fromMillis(Files.getLastModifiedTime(file).toMillis() + 2_000));
            for (int i = 0; i < 3; i++) {
                CachedContent stale = cache.get(file, stat, queued::add);
                assertThat(stale.content().toString(StandardCharsets.US_ASCII)).isEqualTo("hello");
                stale.release();
            }
            assertThat(stats).hasValue(0); // nothing stat'ed on the calling thread
            assertThat(queued).hasSize(1); // one revalidation for the three requests
            queued.get(0).run();
            assertThat(stats).hasValue(1);
            assertThat(cache.get(file, stat, queued::add)).isNull(); // the changed file was dropped
            assertThat(cache.stats().invalidations()).isEqualTo(1);
        }
    }

    @Test
    void anUnchangedFileStaysAfterItsBackgroundRevalidation() throws IOException {
        try (ContentCache cache = cache(1 << 20, 1024)) {
            Path file = cached(cache, "a.txt", "hello");
            List<Runnable> queued = new ArrayList<>();
            clock.addAndGet(Duration.ofSeconds(6).toNanos());
            cache.get(file, stat, queued::add).release();
            queued.forEach(Runnable::run);
            CachedContent again = cache.get(file, stat, queued::add);
            assertThat(again).isNotNull();
            again.release();
            assertThat(queued).hasSize(1); // trusted for another period
        }
    }

    /**
     * An entry nobody asked for during a second period may hold a file replaced long ago: answered as it was while
     * its stat ran, the first request after an idle while got the old bytes (found black-box: changed 5 s after the
     * last request, the next two requests still had the old file, nginx the new one). Now it is a miss until the stat
     * is done, and the changed file is dropped.
     */
    @Test
    void anEntryNobodyAskedForDuringASecondPeriodIsAMissUntilItsStatSaysItStillHoldsTheFile() throws IOException {
        try (ContentCache cache = cache(1 << 20, 1024)) {
            Path file = cached(cache, "a.txt", "hello");
            List<Runnable> queued = new ArrayList<>();
            clock.addAndGet(Duration.ofSeconds(10).toNanos()); // two periods of 5 s
            rewriteKeepingTimes(file, "HELLO");
            assertThat(cache.get(file, stat, queued::add)).isNull();
            assertThat(cache.get(file, stat, queued::add)).as("while it is stat'ed").isNull();
            assertThat(queued).hasSize(1);
            assertThat(stats).hasValue(0);
            queued.get(0).run();
            assertThat(cache.get(file, stat, queued::add)).isNull();
            assertThat(cache.stats().invalidations()).isEqualTo(1);
            assertThat(cache.stats().hits()).isZero();
        }
    }

    @Test
    void anUnchangedEntryNobodyAskedForAnswersAgainOnceStated() throws IOException {
        try (ContentCache cache = cache(1 << 20, 1024)) {
            Path file = cached(cache, "a.txt", "hello");
            List<Runnable> queued = new ArrayList<>();
            clock.addAndGet(Duration.ofSeconds(12).toNanos());
            assertThat(cache.get(file, stat, queued::add)).isNull();
            queued.forEach(Runnable::run);
            CachedContent again = cache.get(file, stat, queued::add);
            assertThat(again.content().toString(StandardCharsets.US_ASCII)).isEqualTo("hello");
            again.release();
            clock.addAndGet(Duration.ofSeconds(4).toNanos());
            cache.get(file, stat, queued::add).release(); // trusted for a period from that stat
            assertThat(queued).hasSize(1);
        }
    }

    /**
     * The blocking lookup meets an entry the event loops' lookup marked as being stat'ed (overdue): it stats it
     * itself, as any entry due. It took the mark for a check time and, the age overflowing, answered the old bytes.
     */
    @Test
    void theBlockingLookupStatsAnEntryThatIsBeingStatedForTheLoops() throws IOException {
        try (ContentCache cache = cache(1 << 20, 1024)) {
            Path file = cached(cache, "a.txt", "hello");
            List<Runnable> queued = new ArrayList<>();
            clock.addAndGet(Duration.ofSeconds(10).toNanos()); // two periods of 5 s
            rewriteKeepingTimes(file, "HELLO");
            assertThat(cache.get(file, stat, queued::add)).isNull();
            assertThat(queued).hasSize(1); // not run yet
            assertThat(cache.get(file, stat)).as("changed, and stat'ed here").isNull();
            assertThat(cache.stats().hits()).isZero();
        }
    }

    /** revalidate = 0 trusts nothing: every lookup is overdue, so nothing is copied in to be answered never. */
    @Test
    void withRevalidationOnEveryRequestNothingIsAdmitted() {
        try (ContentCache cache = new ContentCache(new ContentCacheSettings(1 << 20, 1024, Duration.ZERO), clock::get)) {
            Path file = Path.of("/z");
            assertThat(cache.admit(file)).isFalse();
            assertThat(cache.admit(file)).as("second miss").isFalse();
        }
    }

    @Test
    void closeReleasesTheCachesReferences() {
        ByteBuf content = direct("abc");
        ContentCache cache = cache(1 << 20, 1024);
        cache.put(Path.of("/c"), content, meta(3));
        CachedContent held = cache.get(Path.of("/c"), stat);
        cache.close();
        assertThat(content.refCnt()).isEqualTo(1);
        held.release();
        assertThat(content.refCnt()).isZero();
    }

    /** A read that outlived a reload puts into the closed cache: its bytes are released, not kept by nothing. */
    @Test
    void aPutAfterCloseReleasesTheBytes() {
        ContentCache cache = cache(1 << 20, 1024);
        cache.close();
        ByteBuf late = direct("late");
        assertThat(cache.put(Path.of("/late"), late, meta(4))).isFalse();
        assertThat(late.refCnt()).isZero();
        assertThat(cache.stats().entries()).isZero();
    }
}
