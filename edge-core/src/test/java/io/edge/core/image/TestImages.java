package io.edge.core.image;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import java.util.zip.DeflaterOutputStream;

/** Images for the tests of the image filter (the integration tests' too). */
public final class TestImages {

    private TestImages() {
    }

    /** 400 x 300 of {@code type}: red, a white square of 100 at the top left. */
    public static BufferedImage picture(int type) {
        BufferedImage image = new BufferedImage(400, 300, type);
        Graphics2D g = image.createGraphics();
        g.setColor(Color.RED);
        g.fillRect(0, 0, 400, 300);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, 100, 100);
        g.dispose();
        return image;
    }

    /**
     * A valid PNG that says it is {@code width} by {@code height} grey pixels in a few dozen bytes (its data one
     * deflated run of zeros): a decompression bomb for a large size.
     */
    public static byte[] png(int width, int height) throws IOException {
        Deflater deflater = new Deflater();
        deflater.setInput(new byte[1024]);
        deflater.finish();
        byte[] idat = new byte[64];
        int length = deflater.deflate(idat);
        deflater.end();
        return png(width, height, 0, Arrays.copyOf(idat, length)); // 8-bit grey
    }

    /** A whole PNG of {@code width} by {@code height} transparent RGBA pixels, every row there (no bomb). */
    public static byte[] rgbaPng(int width, int height) throws IOException {
        ByteArrayOutputStream idat = new ByteArrayOutputStream();
        try (DeflaterOutputStream deflated = new DeflaterOutputStream(idat, new Deflater(9))) {
            byte[] row = new byte[1 + 4 * width]; // its filter (none), then its pixels
            for (int y = 0; y < height; y++) {
                deflated.write(row);
            }
        }
        return png(width, height, 6, idat.toByteArray()); // 8-bit RGBA
    }

    /** A PNG of 8-bit samples of {@code colourType} (0 grey, 6 RGBA) whose one IDAT chunk is {@code idat}. */
    private static byte[] png(int width, int height, int colourType, byte[] idat) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        DataOutputStream data = new DataOutputStream(out);
        data.write(new byte[] {(byte) 0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a});
        ByteArrayOutputStream ihdr = new ByteArrayOutputStream();
        DataOutputStream fields = new DataOutputStream(ihdr);
        fields.writeInt(width);
        fields.writeInt(height);
        fields.write(new byte[] {8, (byte) colourType, 0, 0, 0});
        chunk(data, "IHDR", ihdr.toByteArray());
        chunk(data, "IDAT", idat);
        chunk(data, "IEND", new byte[0]);
        return out.toByteArray();
    }

    private static void chunk(DataOutputStream out, String type, byte[] body) throws IOException {
        out.writeInt(body.length);
        byte[] name = type.getBytes(StandardCharsets.US_ASCII);
        out.write(name);
        out.write(body);
        CRC32 crc = new CRC32();
        crc.update(name);
        crc.update(body);
        out.writeInt((int) crc.getValue());
    }
}
