package io.edge.core.http;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.TooLongHttpLineException;
import java.util.List;
import java.util.function.BiConsumer;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A stream's request as the exchange takes it, on HTTP/2 ({@link Http2Connection}) and HTTP/3
 * ({@link Http3Connection}): Netty's codec makes an HTTP/1.1 request of the HEADERS, with its own fields for the
 * stream's id, scheme and path, which no script should see as a client's, removed here; it is marked sent as
 * {@code version}, and a request whose HEADERS ended the stream (a full request) is split into its head and its
 * body's end, as an HTTP/1 decoder gives them. A path over {@code limits.request-line} is a 414, as an HTTP/1 request
 * line over it is.
 *
 * <p>A malformed request (RFC 9113 8.1.1, RFC 9114 4.1.2): HEADERS Netty's codec could make no request of (a Host that
 * is not the :authority, no :path, a blank in it) are answered 400 and logged ({@code "-" 400}), as nginx answers and
 * logs them: handed on as the stand-in for a request HTTP/1's decoder could not read, which the exchanges' handler
 * answers so. Not on HTTP/3: Netty 4.2.18's frame codec refuses such a field section itself, firing an
 * Http3HeadersValidationException and then resetting its stream H3_MESSAGE_ERROR (RFC 9114 4.1.2's stream error,
 * which would discard any answer held for it). That exception ends here ({@code resetByCodec}), as the codec's refusal
 * of a malformed trailer section does (a pseudo-header in it), a request handed on already: handed on, the exchanges'
 * handler closed the stream first, which sent a FIN, an answer with no head, instead of the reset.
 * A protocol error after the head was handed on (a body that is not its content-length) ends the stream
 * as {@code streamFailed} ends it: a reset.
 */
final class StreamRequests extends ChannelInboundHandlerAdapter {

    private static final Logger LOG = LoggerFactory.getLogger(StreamRequests.class);

    private final HttpVersion version;
    private final int requestLine;
    private final List<? extends CharSequence> codecFields;
    private final Class<? extends Exception> protocolError;
    private final BiConsumer<ChannelHandlerContext, Throwable> streamFailed;
    /** Whether {@code protocolError} before the head was handed on is a malformed head (HTTP/3's codec throws it). */
    private final boolean malformedHeadError;
    /** Whether a failure is one whose stream the codec resets itself (a malformed head or trailer section). */
    private final Predicate<Throwable> resetByCodec;
    /** A request was handed on: what fails after it is its body's or trailers' (a reset), not its head's. */
    private boolean requestRead;

    /**
     * @param codecFields   the fields Netty's codec adds to a request of its own
     * @param protocolError the codec's exception of a stream's protocol error
     * @param malformedHeadError whether {@code protocolError}, before a head was handed on, is the codec's refusal of a
     *                      malformed head (HTTP/3's), not a stream error (HTTP/2's frame codec's, which resets)
     * @param resetByCodec  whether a failure is the codec's refusal of a head or trailer section whose stream it
     *                      resets itself (HTTP/3's): it goes no further, nothing answers it, and the stream is
     *                      closed after the reset
     * @param streamFailed  ends the stream on a failure after its head was handed on
     */
    StreamRequests(HttpVersion version, int requestLine, List<? extends CharSequence> codecFields,
            Class<? extends Exception> protocolError, boolean malformedHeadError, Predicate<Throwable> resetByCodec,
            BiConsumer<ChannelHandlerContext, Throwable> streamFailed) {
        this.malformedHeadError = malformedHeadError;
        this.resetByCodec = resetByCodec;
        this.version = version;
        this.requestLine = requestLine;
        this.codecFields = codecFields;
        this.protocolError = protocolError;
        this.streamFailed = streamFailed;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof HttpRequest request)) {
            ctx.fireChannelRead(msg);
            return;
        }
        for (CharSequence added : codecFields) {
            request.headers().remove(added);
        }
        requestRead = true;
        HttpRequest read = new StrictHttpServerCodec.ReadAsHttp11(version, request);
        if (request.uri().length() > requestLine) {
            read.setDecoderResult(DecoderResult.failure(new TooLongHttpLineException("path of "
                    + request.uri().length() + " characters (expected: <= " + requestLine + ")")));
        }
        ctx.fireChannelRead(read);
        if (msg instanceof FullHttpRequest full) {
            // its content and trailers now the last content's, handed on with it
            ctx.fireChannelRead(new DefaultLastHttpContent(full.content(), full.trailingHeaders()));
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (resetByCodec.test(cause)) {
            LOG.debug("stream {}: malformed head or trailers, reset by the codec: {}", ctx.channel(),
                    cause.getMessage());
            // closed once the codec has reset it, as it does when this returns (closed now, it would send a FIN
            // first: an answer with no head); left open, its connection would never be idle. A request handed on
            // already (its trailers refused) ends with the stream, as at a client's reset
            ctx.executor().execute(ctx::close);
            return;
        }
        if (!(cause instanceof DecoderException) && !protocolError.isInstance(cause)) {
            ctx.fireExceptionCaught(cause);
            return;
        }
        if (!requestRead && (cause instanceof DecoderException || malformedHeadError)) {
            requestRead = true;
            FullHttpRequest unreadable = new DefaultFullHttpRequest(version, HttpMethod.GET, "/bad-request",
                    Unpooled.EMPTY_BUFFER);
            unreadable.setDecoderResult(DecoderResult.failure(cause));
            ctx.fireChannelRead(unreadable);
            return;
        }
        streamFailed.accept(ctx, cause);
    }
}
