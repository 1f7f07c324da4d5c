package io.edge.fastcgi.codec;

import io.edge.fastcgi.FcgiProtocolException;

/** The protocolStatus of an END_REQUEST. */
public enum FcgiProtocolStatus {
    REQUEST_COMPLETE(0), CANT_MPX_CONN(1), OVERLOADED(2), UNKNOWN_ROLE(3);

    private final int code;

    FcgiProtocolStatus(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    public static FcgiProtocolStatus of(int code) {
        if (code < 0 || code > 3) {
            throw FcgiProtocolException.of("protocolStatus", code, "0..3");
        }
        return values()[code];
    }
}
