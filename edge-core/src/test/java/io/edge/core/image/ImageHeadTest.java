package io.edge.core.image;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

/** What nginx's ngx_http_image_test and ngx_http_image_size read from an image's first bytes. */
class ImageHeadTest {

    static byte[] image(String format, int width, int height) throws Exception {
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertThat(ImageIO.write(image, format, out)).isTrue();
        return out.toByteArray();
    }

    private static ImageHead head(byte[] bytes) {
        return ImageHead.of(bytes, bytes.length);
    }

    @Test
    void readsTheDimensionsEachFormatDeclares() throws Exception {
        assertThat(head(image("jpeg", 400, 300))).isEqualTo(new ImageHead(ImageHead.Type.JPEG, 400, 300, false));
        assertThat(head(image("png", 401, 299))).isEqualTo(new ImageHead(ImageHead.Type.PNG, 401, 299, false));
        assertThat(head(image("gif", 640, 2))).isEqualTo(new ImageHead(ImageHead.Type.GIF, 640, 2, false));
    }

    @Test
    void tellsWhatIsNoImageByItsFirstBytes() {
        assertThat(head("hello text file here......\n".getBytes(StandardCharsets.US_ASCII))).isNull();
        // fewer than 16 bytes are none, even with a JPEG's first two
        assertThat(head(new byte[] {(byte) 0xff, (byte) 0xd8, 0, 0})).isNull();
        assertThat(head("GIF89a..........".getBytes(StandardCharsets.US_ASCII)).type()).isEqualTo(ImageHead.Type.GIF);
        assertThat(head("GIF88a..........".getBytes(StandardCharsets.US_ASCII))).isNull();
        ImageHead webp = head("RIFF....WEBPVP8X..........................".getBytes(StandardCharsets.US_ASCII));
        assertThat(webp.type()).isEqualTo(ImageHead.Type.WEBP);
    }

    @Test
    void aJpegWithoutAFrameIsNotMeasured() {
        byte[] bytes = new byte[64];
        bytes[0] = (byte) 0xff;
        bytes[1] = (byte) 0xd8;
        ImageHead head = head(bytes);
        assertThat(head.type()).isEqualTo(ImageHead.Type.JPEG);
        assertThat(head.measured()).isFalse();
    }

    /** nginx forces a JPEG to be made anew where its APPn segments (EXIF...) are more than a twentieth of it. */
    @Test
    void applicationDataOverAtwentiethForcesAJpeg() throws Exception {
        byte[] plain = image("jpeg", 40, 30);
        byte[] exif = new byte[plain.length + 4 + 2000];
        exif[0] = (byte) 0xff;
        exif[1] = (byte) 0xd8;
        exif[2] = (byte) 0xff;
        exif[3] = (byte) 0xe1; // APP1, 2002 bytes with its length
        exif[4] = (byte) (2002 >> 8);
        exif[5] = (byte) (2002 & 0xff);
        System.arraycopy(plain, 2, exif, 6 + 2000, plain.length - 2);
        ImageHead forced = head(exif);
        assertThat(forced).isEqualTo(new ImageHead(ImageHead.Type.JPEG, 40, 30, true));
        assertThat(head(Arrays.copyOf(plain, plain.length)).force()).isFalse();
    }
}
