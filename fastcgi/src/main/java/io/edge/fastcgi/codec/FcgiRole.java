package io.edge.fastcgi.codec;

import io.edge.fastcgi.FcgiProtocolException;

/** The role a BEGIN_REQUEST asks the application to play. */
public enum FcgiRole {
    RESPONDER(1), AUTHORIZER(2), FILTER(3);

    private final int code;

    FcgiRole(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    public static FcgiRole of(int code) {
        for (FcgiRole r : values()) {
            if (r.code == code) {
                return r;
            }
        }
        throw FcgiProtocolException.of("role", code, "1..3");
    }
}
