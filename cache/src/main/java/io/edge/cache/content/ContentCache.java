package io.edge.cache.content;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Policy;
import com.github.benmanes.caffeine.cache.Ticker;
import io.edge.cache.BufferCaches;
import io.edge.cache.ContentCacheSettings;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.util.IllegalReferenceCountException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicLongFieldUpdater;
import java.util.concurrent.atomic.LongAdder;

/**
 * Small files kept in memory, ready to send: Caffeine bounded by bytes (a weigher), W-TinyLFU eviction.
 *
 * <p>Ownership: the cache holds exactly one reference to each cached buffer and releases it when the entry
 * is evicted, invalidated, replaced or the cache is closed. {@link #get} hands out a retained duplicate
 * that its caller releases; so a buffer being sent outlives its eviction.
 *
 * <p>Revalidation: an entry is trusted for {@code revalidateAfter}; the first {@link #get} after that stats
 * the file through the caller's {@link Stat} and drops the entry if it is another file now, or its size,
 * mtime or ctime changed ({@link FileVersion}), or the stat failed (a {@link ContentMetadata#confined confined} entry's
 * too when a link now leads to its file). That stat is the only I/O the cache does, and only when an entry is due.
 * The lookup for an event loop answers a due entry while the stat runs elsewhere, within one more period only.
 */
public final class ContentCache implements AutoCloseable {

    /** Stats a file now; the cache calls it only for an entry due for revalidation. */
    @FunctionalInterface
    public interface Stat {
        /**
         * The version of the regular file at {@code path}, told as the {@link ContentMetadata#file} of what was
         * put for it was (same kind of file key, ctime where that stat gave one).
         *
         * @param confined  what was put for it was {@link ContentMetadata#confined}, read from a file reached with no
         *                  link on the way: one reached through a link now is not that file any more, even the same
         *                  inode (its directory moved out of the root, a link left in its place)
         * @throws IOException if it is gone, unreadable, no longer a regular file, or reached through a link where
         *                     {@code confined} says none was
         */
        FileVersion stat(Path path, boolean confined) throws IOException;

        /**
         * Told, on the thread that stat'ed, that {@code path} no longer holds the file cached for it (another file, a
         * changed one, or none that can be read) and that its entry was dropped: whatever else the caller keeps of that
         * file (a descriptor trusted for a while yet) is stale too, and the next request must find the new file.
         */
        default void changed(Path path) {
        }
    }

    /*
     * Per-entry overhead counted in the weight besides the content bytes: the Caffeine node, the entry,
     * the metadata record and its strings, the buffer objects, and the path (about two bytes a char).
     */
    static final int ENTRY_OVERHEAD = 256;

    private final Cache<Path, Entry> cache;
    private final Ticker ticker;
    private final long revalidateNanos;
    private final int maxFileSize;
    /** Shared with the cache that replaces this one on a reload, so that it counts on from these. */
    private final Counters counters;
    private final LongAdder hits;
    private final LongAdder misses;
    private final LongAdder evictions;
    private final LongAdder invalidations;

    private final Doorkeeper doorkeeper;
    private final AdmissionPace pace;
    /** The cache a reload made with what this one held ({@link #carryOver}), else null. */
    private volatile ContentCache successor;
    /** Set by {@link #close}: bytes a read finishes later (one that outlived a reload) are released, not kept. */
    private volatile boolean closed;

    /** A cache from the server's settings, on the system clock. */
    public ContentCache(ContentCacheSettings settings) {
        this(settings, Ticker.systemTicker());
    }

    /** @param ticker the clock for revalidation (a fake one in tests) */
    public ContentCache(ContentCacheSettings settings, Ticker ticker) {
        this(settings, ticker, null);
    }

    /**
     * As {@link #ContentCache(ContentCacheSettings, Ticker)}, for settings a reload changed: the counters since start
     * (hits, misses, evictions, invalidations) go on from {@code predecessor}'s (null: from 0), which adds what its own
     * lookups still count while they drain; and what it holds is carried over ({@link #carryOver}), so that a reload
     * resizing the cache (or the other cache's share of the direct memory hold) does not send every hot file back to
     * the disk. What it keeps from then on is its own.
     */
    public ContentCache(ContentCacheSettings settings, Ticker ticker, ContentCache predecessor) {
        this.counters = predecessor == null ? new Counters() : predecessor.counters;
        this.hits = counters.hits;
        this.misses = counters.misses;
        this.evictions = counters.evictions;
        this.invalidations = counters.invalidations;
        this.ticker = ticker;
        this.revalidateNanos = settings.revalidateAfter().toNanos();
        this.maxFileSize = settings.maxFileSize();
        // Remembers about as many files as the cache can hold (at 4 KiB each), twice over before it forgets.
        this.doorkeeper = new Doorkeeper((int) Math.min(1 << 22, Math.max(1024, settings.maxBytes() / 4096)));
        this.pace = new AdmissionPace(ticker::read);
        this.cache = BufferCaches.bounded(settings.maxBytes(),
                (Path path, Entry entry) -> weight(path, entry.content.readableBytes()
                        + (entry.gzipped == null ? 0 : entry.gzipped.readableBytes())),
                Entry::release, evictions);
        if (predecessor != null) {
            carryOver(predecessor);
        }
    }

    /**
     * Takes a reference to the bytes of {@code predecessor}'s entries that these settings would keep (not a file over
     * max-file-size), hottest first, as many as max-bytes holds; each keeps its check time (one being checked is due
     * here at once, with its own check). An entry the predecessor lets go meanwhile is not carried; one it finds changed
     * or is told is changed after this is dropped here too. Nothing is carried when revalidate-after is 0 (no entry is
     * ever trusted).
     */
    private void carryOver(ContentCache predecessor) {
        predecessor.successor = this;
        if (revalidateNanos == 0 || maxFileSize == 0) {
            return;
        }
        long now = ticker.read();
        predecessor.cache.cleanUp(); // its reads recorded, so that "hottest" counts them
        long room = cache.policy().eviction().orElseThrow().getMaximum();
        // chosen under the predecessor's eviction lock (a walk, no more), then copied outside it
        List<Map.Entry<Path, Entry>> chosen = predecessor.cache.policy().eviction().orElseThrow().hottest(entries -> {
            List<Map.Entry<Path, Entry>> fits = new ArrayList<>();
            long left = room;
            // a walk of the whole cache at most, and no further once no entry could fit
            Iterator<Policy.CacheEntry<Path, Entry>> i = entries.iterator();
            while (i.hasNext() && left > ENTRY_OVERHEAD) {
                Policy.CacheEntry<Path, Entry> e = i.next();
                if (e.getValue().content.readableBytes() <= maxFileSize && e.weight() <= left) {
                    fits.add(e);
                    left -= e.weight();
                }
            }
            return fits;
        });
        for (Map.Entry<Path, Entry> e : chosen) {
            Entry entry = e.getValue();
            long checkedAt = entry.checkedAt; // once: a loop may mark it VERIFYING meanwhile
            Entry carried = entry.carried(checkedAt == VERIFYING ? now - 2 * revalidateNanos : checkedAt);
            if (carried == null) {
                continue;
            }
            if (cache.asMap().putIfAbsent(e.getKey(), carried) != null) {
                carried.release();
            } else if (predecessor.cache.asMap().get(e.getKey()) != entry) {
                // dropped there since the walk (found changed, told so): its invalidation may have come first
                cache.asMap().remove(e.getKey(), carried);
            }
        }
    }

    static int weight(Path path, int contentBytes) {
        return contentBytes + ENTRY_OVERHEAD + 2 * path.toString().length();
    }

    /**
     * Returns the cached content of {@code path} as a retained duplicate the caller must release, or
     * {@code null} on a miss. May call {@code stat} (blocking I/O) when the entry is due for revalidation.
     */
    public CachedContent get(Path path, Stat stat) {
        Entry entry = cache.getIfPresent(path);
        if (entry == null) {
            misses.increment();
            return null;
        }
        long now = ticker.read();
        long checkedAt = entry.checkedAt;
        // VERIFYING (an overdue entry the loops' lookup has queued for its stat) is due here too: taken for a
        // check time, the age would overflow and say fresh
        if (checkedAt == VERIFYING || now - checkedAt >= revalidateNanos) {
            if (!stillValid(path, entry, stat)) {
                misses.increment();
                return null;
            }
            entry.checkedAt = now;
        }
        return hit(entry);
    }

    /**
     * Like {@link #get(Path, Stat)}, but never does I/O on the calling thread (an event loop): an entry due
     * for revalidation is answered as it is, and its file is stat'ed once on {@code executor}; a changed or
     * vanished file's entry is dropped there, so the next request reads the file again. Only within one more
     * period, though: an entry nobody asked for since (last checked two periods ago or more) may hold bytes of a
     * file replaced long ago, which the first request after an idle hour got, and with them their entity tag. It
     * is a miss until its stat says it still holds the file (requests go to the file meanwhile), or drops it.
     */
    public CachedContent get(Path path, Stat stat, Executor executor) {
        Entry entry = cache.getIfPresent(path);
        if (entry == null) {
            misses.increment();
            return null;
        }
        long now = ticker.read();
        long checkedAt = entry.checkedAt;
        if (checkedAt == VERIFYING) {
            misses.increment();
            return null;
        }
        long age = now - checkedAt;
        if (age >= revalidateNanos) {
            boolean overdue = age - revalidateNanos >= revalidateNanos;
            if (CHECKED_AT.compareAndSet(entry, checkedAt, overdue ? VERIFYING : now)) {
                try {
                    executor.execute(() -> {
                        if (stillValid(path, entry, stat) && overdue) {
                            entry.checkedAt = ticker.read();
                        }
                    });
                } catch (RejectedExecutionException shuttingDown) {
                    entry.checkedAt = checkedAt;
                }
            }
            if (overdue) {
                misses.increment();
                return null;
            }
        }
        return hit(entry);
    }

    /**
     * Stats {@code path}; if the file changed, vanished or can't be read (the caller's own open reports
     * why), drops {@code entry} and returns false.
     */
    private boolean stillValid(Path path, Entry entry, Stat stat) {
        FileVersion now;
        try {
            now = stat.stat(path, entry.metadata.confined());
        } catch (IOException e) {
            now = null;
        }
        if (now != null && entry.metadata.matches(now)) {
            return true;
        }
        // the entry, or the one that replaced it with a compressed form beside the same bytes (keepCompressed)
        boolean[] removed = new boolean[1];
        cache.asMap().computeIfPresent(path, (p, current) -> {
            removed[0] = current.metadata == entry.metadata;
            return removed[0] ? null : current;
        });
        if (removed[0]) {
            invalidations.increment();
        }
        ContentCache next = successor;
        if (next != null) {
            next.invalidate(path); // the copy carried there was read from the same file
        }
        stat.changed(path);
        return false;
    }

    /**
     * Gives back {@code hit}, which its caller may not answer with (read through a link, for a site that checks links):
     * counted as the miss it was, not a hit.
     */
    public void refuse(CachedContent hit) {
        hit.release();
        hits.decrement();
        misses.increment();
    }

    /** A retained duplicate of {@code entry}'s bytes, or null (a miss) if it was evicted since the lookup. */
    private CachedContent hit(Entry entry) {
        ByteBuf duplicate = tryRetainedDuplicate(entry.content);
        if (duplicate == null) {
            misses.increment();
            return null;
        }
        hits.increment();
        if (!entry.hit) {
            entry.hit = true; // two loops may both count a first hit: it only skews the pace a little
            pace.firstHit();
        }
        return new CachedContent(duplicate, entry.metadata, entry);
    }

    /**
     * The body of {@code hit} compressed with gzip at {@code level} as kept beside its bytes ({@link #keepCompressed}),
     * a retained duplicate the caller releases; null if none is kept at that level.
     */
    public ByteBuf compressed(CachedContent hit, int level) {
        Entry entry = hit.entry();
        ByteBuf gzipped = entry.gzipped;
        return gzipped == null || entry.gzipLevel != level ? null : tryRetainedDuplicate(gzipped);
    }

    /**
     * Keeps a copy of {@code gzipped} (not taken), the body of {@code hit} compressed at {@code level}, beside the
     * bytes of the entry {@code hit} came from, if that is still {@code path}'s entry; it counts in the entry's
     * weight. A compressible file then costs zlib once per version, not once per request (nginx compresses every
     * time); one form is kept, of the level last made.
     */
    public void keepCompressed(Path path, CachedContent hit, int level, ByteBuf gzipped) {
        Entry old = hit.entry();
        if (closed || old.gzipped != null && old.gzipLevel == level) {
            return;
        }
        int length = gzipped.readableBytes();
        ByteBuf copy;
        try {
            copy = Unpooled.directBuffer(length); // unpooled, as put() asks of every cached buffer
        } catch (OutOfMemoryError e) {
            return; // no direct memory for it: compressed again next time, as before
        }
        copy.writeBytes(gzipped, gzipped.readerIndex(), length);
        ByteBuf content;
        try {
            content = old.content.retain(); // the new entry's own reference to the same bytes
        } catch (IllegalReferenceCountException e) {
            copy.release(); // evicted meanwhile
            return;
        }
        Entry renewed = new Entry(content, old.metadata, old.checkedAt, copy, level);
        renewed.hit = old.hit;
        if (!cache.asMap().replace(path, old, renewed)) {
            renewed.release(); // replaced, revalidated away or compressed by another loop meanwhile
        } else if (closed) {
            cache.invalidate(path); // close() ran since the check above, its invalidateAll maybe first
        }
    }

    private static ByteBuf tryRetainedDuplicate(ByteBuf content) {
        try {
            return content.retainedDuplicate();
        } catch (IllegalReferenceCountException e) {
            return null;
        }
    }

    /**
     * Caches {@code content} as the bytes of {@code path}, replacing any earlier entry. The cache takes over
     * the caller's reference in every case: it is released at once when the content is larger than
     * {@code maxFileSize} or its length disagrees with the metadata, or once the cache is closed. Callers that also send the bytes put
     * a {@code retainedDuplicate()}. The buffer should be direct (written without a copy) and must not be
     * modified afterwards. It must not come from a pooled allocator: {@link #get} retains an entry's buffer after
     * looking it up, and a pooled buffer released meanwhile (evicted on another thread) may already be another
     * buffer, whose retain would succeed; an unpooled one, once released, refuses it ({@code Unpooled.directBuffer}).
     *
     * @return whether the content was cached (it may still be evicted at once by the size policy)
     */
    public boolean put(Path path, ByteBuf content, ContentMetadata metadata) {
        int length = content.readableBytes();
        if (closed || length > maxFileSize || length != metadata.size() || !settled(metadata.file())) {
            content.release(); // refused: nobody else owns this reference
            return false;
        }
        // The entry now owns the caller's reference; the removal listener releases it.
        cache.put(path, new Entry(content, metadata, ticker.read()));
        if (closed) {
            // close() ran since the check above (a read that outlived a reload): its invalidateAll may have come first
            cache.invalidate(path);
            return false;
        }
        pace.admitted();
        return true;
    }

    /**
     * Whether the bytes of the file {@code version} describes may be kept: it was left alone for the revalidation
     * period ({@link FileVersion#settled}). Asked before the bytes are copied and {@link #admit} counts a turn.
     */
    public boolean settled(FileVersion version) {
        return FileVersion.settled(version.lastModifiedMillis(), revalidateNanos);
    }

    /**
     * Records a miss of {@code path} and says whether its bytes are worth copying in: only on its second miss
     * within the doorkeeper's memory (TinyLFU's doorkeeper). A file read once is not copied, put and evicted
     * again at once, which on a stream much larger than the cache (uniform random thumbnails) is most misses;
     * a file asked for twice gets in, where W-TinyLFU decides between it and the coldest entry; while most
     * admissions go unhit, only one such file in {@link AdmissionPace#stride()} is (see {@link AdmissionPace}).
     */
    public boolean admit(Path path) {
        // revalidate = 0 trusts no entry ever (each is overdue at once: get() answers none): keeping any is only a copy
        return maxFileSize > 0 && revalidateNanos > 0 && doorkeeper.seenBefore(path.hashCode()) && pace.admit();
    }

    /** Files larger than this many bytes are never kept. */
    public int maxFileSize() {
        return maxFileSize;
    }

    /** Drops the entry of {@code path}, if any (a file known to have changed). */
    public void invalidate(Path path) {
        if (cache.asMap().remove(path) != null) {
            invalidations.increment();
        }
        ContentCache next = successor;
        if (next != null) {
            next.invalidate(path);
        }
    }

    public ContentCacheStats stats() {
        long weight = cache.policy().eviction().map(e -> e.weightedSize().orElse(0)).orElse(0L);
        return new ContentCacheStats(hits.sum(), misses.sum(), evictions.sum(), invalidations.sum(), weight,
                cache.estimatedSize(), pace.stride());
    }

    /** Runs pending maintenance (eviction); tests call it before reading the bound. */
    void cleanUp() {
        cache.cleanUp();
    }

    /** Releases every cached buffer; duplicates handed out stay valid until their holders release them. */
    @Override
    public void close() {
        closed = true;
        cache.invalidateAll();
        cache.cleanUp();
    }

    /** The counters since start, shared by the caches of successive configurations (hence adders). */
    private static final class Counters {
        final LongAdder hits = new LongAdder();
        final LongAdder misses = new LongAdder();
        final LongAdder evictions = new LongAdder();
        final LongAdder invalidations = new LongAdder();
    }

    /** {@link Entry#checkedAt} of an entry being stat'ed after it was overdue: not answered until checked. */
    private static final long VERIFYING = Long.MIN_VALUE;

    private static final AtomicLongFieldUpdater<Entry> CHECKED_AT =
            AtomicLongFieldUpdater.newUpdater(Entry.class, "checkedAt");

    /** A file's bytes as cached, one reference held; its compressed form beside them, if one is kept. */
    static final class Entry {
        final ByteBuf content;
        final ContentMetadata metadata;
        volatile long checkedAt;
        /** Whether it was ever hit, for {@link AdmissionPace}. */
        volatile boolean hit;
        /** {@link #content} compressed with gzip at {@link #gzipLevel}, one reference held; null if none is kept. */
        final ByteBuf gzipped;
        final int gzipLevel;

        Entry(ByteBuf content, ContentMetadata metadata, long checkedAt) {
            this(content, metadata, checkedAt, null, 0);
        }

        Entry(ByteBuf content, ContentMetadata metadata, long checkedAt, ByteBuf gzipped, int gzipLevel) {
            this.content = content;
            this.metadata = metadata;
            this.checkedAt = checkedAt;
            this.gzipped = gzipped;
            this.gzipLevel = gzipLevel;
        }

        /**
         * A copy of this entry for another cache, checked at {@code checkedAt}, with references of its own to the same
         * bytes; null if this one was released meanwhile (evicted).
         */
        Entry carried(long checkedAt) {
            try {
                content.retain();
            } catch (IllegalReferenceCountException released) {
                return null;
            }
            if (gzipped != null) {
                try {
                    gzipped.retain();
                } catch (IllegalReferenceCountException released) {
                    content.release();
                    return null;
                }
            }
            Entry copy = new Entry(content, metadata, checkedAt, gzipped, gzipLevel);
            copy.hit = hit;
            return copy;
        }

        /** Lets go of the entry's references: what the cache's removal does. */
        void release() {
            content.release();
            if (gzipped != null) {
                gzipped.release();
            }
        }
    }
}
