package io.edge.fastcgi.codec;

import io.netty.buffer.ByteBuf;

/** A STDIN payload; empty content ends the stream. */
public final class FcgiStdin extends FcgiStreamRecord {

    public FcgiStdin(int requestId, ByteBuf content) {
        super(requestId, content);
    }

    @Override
    public FcgiRecordType type() {
        return FcgiRecordType.STDIN;
    }

    @Override
    public FcgiStdin replace(ByteBuf content) {
        return new FcgiStdin(requestId(), content);
    }

    @Override
    public FcgiStdin copy() {
        return replace(content().copy());
    }

    @Override
    public FcgiStdin duplicate() {
        return replace(content().duplicate());
    }

    @Override
    public FcgiStdin retainedDuplicate() {
        return replace(content().retainedDuplicate());
    }

    @Override
    public FcgiStdin retain() {
        super.retain();
        return this;
    }

    @Override
    public FcgiStdin retain(int increment) {
        super.retain(increment);
        return this;
    }

    @Override
    public FcgiStdin touch() {
        super.touch();
        return this;
    }

    @Override
    public FcgiStdin touch(Object hint) {
        super.touch(hint);
        return this;
    }
}
