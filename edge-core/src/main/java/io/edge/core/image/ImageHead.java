package io.edge.core.image;

/**
 * What an image's first bytes say it is, read as nginx's image filter reads them ({@code ngx_http_image_test} and
 * {@code ngx_http_image_size}), before anything is decoded.
 *
 * @param type   the kind of image
 * @param width  the width its head declares; 0 where none was found
 * @param height the height its head declares; 0 where none was found
 * @param force  a JPEG whose application data (EXIF, XMP...) are more than a twentieth of it: made anew even where it
 *               fits, as nginx's, to leave them out
 */
public record ImageHead(Type type, int width, int height, boolean force) {

    /** The kinds nginx's filter knows, by their first bytes. */
    public enum Type {
        JPEG("image/jpeg"), GIF("image/gif"), PNG("image/png"), WEBP("image/webp");

        private final String mediaType;

        Type(String mediaType) {
            this.mediaType = mediaType;
        }

        /** Its Content-Type. */
        public String mediaType() {
            return mediaType;
        }

        /** Its name in a {@code size} answer's JSON ({@code "jpeg"}). */
        public String jsonName() {
            return mediaType.substring("image/".length());
        }
    }

    /** Whether the head declared its dimensions. */
    public boolean measured() {
        return width > 0 && height > 0;
    }

    /**
     * The head of {@code image}'s first {@code length} bytes, or null where they are no image nginx knows (fewer than
     * 16 bytes are none, as nginx's).
     */
    public static ImageHead of(byte[] image, int length) {
        Type type = type(image, length);
        if (type == null) {
            return null;
        }
        return switch (type) {
            case JPEG -> jpeg(image, length);
            case GIF -> length < 10 ? new ImageHead(type, 0, 0, false)
                    : new ImageHead(type, u8(image, 7) * 256 + u8(image, 6), u8(image, 9) * 256 + u8(image, 8), false);
            case PNG -> length < 24 ? new ImageHead(type, 0, 0, false) : new ImageHead(type,
                    u8(image, 18) * 256 + u8(image, 19), u8(image, 22) * 256 + u8(image, 23), false);
            case WEBP -> webp(image, length);
        };
    }

    private static Type type(byte[] p, int length) {
        if (length < 16) {
            return null;
        }
        if (u8(p, 0) == 0xff && u8(p, 1) == 0xd8) {
            return Type.JPEG;
        }
        if (p[0] == 'G' && p[1] == 'I' && p[2] == 'F' && p[3] == '8' && p[5] == 'a') {
            return p[4] == '9' || p[4] == '7' ? Type.GIF : null;
        }
        if (u8(p, 0) == 0x89 && p[1] == 'P' && p[2] == 'N' && p[3] == 'G' && p[4] == 0x0d && p[5] == 0x0a
                && p[6] == 0x1a && p[7] == 0x0a) {
            return Type.PNG;
        }
        if (p[0] == 'R' && p[1] == 'I' && p[2] == 'F' && p[3] == 'F' && p[8] == 'W' && p[9] == 'E' && p[10] == 'B'
                && p[11] == 'P') {
            return Type.WEBP;
        }
        return null;
    }

    /**
     * nginx's walk of a JPEG's markers: the first start-of-frame's dimensions, and the application segments' lengths
     * summed (more than a twentieth of the image forces it to be made anew).
     */
    private static ImageHead jpeg(byte[] p, int length) {
        int i = 2;
        int last = length - 10;
        int width = 0;
        int height = 0;
        long app = 0;
        while (i < last) {
            if (u8(p, i) == 0xff && u8(p, i + 1) != 0xff) {
                i++;
                int marker = u8(p, i);
                if ((marker == 0xc0 || marker == 0xc1 || marker == 0xc2 || marker == 0xc3 || marker == 0xc9
                        || marker == 0xca || marker == 0xcb) && (width == 0 || height == 0)) {
                    width = u8(p, i + 6) * 256 + u8(p, i + 7);
                    height = u8(p, i + 4) * 256 + u8(p, i + 5);
                }
                int segment = u8(p, i + 1) * 256 + u8(p, i + 2);
                if (marker >= 0xe1 && marker <= 0xef) {
                    app += segment;
                }
                i += segment;
                continue;
            }
            i++;
        }
        boolean measured = width != 0 && height != 0;
        return new ImageHead(Type.JPEG, measured ? width : 0, measured ? height : 0,
                measured && length / 20 < app);
    }

    private static ImageHead webp(byte[] p, int length) {
        int width = 0;
        int height = 0;
        if (length >= 30 && p[12] == 'V' && p[13] == 'P' && p[14] == '8') {
            switch (p[15]) {
                case ' ' -> {
                    if ((u8(p, 20) & 1) == 0 && u8(p, 23) == 0x9d && u8(p, 24) == 0x01 && u8(p, 25) == 0x2a) {
                        width = (u8(p, 26) | u8(p, 27) << 8) & 0x3fff;
                        height = (u8(p, 28) | u8(p, 29) << 8) & 0x3fff;
                    }
                }
                case 'L' -> {
                    if (u8(p, 20) == 0x2f) {
                        width = ((u8(p, 21) | u8(p, 22) << 8) & 0x3fff) + 1;
                        height = ((u8(p, 22) >> 6 | u8(p, 23) << 2 | u8(p, 24) << 10) & 0x3fff) + 1;
                    }
                }
                case 'X' -> {
                    width = (u8(p, 24) | u8(p, 25) << 8 | u8(p, 26) << 16) + 1;
                    height = (u8(p, 27) | u8(p, 28) << 8 | u8(p, 29) << 16) + 1;
                }
                default -> {
                }
            }
        }
        return new ImageHead(Type.WEBP, width, height, false);
    }

    /** The unsigned byte at {@code i}; 0 past the end (a segment length that points beyond it ends the walk). */
    private static int u8(byte[] p, int i) {
        return i < p.length ? p[i] & 0xff : 0;
    }
}
