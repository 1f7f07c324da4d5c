package io.edge.fastcgi.codec;

/** BEGIN_REQUEST; {@code keepConn} is FCGI_KEEP_CONN: the application keeps the connection open afterwards. */
public record FcgiBeginRequest(int requestId, FcgiRole role, boolean keepConn) implements FcgiMessage {

    @Override
    public FcgiRecordType type() {
        return FcgiRecordType.BEGIN_REQUEST;
    }
}
