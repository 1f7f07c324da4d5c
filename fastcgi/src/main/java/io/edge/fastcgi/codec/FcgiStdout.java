package io.edge.fastcgi.codec;

import io.netty.buffer.ByteBuf;

/** A STDOUT payload; empty content ends the stream. */
public final class FcgiStdout extends FcgiStreamRecord {

    public FcgiStdout(int requestId, ByteBuf content) {
        super(requestId, content);
    }

    @Override
    public FcgiRecordType type() {
        return FcgiRecordType.STDOUT;
    }

    @Override
    public FcgiStdout replace(ByteBuf content) {
        return new FcgiStdout(requestId(), content);
    }

    @Override
    public FcgiStdout copy() {
        return replace(content().copy());
    }

    @Override
    public FcgiStdout duplicate() {
        return replace(content().duplicate());
    }

    @Override
    public FcgiStdout retainedDuplicate() {
        return replace(content().retainedDuplicate());
    }

    @Override
    public FcgiStdout retain() {
        super.retain();
        return this;
    }

    @Override
    public FcgiStdout retain(int increment) {
        super.retain(increment);
        return this;
    }

    @Override
    public FcgiStdout touch() {
        super.touch();
        return this;
    }

    @Override
    public FcgiStdout touch(Object hint) {
        super.touch(hint);
        return this;
    }
}
