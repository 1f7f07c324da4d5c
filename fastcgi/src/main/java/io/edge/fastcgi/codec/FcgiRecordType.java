package io.edge.fastcgi.codec;

import io.edge.fastcgi.FcgiProtocolException;

/** The record types of FastCGI 1.0, by wire code. */
public enum FcgiRecordType {
    BEGIN_REQUEST(1),
    ABORT_REQUEST(2),
    END_REQUEST(3),
    PARAMS(4),
    STDIN(5),
    STDOUT(6),
    STDERR(7),
    DATA(8),
    GET_VALUES(9),
    GET_VALUES_RESULT(10),
    UNKNOWN_TYPE(11);

    private static final FcgiRecordType[] BY_CODE = new FcgiRecordType[12];

    static {
        for (FcgiRecordType t : values()) {
            BY_CODE[t.code] = t;
        }
    }

    private final int code;

    FcgiRecordType(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    /** Management records (GET_VALUES, GET_VALUES_RESULT, UNKNOWN_TYPE) use request id 0. */
    public boolean isManagement() {
        return this == GET_VALUES || this == GET_VALUES_RESULT || this == UNKNOWN_TYPE;
    }

    /** @throws FcgiProtocolException for a code FastCGI 1.0 does not define */
    public static FcgiRecordType of(int code) {
        if (code < 1 || code >= BY_CODE.length) {
            throw FcgiProtocolException.of("type", code, "1..11");
        }
        return BY_CODE[code];
    }
}
