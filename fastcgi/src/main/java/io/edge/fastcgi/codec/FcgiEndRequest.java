package io.edge.fastcgi.codec;

/** END_REQUEST: the application's exit status (unsigned 32 bits) and the protocol-level outcome. */
public record FcgiEndRequest(int requestId, long appStatus, FcgiProtocolStatus protocolStatus) implements FcgiMessage {

    @Override
    public FcgiRecordType type() {
        return FcgiRecordType.END_REQUEST;
    }
}
