package io.edge.aio.file;

import io.netty.channel.DefaultFileRegion;

/**
 * A {@code sendfile}-able region over a shared, cached descriptor. Netty's epoll transport sends any
 * {@link DefaultFileRegion} with its native {@code sendfile}. Deallocation releases the region's reference
 * to the {@link OpenFile} instead of closing the channel, which other sends and the cache still use.
 */
final class OpenFileRegion extends DefaultFileRegion {

    private final OpenFile file;

    /** Takes over one reference to {@code file}; released when this region is. */
    OpenFileRegion(OpenFile file, long position, long count) {
        super(file.channel(), position, count);
        this.file = file;
    }

    @Override
    protected void deallocate() {
        file.release();
    }
}
