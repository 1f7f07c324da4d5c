package io.edge.cache.content;

import java.util.concurrent.TimeUnit;

/**
 * Which file some bytes were read from, and which version of it, as a stat tells: the cache's bytes are still the
 * file's only while a stat of its path says the same. Size and mtime alone do not tell: a file renamed over it
 * ({@code mv new old}) or rewritten in place with its times restored ({@code cp -p}, {@code touch -r}) keeps both.
 * The identity tells the first (a rename brings another inode); the ctime, the status change time that every write,
 * rename or chmod moves and that no call sets back, tells the second.
 *
 * @param fileKey            what identifies the file ({@code BasicFileAttributes.fileKey()}: its device and inode),
 *                           or null where the file system does not say
 * @param size               bytes
 * @param lastModifiedMillis the mtime, milliseconds since the epoch (finer than the ETag's and Last-Modified's seconds)
 * @param changeTimeNanos    the ctime, nanoseconds since the epoch, or {@link #CHANGE_TIME_UNKNOWN} where the stat
 *                           does not give it (the JDK's stat, without the natives)
 */
public record FileVersion(Object fileKey, long size, long lastModifiedMillis, long changeTimeNanos) {

    /** The ctime of a stat that does not give it; compares equal only to itself. */
    public static final long CHANGE_TIME_UNKNOWN = Long.MIN_VALUE;

    /**
     * Whether a file last modified at {@code lastModifiedMillis} (since the epoch) was left alone for at least
     * {@code periodNanos} by this host's clock, so that a cache may trust what it read of it for that long: the open
     * file cache its descriptor and size, the content cache its bytes. One modified since, or whose mtime is ahead of
     * the clock (a file server's clock ahead of this host's: no telling), may still be being written in place (a
     * thumbnail a script writes as it makes it, {@code fopen("w")} then its pieces): trusted, its first pieces went
     * out as whole 200s, or nothing, for up to a second after the writer was done (the thumbnail-generation audit:
     * half the answers of a 50-client burst, where nginx, which stats every request without its open_file_cache,
     * sent a part only while the script wrote).
     */
    public static boolean settled(long lastModifiedMillis, long periodNanos) {
        return System.currentTimeMillis() - lastModifiedMillis >= TimeUnit.NANOSECONDS.toMillis(periodNanos);
    }
}
