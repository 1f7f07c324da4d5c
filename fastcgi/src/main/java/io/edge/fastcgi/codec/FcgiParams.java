package io.edge.fastcgi.codec;

import io.netty.buffer.ByteBuf;

/** A PARAMS payload; empty content ends the stream. */
public final class FcgiParams extends FcgiStreamRecord {

    public FcgiParams(int requestId, ByteBuf content) {
        super(requestId, content);
    }

    @Override
    public FcgiRecordType type() {
        return FcgiRecordType.PARAMS;
    }

    @Override
    public FcgiParams replace(ByteBuf content) {
        return new FcgiParams(requestId(), content);
    }

    @Override
    public FcgiParams copy() {
        return replace(content().copy());
    }

    @Override
    public FcgiParams duplicate() {
        return replace(content().duplicate());
    }

    @Override
    public FcgiParams retainedDuplicate() {
        return replace(content().retainedDuplicate());
    }

    @Override
    public FcgiParams retain() {
        super.retain();
        return this;
    }

    @Override
    public FcgiParams retain(int increment) {
        super.retain(increment);
        return this;
    }

    @Override
    public FcgiParams touch() {
        super.touch();
        return this;
    }

    @Override
    public FcgiParams touch(Object hint) {
        super.touch(hint);
        return this;
    }
}
