package io.edge.cache.content;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ContentMetadataTest {

    /** A file key as the JDK's or statx's: compares by device and inode. */
    record Key(long device, long inode) {
    }

    static final long SIZE = 15;
    static final long MTIME = 1_704_067_200_000L; // 2024-01-01
    static final long CTIME = 1_717_000_000_123_456_789L;

    final ContentMetadata read = new ContentMetadata(new FileVersion(new Key(64769, 1001), SIZE, MTIME, CTIME),
            "\"18cc2c6a000-f\"", "text/plain");

    @Test
    void theSameFileUnchangedMatches() {
        assertThat(read.matches(new FileVersion(new Key(64769, 1001), SIZE, MTIME, CTIME))).isTrue();
    }

    /** {@code mv new old}: another inode, though size and mtime ({@code touch -d}) are the same. */
    @Test
    void anotherFileRenamedOverItDoesNotMatch() {
        assertThat(read.matches(new FileVersion(new Key(64769, 1002), SIZE, MTIME, CTIME))).isFalse();
        assertThat(read.matches(new FileVersion(new Key(2049, 1001), SIZE, MTIME, CTIME))).isFalse();
    }

    /** {@code cp -p} over it: the same inode, size and mtime put back, but the write moved the ctime. */
    @Test
    void theSameFileRewrittenWithItsTimesRestoredDoesNotMatch() {
        assertThat(read.matches(new FileVersion(new Key(64769, 1001), SIZE, MTIME, CTIME + 1))).isFalse();
    }

    @Test
    void aChangedSizeOrMtimeDoesNotMatch() {
        assertThat(read.matches(new FileVersion(new Key(64769, 1001), SIZE + 1, MTIME, CTIME))).isFalse();
        assertThat(read.matches(new FileVersion(new Key(64769, 1001), SIZE, MTIME + 1, CTIME))).isFalse();
    }

    /** Without the natives the JDK's stat gives no ctime, on either side: the identity, size and mtime still count. */
    @Test
    void anUnknownCtimeMatchesOnlyAnUnknownOne() {
        ContentMetadata noCtime = new ContentMetadata(
                new FileVersion(new Key(64769, 1001), SIZE, MTIME, FileVersion.CHANGE_TIME_UNKNOWN), null, null);
        assertThat(noCtime.matches(new FileVersion(new Key(64769, 1001), SIZE, MTIME,
                FileVersion.CHANGE_TIME_UNKNOWN))).isTrue();
        assertThat(noCtime.matches(new FileVersion(new Key(64769, 1001), SIZE, MTIME, CTIME))).isFalse();
        assertThat(noCtime.matches(new FileVersion(new Key(64769, 1002), SIZE, MTIME,
                FileVersion.CHANGE_TIME_UNKNOWN))).isFalse();
    }
}
