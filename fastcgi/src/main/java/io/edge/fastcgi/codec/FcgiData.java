package io.edge.fastcgi.codec;

import io.netty.buffer.ByteBuf;

/** A DATA payload; empty content ends the stream. */
public final class FcgiData extends FcgiStreamRecord {

    public FcgiData(int requestId, ByteBuf content) {
        super(requestId, content);
    }

    @Override
    public FcgiRecordType type() {
        return FcgiRecordType.DATA;
    }

    @Override
    public FcgiData replace(ByteBuf content) {
        return new FcgiData(requestId(), content);
    }

    @Override
    public FcgiData copy() {
        return replace(content().copy());
    }

    @Override
    public FcgiData duplicate() {
        return replace(content().duplicate());
    }

    @Override
    public FcgiData retainedDuplicate() {
        return replace(content().retainedDuplicate());
    }

    @Override
    public FcgiData retain() {
        super.retain();
        return this;
    }

    @Override
    public FcgiData retain(int increment) {
        super.retain(increment);
        return this;
    }

    @Override
    public FcgiData touch() {
        super.touch();
        return this;
    }

    @Override
    public FcgiData touch(Object hint) {
        super.touch(hint);
        return this;
    }
}
