package io.edge.cache;

import java.time.Duration;
import java.util.Objects;

/**
 * The in-memory cache of small static files. Defaults live in {@code reference.conf}.
 *
 * @param maxBytes         bytes held at most, contents plus an estimate of per-entry overhead; 0 turns it off
 * @param maxFileSize      larger files are never cached, in bytes
 * @param revalidateAfter  how long an entry is trusted before its file is stat'ed again (size and mtime)
 */
public record ContentCacheSettings(long maxBytes, int maxFileSize, Duration revalidateAfter) {

    public ContentCacheSettings {
        if (maxBytes < 0) {
            throw new IllegalArgumentException("maxBytes: " + maxBytes + " (expected: >= 0)");
        }
        if (maxFileSize < 0) {
            throw new IllegalArgumentException("maxFileSize: " + maxFileSize + " (expected: >= 0)");
        }
        Objects.requireNonNull(revalidateAfter, "revalidateAfter");
        if (revalidateAfter.isNegative()) {
            throw new IllegalArgumentException("revalidateAfter: " + revalidateAfter + " (expected: >= 0)");
        }
    }

    /** These settings holding {@code maxBytes} at most instead. */
    public ContentCacheSettings withMaxBytes(long maxBytes) {
        return new ContentCacheSettings(maxBytes, maxFileSize, revalidateAfter);
    }
}
