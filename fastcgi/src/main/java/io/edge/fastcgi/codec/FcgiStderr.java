package io.edge.fastcgi.codec;

import io.netty.buffer.ByteBuf;

/** A STDERR payload; empty content ends the stream. */
public final class FcgiStderr extends FcgiStreamRecord {

    public FcgiStderr(int requestId, ByteBuf content) {
        super(requestId, content);
    }

    @Override
    public FcgiRecordType type() {
        return FcgiRecordType.STDERR;
    }

    @Override
    public FcgiStderr replace(ByteBuf content) {
        return new FcgiStderr(requestId(), content);
    }

    @Override
    public FcgiStderr copy() {
        return replace(content().copy());
    }

    @Override
    public FcgiStderr duplicate() {
        return replace(content().duplicate());
    }

    @Override
    public FcgiStderr retainedDuplicate() {
        return replace(content().retainedDuplicate());
    }

    @Override
    public FcgiStderr retain() {
        super.retain();
        return this;
    }

    @Override
    public FcgiStderr retain(int increment) {
        super.retain(increment);
        return this;
    }

    @Override
    public FcgiStderr touch() {
        super.touch();
        return this;
    }

    @Override
    public FcgiStderr touch(Object hint) {
        super.touch(hint);
        return this;
    }
}
