package io.edge.fastcgi.codec;

/** ABORT_REQUEST: the web server gives up on a request (its client went away). */
public record FcgiAbortRequest(int requestId) implements FcgiMessage {

    @Override
    public FcgiRecordType type() {
        return FcgiRecordType.ABORT_REQUEST;
    }
}
