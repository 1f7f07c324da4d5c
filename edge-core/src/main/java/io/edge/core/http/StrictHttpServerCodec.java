package io.edge.core.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.CombinedChannelDuplexHandler;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ByteProcessor;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Netty's {@code HttpServerCodec} with the request line held to RFC 9112, as nginx reads it: exactly
 * {@code method SP request-target SP HTTP-version} (3), after nothing but empty lines (2.2), the version in upper
 * case (2.3). Netty's decoder alone splits the line at any run of SP, HTAB, VT, FF or CR, skips spaces before it
 * and reads the version in any case ({@code GET\r/x\x0bHTTP/1.1}, {@code " GET /x http/1.1"}): a line nginx refuses
 * would reach the responders. The method is held to what nginx's parser takes, upper-case letters, {@code _} and
 * {@code -}: Netty takes any token ({@code get}, {@code Post}, {@code GET1}), which nginx refuses and which a backend
 * or the response cache would see as a method of its own. Such a line fails to decode, and is answered 400 and closed
 * as every request the decoder cannot read ({@link HttpConnectionHandler}). The version's digits Netty checks itself.
 * The checks run in the decoder's own split of the line, on its buffer: nothing is copied or allocated.
 *
 * <p>Netty's codec is final and its decoder private, so this is that codec again, with the one part of its encoder
 * edge needs: the methods of the requests decoded, in order, so the answer to a HEAD goes without a body (a chunked
 * one without its last chunk). Not kept: a pipelining limit (reading stops while requests wait, see
 * {@link HttpConnectionHandler}); CONNECT's handling (never answered 2xx here: its target is not a path, 400); and
 * the close after a request with both Transfer-Encoding and Content-Length, which the decoder refuses instead
 * (RFC 9112 6.3, set in {@link HttpChannelInitializer}).
 *
 * <p>Runs on the connection's event loop only.
 */
final class StrictHttpServerCodec extends CombinedChannelDuplexHandler<HttpRequestDecoder, HttpResponseEncoder> {

    private static final byte[] HTTP_SLASH = {'H', 'T', 'T', 'P', '/'};

    /** The methods of the requests decoded and not yet answered, oldest first. */
    private final ArrayDeque<HttpMethod> methods = new ArrayDeque<>();

    private final RequestDecoder decoder;

    StrictHttpServerCodec(HttpDecoderConfig config) {
        decoder = new RequestDecoder(config);
        init(decoder, new ResponseEncoder());
    }

    /**
     * Whether the decoder holds part of a request: a byte other than an empty line's came since the last request
     * ended (or the connection began), and that request has not ended yet.
     */
    boolean midRequest() {
        return !decoder.betweenRequests;
    }

    private final class RequestDecoder extends HttpRequestDecoder {

        /** Only empty lines (CRLF) read since the last request ended, or the connection began. */
        private boolean betweenRequests = true;
        /**
         * What came first after them when it cannot start a method (a space, TAB, NUL, another control byte), which
         * Netty's decoder skips; -1 when the line starts well.
         */
        private int badFirstByte = -1;
        /** Where the method, then the request target, ends in the line being split. */
        private int methodEnd;
        private int targetEnd;

        RequestDecoder(HttpDecoderConfig config) {
            super(config);
        }

        @Override
        protected void decode(ChannelHandlerContext ctx, ByteBuf buffer, List<Object> out) throws Exception {
            if (betweenRequests) {
                int first = buffer.forEachByte(ByteProcessor.FIND_NON_CRLF);
                if (first >= 0) {
                    betweenRequests = false;
                    byte b = buffer.getByte(first);
                    badFirstByte = isTokenChar(b) ? -1 : b & 0xff;
                }
            }
            int from = out.size();
            super.decode(ctx, buffer, out);
            for (int i = from; i < out.size(); i++) {
                Object decoded = out.get(i);
                if (decoded instanceof HttpRequest request) {
                    methods.add(request.method());
                }
                if (decoded instanceof LastHttpContent) {
                    betweenRequests = true;
                }
            }
        }

        // Netty splits the line in order, first to third word; a failure here fails the request (400).

        @Override
        protected String splitFirstWordInitialLine(byte[] line, int start, int length) {
            if (badFirstByte >= 0) {
                throw new IllegalArgumentException(String.format(Locale.ROOT,
                        "request line: starts with 0x%02x (expected: the method)", badFirstByte));
            }
            methodEnd = start + length;
            for (int i = start; i < methodEnd; i++) {
                if (!isMethodChar(line[i])) {
                    throw new IllegalArgumentException("request line: method "
                            + new String(line, start, length, StandardCharsets.ISO_8859_1)
                            + " (expected: A-Z, _ and - only, as nginx)");
                }
            }
            return super.splitFirstWordInitialLine(line, start, length);
        }

        @Override
        protected String splitSecondWordInitialLine(byte[] line, int start, int length) {
            checkOneSpace(line, methodEnd, start, "method");
            targetEnd = start + length;
            return super.splitSecondWordInitialLine(line, start, length);
        }

        @Override
        protected String splitThirdWordInitialLine(byte[] line, int start, int length) {
            checkOneSpace(line, targetEnd, start, "request target");
            if (length < HTTP_SLASH.length || !Arrays.equals(line, start, start + HTTP_SLASH.length,
                    HTTP_SLASH, 0, HTTP_SLASH.length)) {
                throw new IllegalArgumentException("request line: version "
                        + new String(line, start, length, StandardCharsets.ISO_8859_1)
                        + " (expected: HTTP/ in upper case, RFC 9112 2.3)");
            }
            return super.splitThirdWordInitialLine(line, start, length);
        }

        /** A tchar of RFC 9110 5.6.2, of which a method is made. */
        private static boolean isTokenChar(byte b) {
            return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9'
                    || b > ' ' && b < 0x7f && "!#$%&'*+-.^_`|~".indexOf(b) >= 0;
        }

        /** What nginx's parser takes in a method: {@code A-Z}, {@code _} and {@code -}. */
        private static boolean isMethodChar(byte b) {
            return b >= 'A' && b <= 'Z' || b == '_' || b == '-';
        }

        /** Between {@code wordEnd} and {@code next}, where the next word starts, must be one SP. */
        private static void checkOneSpace(byte[] line, int wordEnd, int next, String word) {
            if (next == wordEnd + 1 && line[wordEnd] == ' ') {
                return;
            }
            StringBuilder sent = new StringBuilder();
            for (int i = wordEnd; i < next; i++) {
                sent.append(String.format(Locale.ROOT, " 0x%02x", line[i] & 0xff));
            }
            throw new IllegalArgumentException("request line: after the " + word + ":"
                    + (sent.length() == 0 ? " nothing" : sent.toString()) + " (expected: one 0x20)");
        }
    }

    private final class ResponseEncoder extends HttpResponseEncoder {

        @Override
        protected boolean isContentAlwaysEmpty(HttpResponse response) {
            if (response.status().codeClass() == HttpStatusClass.INFORMATIONAL) {
                return super.isContentAlwaysEmpty(response); // a 100 Continue: the request's answer is still to come
            }
            return HttpMethod.HEAD.equals(methods.poll()) || super.isContentAlwaysEmpty(response);
        }
    }
}
