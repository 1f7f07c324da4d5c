package io.edge.fastcgi;

import io.netty.handler.codec.DecoderException;

/**
 * The backend broke the FastCGI protocol or the CGI response format. The message names the field, the value
 * and what was expected, e.g. {@code version: 3 (expected: 1)}. The connection is closed and never reused;
 * the HTTP core answers 502.
 */
public final class FcgiProtocolException extends DecoderException {

    public FcgiProtocolException(String message) {
        super(message);
    }

    /** {@code field: value (expected: expectation)}; the value's control characters escaped ({@link LogText}). */
    public static FcgiProtocolException of(String field, Object value, String expectation) {
        return new FcgiProtocolException(field + ": " + LogText.escapeControls(String.valueOf(value))
                + " (expected: " + expectation + ")");
    }
}
