package io.edge.fastcgi.cgi;

import io.edge.fastcgi.LogText;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.HttpHeadersFactory;

/**
 * The fields of a backend's answer, a script's head ({@link CgiResponseParser}) or a proxied backend's, and of the head
 * the client gets from it: a name is any visible ASCII but ':', as nginx 1.22 passes {@code Fo(o}, {@code Foo/bar},
 * {@code Foo{} on from either (measured), where Netty's default takes a token only. Each reader judges beforehand what
 * else a name may hold (a control character or a blank refused, a byte past ASCII left out); a name this refuses is
 * none of an answer's. An HTTP/2 or HTTP/3 client gets the answer without the fields whose names are no token.
 */
public final class AnswerFields {

    public static final HttpHeadersFactory FACTORY = DefaultHttpHeadersFactory.headersFactory()
            .withNameValidator(AnswerFields::validateName);

    private AnswerFields() {
    }

    /** Where {@code name} holds what no field name of an answer may (a control, a blank, a byte past ASCII, ':'), or -1. */
    private static int invalidAt(CharSequence name) {
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c <= ' ' || c >= 0x7f || c == ':') {
                return i;
            }
        }
        return -1;
    }

    private static void validateName(CharSequence name) {
        if (name.length() == 0) {
            throw new IllegalArgumentException("empty field name");
        }
        int at = invalidAt(name);
        if (at >= 0) {
            // the name as the log shows it: a control character escaped, never raw on the line
            throw new IllegalArgumentException("field name \"" + LogText.escapeBytes(name.toString()) + "\" has "
                    + String.format("0x%02x", (int) name.charAt(at)) + " (expected: visible ASCII but ':')");
        }
    }
}
