package io.edge.core.http;

import io.edge.conf.LocationSettings;
import io.edge.conf.VariableText;
import io.edge.core.image.ImageGeometry;
import io.edge.core.image.ImageHead;
import io.edge.core.image.ImageMaker;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.function.Function;

/**
 * nginx's image filter on one answer: its body read whole (up to the location's buffer), then judged by its first
 * bytes and answered as nginx's {@code ngx_http_image_body_filter} does. What needs no decoding (test, size, an
 * image that already fits) is decided on the event loop ({@link #decide}); the rest is a {@link Step.Work} for a
 * worker thread ({@link #make}).
 *
 * <pre>
 *   READING --take(part)--> READING ... --take(last)--> decide: Answer | Refuse (415) | Work --make--> Answer | Refuse
 * </pre>
 */
public final class ImageFilter {

    /** What {@link #decide} found. */
    sealed interface Step {
        /** The answer, made on the event loop. */
        record Answer(FullHttpResponse response) implements Step {
        }

        /** 415, and why (for the log). */
        record Refuse(String why) implements Step {
        }

        /** To be made on a worker ({@link #make}). */
        record Work(ImageMaker.Job job) implements Step {
        }
    }

    private final LocationSettings.ImageFilter settings;
    /** The answer's head as the headers filter made it; its fields go with the image. */
    private final HttpResponse head;
    private final boolean headRequest;
    private byte[] body;
    private int length;
    /** The body is (or said it would be) larger than the buffer: 415, as nginx's "too big response". */
    private boolean tooBig;
    private ImageHead image;

    ImageFilter(LocationSettings.ImageFilter settings, HttpResponse head, boolean headRequest) {
        this.settings = settings;
        this.head = head;
        this.headRequest = headRequest;
        long declared = HttpUtil.getContentLength(head, -1L);
        tooBig = declared > settings.buffer();
        body = new byte[tooBig ? 0 : (int) Math.min(declared >= 0 ? declared : 16 * 1024, settings.buffer())];
    }

    /**
     * Whether {@code location}'s image filter takes an answer of {@code status}: any but a 304, as nginx's, and but a
     * 1xx (a 101's connection goes to a tunnel).
     */
    static boolean takes(LocationSettings location, int status) {
        return location != null && location.imageFilter() != null && status >= 200 && status != 304;
    }

    /**
     * Whether a file answered in {@code location} is read whole for its image filter: as bytes, not by sendfile, its
     * Range not honoured, and for a HEAD too (whose head says the made image's length, as nginx's).
     */
    public static boolean reads(LocationSettings location) {
        return location != null && location.imageFilter() != null;
    }

    /** Whether the body is (or its head said it would be) over the buffer: 415 at once, as nginx's. */
    boolean overflowed() {
        return tooBig;
    }

    /** Takes a part of the body (released here) and returns whether it was the last. */
    boolean take(HttpContent part) {
        try {
            ByteBuf content = part.content();
            int readable = content.readableBytes();
            if (!tooBig && readable > 0) {
                if ((long) length + readable > settings.buffer()) {
                    tooBig = true;
                    body = new byte[0];
                    length = 0;
                } else {
                    if (length + readable > body.length) {
                        body = Arrays.copyOf(body, (int) Math.min(settings.buffer(),
                                Math.max((long) length + readable, 2L * body.length)));
                    }
                    content.getBytes(content.readerIndex(), body, length, readable);
                    length += readable;
                }
            }
            return part instanceof LastHttpContent;
        } finally {
            part.release();
        }
    }

    /**
     * What is answered, decided on the event loop with this request's {@code values} of the settings' variables:
     * nginx's {@code ngx_http_image_body_filter} and {@code ngx_http_image_process} up to the decoding.
     */
    Step decide(Function<VariableText, String> values) {
        if (tooBig) {
            return new Step.Refuse("too big response (image-filter.buffer " + settings.buffer() + " bytes)");
        }
        image = ImageHead.of(body, length);
        LocationSettings.ImageFilter.Action action = settings.action();
        if (image == null) {
            return action == LocationSettings.ImageFilter.Action.SIZE ? new Step.Answer(json("{}\r\n"))
                    : new Step.Refuse("not an image");
        }
        switch (action) {
            case TEST -> {
                return new Step.Answer(asIs(false));
            }
            case SIZE -> {
                return new Step.Answer(json(!image.measured() ? "{}\r\n" : "{ \"img\" : { \"width\": " + image.width()
                        + ", \"height\": " + image.height() + ", \"type\": \"" + image.type().jsonName() + "\" } }\r\n"));
            }
            default -> {
            }
        }
        long angle = settings.rotate() == null ? 0 : value(values.apply(settings.rotate()));
        int quality = (int) Math.min(100, value(values.apply(settings.jpegQuality())));
        long sharpen = value(values.apply(settings.sharpen()));
        if (image.type() == ImageHead.Type.JPEG && quality <= 0) {
            return new Step.Refuse("image-filter.jpeg-quality is no positive number");
        }
        if (action == LocationSettings.ImageFilter.Action.ROTATE) {
            if (angle != 90 && angle != 180 && angle != 270) {
                return new Step.Refuse("image-filter.rotate is none of 90, 180, 270");
            }
            return new Step.Work(new ImageMaker.Job(ImageGeometry.Action.ROTATE, 0, 0, angle, quality,
                    (int) Math.min(sharpen, 10_000), settings.transparency(), settings.interlace()));
        }
        long width = value(values.apply(settings.width()));
        long height = value(values.apply(settings.height()));
        if (width == 0 || height == 0) {
            return new Step.Refuse("image-filter.width or height is no positive number nor \"-\"");
        }
        if (image.measured() && ImageGeometry.fits(image.width(), image.height(), width, height, angle, image.force())) {
            return new Step.Answer(asIs(false));
        }
        return new Step.Work(new ImageMaker.Job(action == LocationSettings.ImageFilter.Action.RESIZE
                ? ImageGeometry.Action.RESIZE : ImageGeometry.Action.CROP, width, height, angle, quality,
                (int) Math.min(sharpen, 10_000), settings.transparency(), settings.interlace()));
    }

    /**
     * Makes {@code job} (on a worker thread): the answer, or throws where the image is refused (415), also once
     * {@code deadline} passed.
     */
    FullHttpResponse make(ImageMaker.Job job, long maxPixels, ImageMaker.Deadline deadline)
            throws ImageMaker.RefusedImageException {
        ImageMaker.Made made = ImageMaker.make(body, length, image, job, maxPixels, deadline);
        if (made.asIs()) {
            return asIs(false);
        }
        body = made.bytes();
        length = body.length;
        return asIs(true);
    }

    /**
     * nginx's value of a width, height, angle or quality: {@code -} is any ({@link ImageGeometry#ANY}), a positive
     * number itself, anything else 0.
     */
    static long value(String text) {
        if (text.equals("-")) {
            return ImageGeometry.ANY;
        }
        if (text.isEmpty() || text.length() > 18) {
            return 0;
        }
        long n = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < '0' || c > '9') {
                return 0;
            }
            n = n * 10 + (c - '0');
        }
        return n;
    }

    /**
     * The body (as it came, or {@code made} anew) with the answer's head: its type the image's, its length the body's,
     * no Accept-Ranges; an image made anew gets a weak ETag, as nginx's {@code ngx_http_weak_etag}.
     */
    private FullHttpResponse asIs(boolean made) {
        ByteBuf content = headRequest ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(body, 0, length);
        // a copy keeps the head's judge of names (a proxied backend's Fo(o goes on, as without the filter)
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, head.status(), content,
                head.headers().copy(), new DefaultHttpHeaders());
        HttpHeaders headers = response.headers();
        headers.remove(HttpHeaderNames.TRANSFER_ENCODING);
        headers.remove(HttpHeaderNames.ACCEPT_RANGES);
        headers.set(HttpHeaderNames.CONTENT_TYPE, image.type().mediaType());
        headers.set(HttpHeaderNames.CONTENT_LENGTH, length);
        String etag = headers.get(HttpHeaderNames.ETAG);
        if (made && etag != null && !etag.startsWith("W/")) {
            headers.set(HttpHeaderNames.ETAG, "W/" + etag);
        }
        return response;
    }

    /** nginx's {@code size} answer: 200, JSON, every other field of the answer dropped ({@code ngx_http_clean_header}). */
    private FullHttpResponse json(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.US_ASCII);
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                headRequest ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(bytes));
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json")
                .set(HttpHeaderNames.CONTENT_LENGTH, bytes.length);
        return response;
    }
}
