package io.edge.core.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.conf.LocationSettings;
import io.edge.conf.VariableText;
import io.edge.core.image.ImageGeometry;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

/** nginx's image filter's decisions on one answer, made on the event loop, with the request's variables. */
class ImageFilterTest {

    private static LocationSettings.ImageFilter settings(LocationSettings.ImageFilter.Action action, String width,
            String height, long buffer) {
        return new LocationSettings.ImageFilter(action, width == null ? null : VariableText.of(width),
                height == null ? null : VariableText.of(height), null, buffer, VariableText.of("75"),
                VariableText.of("0"), true, false);
    }

    private static HttpResponse head(long length) {
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        head.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/octet-stream")
                .set(HttpHeaderNames.ETAG, "\"abc\"").set(HttpHeaderNames.ACCEPT_RANGES, "bytes")
                .set(HttpHeaderNames.LAST_MODIFIED, "Mon, 07 Dec 2026 01:17:27 GMT");
        if (length >= 0) {
            head.headers().set(HttpHeaderNames.CONTENT_LENGTH, length);
        }
        return head;
    }

    private static byte[] jpeg(int width, int height) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB), "jpeg", out);
        return out.toByteArray();
    }

    /** The body given in two parts, the second the last. */
    private static ImageFilter.Step read(ImageFilter filter, byte[] body) {
        int half = body.length / 2;
        assertThat(filter.take(new DefaultHttpContent(Unpooled.wrappedBuffer(body, 0, half)))).isFalse();
        assertThat(filter.take(new DefaultLastHttpContent(Unpooled.wrappedBuffer(body, half, body.length - half))))
                .isTrue();
        return filter.decide(text -> text.constant());
    }

    private static String text(ImageFilter.Step step) {
        FullHttpResponse response = ((ImageFilter.Step.Answer) step).response();
        try {
            return response.content().toString(StandardCharsets.US_ASCII);
        } finally {
            response.release();
        }
    }

    @Test
    void valuesAreReadAsNginxReadsThem() {
        assertThat(ImageFilter.value("-")).isEqualTo(ImageGeometry.ANY);
        assertThat(ImageFilter.value("150")).isEqualTo(150);
        assertThat(ImageFilter.value("0")).isZero();
        assertThat(ImageFilter.value("")).isZero();
        assertThat(ImageFilter.value("12px")).isZero();
        assertThat(ImageFilter.value("-5")).isZero();
        assertThat(ImageFilter.value("99999999999999999999")).isZero();
    }

    /** The JSON byte for byte as nginx 1.22 sends it, and {} for what is no image. */
    @Test
    void sizeAnswersNginxsJson() throws Exception {
        byte[] image = jpeg(400, 300);
        ImageFilter size = new ImageFilter(settings(LocationSettings.ImageFilter.Action.SIZE, null, null, 1 << 20),
                head(image.length), false);
        ImageFilter.Step step = read(size, image);
        FullHttpResponse response = ((ImageFilter.Step.Answer) step).response();
        assertThat(response.headers().names()).containsExactlyInAnyOrder("content-type", "content-length");
        assertThat(response.headers().get(HttpHeaderNames.CONTENT_TYPE)).isEqualTo("application/json");
        assertThat(text(step)).isEqualTo("{ \"img\" : { \"width\": 400, \"height\": 300, \"type\": \"jpeg\" } }\r\n");
        ImageFilter none = new ImageFilter(settings(LocationSettings.ImageFilter.Action.SIZE, null, null, 1 << 20),
                head(-1), false);
        assertThat(text(read(none, "not an image, only text".getBytes(StandardCharsets.US_ASCII))))
                .isEqualTo("{}\r\n");
    }

    @Test
    void aBodyOverTheBufferIsRefusedWhetherItsLengthSaidSoOrNot() throws Exception {
        byte[] image = jpeg(400, 300);
        LocationSettings.ImageFilter small = settings(LocationSettings.ImageFilter.Action.TEST, null, null,
                image.length - 1);
        assertThat(read(new ImageFilter(small, head(image.length), false), image))
                .isInstanceOf(ImageFilter.Step.Refuse.class);
        assertThat(read(new ImageFilter(small, head(-1), false), image)).isInstanceOf(ImageFilter.Step.Refuse.class);
        LocationSettings.ImageFilter exact = settings(LocationSettings.ImageFilter.Action.TEST, null, null,
                image.length);
        assertThat(read(new ImageFilter(exact, head(-1), false), image)).isInstanceOf(ImageFilter.Step.Answer.class);
    }

    /** test and an image that fits: the bytes as they came, typed by what they are, with a length, no Accept-Ranges. */
    @Test
    void anImageThatPassesGoesAsItCame() throws Exception {
        byte[] image = jpeg(40, 30);
        for (ImageFilter filter : new ImageFilter[] {
                new ImageFilter(settings(LocationSettings.ImageFilter.Action.TEST, null, null, 1 << 20), head(-1),
                        false),
                new ImageFilter(settings(LocationSettings.ImageFilter.Action.RESIZE, "100", "-", 1 << 20),
                        head(image.length), false)}) {
            FullHttpResponse response = ((ImageFilter.Step.Answer) read(filter, image)).response();
            try {
                assertThat(ByteBufUtil.getBytes(response.content())).isEqualTo(image);
                assertThat(Map.of("type", response.headers().get(HttpHeaderNames.CONTENT_TYPE),
                        "length", response.headers().get(HttpHeaderNames.CONTENT_LENGTH),
                        "etag", response.headers().get(HttpHeaderNames.ETAG))).isEqualTo(Map.of("type", "image/jpeg",
                        "length", String.valueOf(image.length), "etag", "\"abc\""));
                assertThat(response.headers().contains(HttpHeaderNames.ACCEPT_RANGES)).isFalse();
            } finally {
                response.release();
            }
        }
    }

    @Test
    void aWidthThatIsNoNumberIsRefusedAndALargerImageGoesToAWorker() throws Exception {
        byte[] image = jpeg(400, 300);
        LocationSettings.ImageFilter resize = settings(LocationSettings.ImageFilter.Action.RESIZE, "abc", "10",
                1 << 20);
        assertThat(read(new ImageFilter(resize, head(-1), false), image)).isInstanceOf(ImageFilter.Step.Refuse.class);
        ImageFilter filter = new ImageFilter(settings(LocationSettings.ImageFilter.Action.RESIZE, "100", "100",
                1 << 20), head(-1), false);
        ImageFilter.Step step = read(filter, image);
        assertThat(step).isInstanceOf(ImageFilter.Step.Work.class);
        FullHttpResponse made = filter.make(((ImageFilter.Step.Work) step).job(), 1_000_000, () -> false);
        try {
            assertThat(made.headers().get(HttpHeaderNames.ETAG)).isEqualTo("W/\"abc\"");
            assertThat(made.headers().get(HttpHeaderNames.LAST_MODIFIED)).isEqualTo("Mon, 07 Dec 2026 01:17:27 GMT");
            assertThat(made.headers().getInt(HttpHeaderNames.CONTENT_LENGTH)).isEqualTo(made.content().readableBytes());
            BufferedImage read = ImageIO.read(new ByteArrayInputStream(ByteBufUtil.getBytes(made.content())));
            assertThat(read.getWidth() + "x" + read.getHeight()).isEqualTo("100x75");
        } finally {
            made.release();
        }
    }
}
