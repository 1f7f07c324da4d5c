package io.edge.cache.content;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.DefaultByteBufHolder;

/**
 * A hit: a retained duplicate of the cached bytes (its own indexes, shared memory) and the file's metadata.
 * The caller owns it and releases it, normally by writing {@link #content()} to the client; the cache's
 * own reference is unaffected, so eviction never frees bytes that are still being sent.
 */
public final class CachedContent extends DefaultByteBufHolder {

    private final ContentMetadata metadata;
    /** The cache's entry it came from: where its compressed form is kept ({@link ContentCache#keepCompressed}). */
    private final ContentCache.Entry entry;

    CachedContent(ByteBuf content, ContentMetadata metadata, ContentCache.Entry entry) {
        super(content);
        this.metadata = metadata;
        this.entry = entry;
    }

    public ContentMetadata metadata() {
        return metadata;
    }

    ContentCache.Entry entry() {
        return entry;
    }

    @Override
    public CachedContent replace(ByteBuf content) {
        return new CachedContent(content, metadata, entry);
    }

    @Override
    public CachedContent retain() {
        super.retain();
        return this;
    }

    @Override
    public CachedContent touch(Object hint) {
        super.touch(hint);
        return this;
    }
}
