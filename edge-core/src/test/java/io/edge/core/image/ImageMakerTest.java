package io.edge.core.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Images made with Java's ImageIO as nginx's GD makes them: sizes, turns, quality, and bombs refused undecoded. */
class ImageMakerTest {

    private static final long PIXELS = 40_000_000;
    private static final ImageMaker.Deadline NEVER = () -> false;

    /** {@link TestImages#picture} in {@code format}. */
    static byte[] picture(String format, int type) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(TestImages.picture(type), format, out);
        return out.toByteArray();
    }

    private static ImageMaker.Made make(byte[] bytes, ImageMaker.Job job) throws Exception {
        return ImageMaker.make(bytes, bytes.length, ImageHead.of(bytes, bytes.length), job, PIXELS, NEVER);
    }

    private static ImageMaker.Job resize(long width, long height, long angle, int quality) {
        return new ImageMaker.Job(ImageGeometry.Action.RESIZE, width, height, angle, quality, 0, true, false);
    }

    private static BufferedImage read(byte[] bytes) throws IOException {
        return ImageIO.read(new ByteArrayInputStream(bytes));
    }

    @Test
    void resizesEachFormatInItsOwn() throws Exception {
        for (String format : new String[] {"jpeg", "png", "gif"}) {
            byte[] made = make(picture(format, BufferedImage.TYPE_INT_RGB), resize(100, 100, 0, 75)).bytes();
            assertThat(ImageHead.of(made, made.length).type().jsonName()).isEqualTo(format);
            BufferedImage image = read(made);
            assertThat(image.getWidth() + "x" + image.getHeight()).as(format).isEqualTo("100x75");
        }
    }

    @Test
    void anImageThatFitsIsLeftAsItIs() throws Exception {
        ImageMaker.Made made = make(picture("png", BufferedImage.TYPE_INT_RGB), resize(400, 300, 0, 75));
        assertThat(made.asIs()).isTrue();
        assertThat(made.bytes()).isNull();
    }

    /** gd's gdImageCopyRotated turns counterclockwise: the top left corner goes to the bottom left. */
    @Test
    void turnsCounterclockwise() throws Exception {
        byte[] made = make(picture("png", BufferedImage.TYPE_INT_RGB),
                new ImageMaker.Job(ImageGeometry.Action.ROTATE, 0, 0, 90, 75, 0, true, false)).bytes();
        BufferedImage image = read(made);
        assertThat(image.getWidth() + "x" + image.getHeight()).isEqualTo("300x400");
        assertThat(new Color(image.getRGB(10, 390))).isEqualTo(Color.WHITE);
        assertThat(new Color(image.getRGB(10, 10))).isEqualTo(Color.RED);
    }

    @Test
    void aLowerJpegQualityWritesFewerBytes() throws Exception {
        byte[] picture = picture("jpeg", BufferedImage.TYPE_INT_RGB);
        int low = make(picture, resize(200, 200, 0, 10)).bytes().length;
        int high = make(picture, resize(200, 200, 0, 95)).bytes().length;
        assertThat(low).isLessThan(high);
    }

    @Test
    void aPngKeepsItsAlpha() throws Exception {
        byte[] made = make(picture("png", BufferedImage.TYPE_INT_ARGB), resize(100, 100, 0, 75)).bytes();
        assertThat(read(made).getColorModel().hasAlpha()).isTrue();
    }

    /** A PNG of 60000 x 60000 pixels in a few dozen bytes: 14 GB decoded. Refused by its head, never decoded. */
    @Test
    void aDecompressionBombIsRefusedBeforeDecoding() throws Exception {
        byte[] bomb = TestImages.png(60_000, 60_000);
        assertThat(bomb.length).isLessThan(200);
        ImageHead head = ImageHead.of(bomb, bomb.length);
        assertThat(head.width() + "x" + head.height()).isEqualTo("60000x60000");
        assertThatThrownBy(() -> make(bomb, resize(10, 10, 0, 75)))
                .isInstanceOf(ImageMaker.RefusedImageException.class).hasMessageContaining("max-pixels");
        // the decoder's own reading of the dimensions is held to the bound too, whatever the head nginx reads says
        assertThatThrownBy(() -> ImageMaker.make(bomb, bomb.length, new ImageHead(ImageHead.Type.PNG, 1, 1, false),
                resize(10, 10, 0, 75), PIXELS, NEVER)).isInstanceOf(ImageMaker.RefusedImageException.class)
                .hasMessageContaining("60000 x 60000 is more than max-pixels");
    }

    /** A deadline that passes at its {@code at}-th ask and stays passed; counts the asks. */
    private static final class CountedDeadline implements ImageMaker.Deadline {
        final long at;
        long asks;

        CountedDeadline(long at) {
            this.at = at;
        }

        @Override
        public boolean passed() {
            return ++asks >= at;
        }
    }

    /**
     * server.image-filter.timeout: the deadline is asked as the decoder reads the image and between the steps, and
     * wherever it passes (here at its second ask, the decoder's first read, up to its last, before the encoding) the
     * image is given up: refused, not made on.
     */
    @Test
    void anImageIsGivenUpWhereverItsDeadlinePasses() throws Exception {
        BufferedImage noise = new BufferedImage(1200, 900, BufferedImage.TYPE_INT_RGB);
        Random random = new Random(7);
        for (int y = 0; y < noise.getHeight(); y++) {
            for (int x = 0; x < noise.getWidth(); x++) {
                noise.setRGB(x, y, random.nextInt());
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(noise, "jpeg", out);
        byte[] jpeg = out.toByteArray();
        ImageMaker.Job job = new ImageMaker.Job(ImageGeometry.Action.RESIZE, 100, 100, 90, 75, 50, true, false);
        CountedDeadline counted = new CountedDeadline(Long.MAX_VALUE);
        ImageMaker.make(jpeg, jpeg.length, ImageHead.of(jpeg, jpeg.length), job, PIXELS, counted);
        long asks = counted.asks;
        // once before decoding, once per read of the decoder (a scan's data at a time: many in a large JPEG), then
        // after each step down, the turn, the cut and the sharpening
        assertThat(asks).isGreaterThan(10);
        for (long at : new long[] {2, asks / 2, asks}) {
            assertThatThrownBy(() -> ImageMaker.make(jpeg, jpeg.length, ImageHead.of(jpeg, jpeg.length), job, PIXELS,
                    new CountedDeadline(at))).as("passed at ask %d of %d", at, asks)
                    .isInstanceOf(ImageMaker.RefusedImageException.class)
                    .hasMessage("not made within server.image-filter.timeout");
        }
    }

    /** A PNG's decoding is given up too once its deadline passed (its inflated rows are read as they go). */
    @Test
    void aPngIsGivenUpOnceItsDeadlinePassed() throws Exception {
        byte[] png = picture("png", BufferedImage.TYPE_INT_RGB);
        CountedDeadline counted = new CountedDeadline(Long.MAX_VALUE);
        ImageMaker.make(png, png.length, ImageHead.of(png, png.length), resize(100, 100, 0, 75), PIXELS, counted);
        assertThat(counted.asks).isGreaterThan(3);
        assertThatThrownBy(() -> ImageMaker.make(png, png.length, ImageHead.of(png, png.length),
                resize(100, 100, 0, 75), PIXELS, new CountedDeadline(3)))
                .isInstanceOf(ImageMaker.RefusedImageException.class)
                .hasMessage("not made within server.image-filter.timeout");
    }

    /**
     * A progressive JPEG is decoded once per scan, each pass over every row with its input long read: the deadline is
     * asked in each pass, not only in the first twenty, past which ImageIO reports no progress (a JPEG of thousands of
     * scans, read whole in a few reads, held its worker long past the timeout, the deadline asked only at its end).
     */
    @Test
    void aProgressiveJpegIsAskedItsDeadlineInEachOfItsScans() throws Exception {
        BufferedImage gradient = new BufferedImage(400, 600, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < gradient.getHeight(); y++) {
            for (int x = 0; x < gradient.getWidth(); x++) {
                gradient.setRGB(x, y, (x * 255 / 400) << 16 | (y * 255 / 600) << 8);
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
        ImageWriteParam param = writer.getDefaultWriteParam();
        param.setProgressiveMode(ImageWriteParam.MODE_DEFAULT);
        try (ImageOutputStream stream = ImageIO.createImageOutputStream(out)) {
            writer.setOutput(stream);
            writer.write(null, new IIOImage(gradient, null, null), param);
        } finally {
            writer.dispose();
        }
        // its last scan (from its SOS marker to the EOI) 60 times over: as many passes more, the data a few bytes each
        byte[] progressive = out.toByteArray();
        int lastScan = -1;
        for (int i = 0; i + 1 < progressive.length; i++) {
            if ((progressive[i] & 0xff) == 0xff && (progressive[i + 1] & 0xff) == 0xda) {
                lastScan = i;
            }
        }
        int end = progressive.length - 2;
        ByteArrayOutputStream scans = new ByteArrayOutputStream();
        scans.write(progressive, 0, end);
        for (int copy = 0; copy < 60; copy++) {
            scans.write(progressive, lastScan, end - lastScan);
        }
        scans.write(progressive, end, 2);
        byte[] jpeg = scans.toByteArray();
        CountedDeadline counted = new CountedDeadline(Long.MAX_VALUE);
        ImageMaker.make(jpeg, jpeg.length, ImageHead.of(jpeg, jpeg.length), resize(100, 100, 0, 75), PIXELS, counted);
        assertThat(counted.asks).as("asks in 70 passes of 600 rows").isGreaterThan(60 * 600 / 20);
    }

    @Test
    void whatCannotBeDecodedOrHasNoDecoderIsRefused() throws Exception {
        byte[] broken = picture("png", BufferedImage.TYPE_INT_RGB);
        Arrays.fill(broken, 40, broken.length, (byte) 7);
        assertThatThrownBy(() -> make(broken, resize(10, 10, 0, 75)))
                .isInstanceOf(ImageMaker.RefusedImageException.class);
        byte[] webp = "RIFF....WEBPVP8X..........................".getBytes(StandardCharsets.US_ASCII);
        assertThatThrownBy(() -> make(webp, resize(10, 10, 0, 75)))
                .isInstanceOf(ImageMaker.RefusedImageException.class).hasMessageContaining("WebP");
    }

    /**
     * Images are made in memory: ImageIO's default streams copy what they read and write to a file in its cache
     * directory (java.io.tmpdir), each image twice through the disk, and fail where it cannot be written (a read-only
     * or full /tmp: every image was refused, 415). Here the cache directory is gone.
     */
    @Test
    void makesImagesWithoutWritingFiles(@TempDir Path cache) throws Exception {
        byte[] png = picture("png", BufferedImage.TYPE_INT_RGB);
        Path gone = Files.createDirectory(cache.resolve("gone"));
        File before = ImageIO.getCacheDirectory();
        ImageIO.setCacheDirectory(gone.toFile());
        try {
            Files.delete(gone);
            byte[] made = make(png, resize(100, 100, 0, 75)).bytes();
            ImageIO.setCacheDirectory(before);
            assertThat(read(made).getWidth()).isEqualTo(100);
        } finally {
            ImageIO.setCacheDirectory(before);
        }
    }
}
