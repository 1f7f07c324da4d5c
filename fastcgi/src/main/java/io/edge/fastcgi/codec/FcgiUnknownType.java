package io.edge.fastcgi.codec;

/** UNKNOWN_TYPE: the peer did not understand a management record of type {@code unknownType}. */
public record FcgiUnknownType(int unknownType) implements FcgiMessage {

    @Override
    public FcgiRecordType type() {
        return FcgiRecordType.UNKNOWN_TYPE;
    }

    @Override
    public int requestId() {
        return 0;
    }
}
