package io.edge.cache.content;

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
}
