package io.edge.fastcgi.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.DefaultByteBufHolder;

/**
 * A payload of one of the byte streams (PARAMS, STDIN, STDOUT, STDERR, DATA). Empty content ends the stream.
 * Encoding splits content longer than 65535 bytes into several records; decoding yields one per record.
 */
public abstract class FcgiStreamRecord extends DefaultByteBufHolder implements FcgiMessage {

    private final int requestId;

    protected FcgiStreamRecord(int requestId, ByteBuf content) {
        super(content);
        this.requestId = requestId;
    }

    @Override
    public final int requestId() {
        return requestId;
    }

    /** True for the empty record that ends the stream. */
    public final boolean isEndOfStream() {
        return !content().isReadable();
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "(requestId=" + requestId + ", " + content().readableBytes() + " bytes)";
    }
}
