package io.edge.core.image;

import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.Transparency;
import java.awt.geom.AffineTransform;
import java.awt.image.BufferedImage;
import java.awt.image.ConvolveOp;
import java.awt.image.IndexColorModel;
import java.awt.image.Kernel;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.Iterator;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.event.IIOReadProgressListener;
import javax.imageio.event.IIOReadUpdateListener;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.ImageOutputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/**
 * Decodes an image, scales, turns and cuts it as {@link ImageGeometry} says, and writes it again in its own format
 * (Java's ImageIO: JPEG, GIF, PNG; no WebP). CPU work, for a worker thread: never call it on an event loop.
 *
 * <p>Memory: the encoded image is bounded by the location's buffer; its decoded form is bounded by {@code maxPixels}
 * (four bytes each), which the dimensions the decoder reads from the image's head are held to before a pixel is
 * decoded, so a small file that declares a huge image (a decompression bomb) is refused without being decoded.
 *
 * <p>Time: bounded by a {@link Deadline} (server.image-filter.timeout), without a thread to watch it: asked each time
 * the decoder reads from the image (its input fails then) or reports a row (the read is aborted), and between the
 * steps, so a crafted image (a JPEG of thousands of progressive scans) frees its worker once it passed.
 */
public final class ImageMaker {

    /** What nginx's filter was asked to do, its values as this request has them. */
    public record Job(ImageGeometry.Action action, long maxWidth, long maxHeight, long angle, int jpegQuality,
            int sharpen, boolean transparency, boolean interlace) {
    }

    /** The image made: its bytes, or {@link #asIs} where it fits and goes as it came. */
    public record Made(byte[] bytes, boolean asIs, int width, int height) {
    }

    /** When the making of an image is given up. */
    @FunctionalInterface
    public interface Deadline {
        /** Whether it passed: the image is given up. */
        boolean passed();

        /** {@code timeout} from now, on {@link System#nanoTime}. */
        static Deadline after(Duration timeout) {
            long end = System.nanoTime() + timeout.toNanos();
            return () -> System.nanoTime() - end >= 0;
        }
    }

    /** The image could not be made: the answer is 415. */
    public static final class RefusedImageException extends Exception {
        public RefusedImageException(String message) {
            super(message, null, false, false);
        }
    }

    private ImageMaker() {
    }

    /**
     * Makes {@code job} of the image in {@code image}'s first {@code length} bytes, whose head is {@code head}; throws
     * where it is refused: no decoder for it (WebP), more pixels than {@code maxPixels}, not decodable, not writable,
     * or not made before {@code deadline}.
     */
    public static Made make(byte[] image, int length, ImageHead head, Job job, long maxPixels, Deadline deadline)
            throws RefusedImageException {
        if (head.type() == ImageHead.Type.WEBP) {
            throw new RefusedImageException("WebP is not decoded (no decoder in Java's ImageIO)");
        }
        if ((long) head.width() * head.height() > maxPixels) {
            throw new RefusedImageException("its head says " + head.width() + " x " + head.height()
                    + ", more than max-pixels " + maxPixels);
        }
        BufferedImage source = decode(image, length, head.type(), maxPixels, deadline);
        int sx = source.getWidth();
        int sy = source.getHeight();
        if (job.action() != ImageGeometry.Action.ROTATE
                && ImageGeometry.fits(sx, sy, job.maxWidth(), job.maxHeight(), job.angle(), head.force())) {
            return new Made(null, true, sx, sy);
        }
        ImageGeometry geometry = ImageGeometry.of(job.action(), sx, sy, job.maxWidth(), job.maxHeight(), job.angle());
        boolean alpha = source.getColorModel().hasAlpha()
                && (job.transparency() || !(source.getColorModel() instanceof IndexColorModel))
                && head.type() != ImageHead.Type.JPEG;
        // each step draws into a new true-colour image of its own size: the decoded one is not copied first, which
        // held twice its pixels at once (a 36 million pixel PNG failed in a heap of 400 MB)
        BufferedImage made = source;
        if (geometry.scaled()) {
            made = scale(made, geometry.scaledWidth(), geometry.scaledHeight(), alpha, deadline);
        }
        if (geometry.angle() != 0) {
            made = turn(made, geometry.angle(), alpha);
            check(deadline);
        }
        if (geometry.width() != made.getWidth() || geometry.height() != made.getHeight()) {
            made = copy(made.getSubimage(geometry.cropX(), geometry.cropY(), geometry.width(), geometry.height()),
                    alpha);
        }
        if (made == source) { // neither scaled, turned nor cut (a JPEG made anew to drop its EXIF)
            made = copy(source, alpha);
        }
        check(deadline);
        if (job.sharpen() > 0) {
            made = sharpen(made, job.sharpen());
            check(deadline);
        }
        return new Made(encode(made, head.type(), job.jpegQuality(), job.interlace()), false, made.getWidth(),
                made.getHeight());
    }

    /** Throws once {@code deadline} passed: the worker is freed, the answer 415. */
    private static void check(Deadline deadline) throws RefusedImageException {
        if (deadline.passed()) {
            throw new RefusedImageException("not made within server.image-filter.timeout");
        }
    }

    private static BufferedImage decode(byte[] image, int length, ImageHead.Type type, long maxPixels,
            Deadline deadline) throws RefusedImageException {
        check(deadline);
        // in memory: ImageIO.createImageInputStream copies it to a file in java.io.tmpdir (and fails without one)
        try (ImageInputStream in = new DeadlineInputStream(new ByteArrayInputStream(image, 0, length), deadline)) {
            Iterator<ImageReader> readers = ImageIO.getImageReadersByMIMEType(type.mediaType());
            if (!readers.hasNext()) {
                throw new RefusedImageException("no decoder for " + type.mediaType());
            }
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, true);
                // PNG's and GIF's decoders ask between rows whether they were aborted; the JPEG one as it reads.
                // Asked at each row the decoder hands over (an update), not only at its progress reports: ImageIO's
                // JPEG decoder makes a pass over every row for each scan of a progressive JPEG, its input long read,
                // and reports no progress past the twentieth (a JPEG of thousands of scans ran on unasked)
                AbortAt abort = new AbortAt(deadline);
                reader.addIIOReadProgressListener(abort);
                reader.addIIOReadUpdateListener(abort);
                // the decoder's own reading of the head, before any pixel: what it would allocate
                long pixels = (long) reader.getWidth(0) * reader.getHeight(0);
                if (pixels > maxPixels) {
                    throw new RefusedImageException(reader.getWidth(0) + " x " + reader.getHeight(0)
                            + " is more than max-pixels " + maxPixels);
                }
                BufferedImage decoded = reader.read(0);
                check(deadline); // an aborted read returns what it had
                return decoded;
            } finally {
                reader.dispose();
            }
        } catch (IOException | RuntimeException e) {
            check(deadline); // the input failed as the deadline passed
            // ImageIO throws IIOException for a broken file, and unchecked ones for some (a bad Huffman table)
            throw new RefusedImageException("cannot be decoded: " + e);
        }
    }

    /**
     * The image's bytes for its decoder, in memory, failing each read once the deadline passed: the decoder pulls them
     * in parts as it goes, so a decoding that outlasts its deadline ends there.
     */
    private static final class DeadlineInputStream extends MemoryCacheImageInputStream {
        private final Deadline deadline;

        DeadlineInputStream(InputStream in, Deadline deadline) {
            super(in);
            this.deadline = deadline;
        }

        @Override
        public int read() throws IOException {
            passed();
            return super.read();
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            passed();
            return super.read(b, off, len);
        }

        private void passed() throws IOException {
            if (deadline.passed()) {
                throw new IOException("server.image-filter.timeout passed");
            }
        }
    }

    /**
     * Aborts the read it listens to once the deadline passed: asked at each row the decoder hands over (an update) and
     * at each progress report.
     */
    private record AbortAt(Deadline deadline) implements IIOReadProgressListener, IIOReadUpdateListener {
        @Override
        public void imageProgress(ImageReader source, float percentageDone) {
            abortIfPassed(source);
        }

        @Override
        public void imageUpdate(ImageReader source, BufferedImage image, int minX, int minY, int width, int height,
                int periodX, int periodY, int[] bands) {
            abortIfPassed(source);
        }

        private void abortIfPassed(ImageReader source) {
            if (deadline.passed()) {
                source.abort();
            }
        }

        @Override
        public void passStarted(ImageReader source, BufferedImage image, int pass, int minPass, int maxPass, int minX,
                int minY, int periodX, int periodY, int[] bands) {
        }

        @Override
        public void passComplete(ImageReader source, BufferedImage image) {
        }

        @Override
        public void thumbnailPassStarted(ImageReader source, BufferedImage thumbnail, int pass, int minPass,
                int maxPass, int minX, int minY, int periodX, int periodY, int[] bands) {
        }

        @Override
        public void thumbnailUpdate(ImageReader source, BufferedImage thumbnail, int minX, int minY, int width,
                int height, int periodX, int periodY, int[] bands) {
        }

        @Override
        public void thumbnailPassComplete(ImageReader source, BufferedImage thumbnail) {
        }

        @Override
        public void sequenceStarted(ImageReader source, int minIndex) {
        }

        @Override
        public void sequenceComplete(ImageReader source) {
        }

        @Override
        public void imageStarted(ImageReader source, int imageIndex) {
        }

        @Override
        public void imageComplete(ImageReader source) {
        }

        @Override
        public void thumbnailStarted(ImageReader source, int imageIndex, int thumbnailIndex) {
        }

        @Override
        public void thumbnailProgress(ImageReader source, float percentageDone) {
        }

        @Override
        public void thumbnailComplete(ImageReader source) {
        }

        @Override
        public void readAborted(ImageReader source) {
        }
    }

    /** {@code image} drawn anew into a true-colour image, with its alpha or without (on black, as nginx's GD). */
    private static BufferedImage copy(BufferedImage image, boolean alpha) {
        BufferedImage copy = new BufferedImage(image.getWidth(), image.getHeight(),
                alpha ? BufferedImage.TYPE_INT_ARGB : BufferedImage.TYPE_INT_RGB);
        Graphics2D g = copy.createGraphics();
        try {
            g.drawImage(image, 0, 0, null);
        } finally {
            g.dispose();
        }
        return copy;
    }

    /**
     * Scaled down to {@code width} by {@code height}: halved bilinearly while more than twice too large, then once to
     * the size, so every source pixel counts (as GD's resampling averages them), not only the nearest.
     */
    private static BufferedImage scale(BufferedImage image, int width, int height, boolean alpha, Deadline deadline)
            throws RefusedImageException {
        BufferedImage current = image;
        while (current.getWidth() / 2 >= width && current.getHeight() / 2 >= height) {
            current = draw(current, current.getWidth() / 2, current.getHeight() / 2, alpha);
            check(deadline);
        }
        return current.getWidth() == width && current.getHeight() == height ? current
                : draw(current, width, height, alpha);
    }

    private static BufferedImage draw(BufferedImage image, int width, int height, boolean alpha) {
        BufferedImage scaled = new BufferedImage(width, height,
                alpha ? BufferedImage.TYPE_INT_ARGB : BufferedImage.TYPE_INT_RGB);
        Graphics2D g = scaled.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
            g.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_QUALITY);
            g.drawImage(image, 0, 0, width, height, null);
        } finally {
            g.dispose();
        }
        return scaled;
    }

    /** Turned counterclockwise by {@code angle} (90, 180, 270), as GD's {@code gdImageCopyRotated} in nginx. */
    private static BufferedImage turn(BufferedImage image, int angle, boolean alpha) {
        int w = image.getWidth();
        int h = image.getHeight();
        boolean swap = angle != 180;
        BufferedImage turned = new BufferedImage(swap ? h : w, swap ? w : h,
                alpha ? BufferedImage.TYPE_INT_ARGB : BufferedImage.TYPE_INT_RGB);
        AffineTransform transform = switch (angle) {
            case 90 -> new AffineTransform(0, -1, 1, 0, 0, w);
            case 270 -> new AffineTransform(0, 1, -1, 0, h, 0);
            default -> new AffineTransform(-1, 0, 0, -1, w, h);
        };
        Graphics2D g = turned.createGraphics();
        try {
            g.drawImage(image, transform, null);
        } finally {
            g.dispose();
        }
        return turned;
    }

    /** Sharpened by {@code percent}: a 3x3 kernel whose four neighbours take a quarter of it each (sums to 1). */
    private static BufferedImage sharpen(BufferedImage image, int percent) {
        float f = percent / 100f;
        float[] kernel = {0, -f / 4, 0, -f / 4, 1 + f, -f / 4, 0, -f / 4, 0};
        BufferedImage out = new BufferedImage(image.getWidth(), image.getHeight(), image.getType());
        return new ConvolveOp(new Kernel(3, 3, kernel), ConvolveOp.EDGE_NO_OP, null).filter(image, out);
    }

    private static byte[] encode(BufferedImage image, ImageHead.Type type, int jpegQuality, boolean interlace)
            throws RefusedImageException {
        ImageWriter writer = ImageIO.getImageWritersByMIMEType(type.mediaType()).next();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(16 * 1024);
        try (ImageOutputStream out = new MemoryCacheImageOutputStream(bytes)) {
            writer.setOutput(out);
            ImageWriteParam param = writer.getDefaultWriteParam();
            if (type == ImageHead.Type.JPEG) {
                param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
                param.setCompressionQuality(Math.min(100, jpegQuality) / 100f);
            }
            if (interlace && param.canWriteProgressive()) {
                param.setProgressiveMode(ImageWriteParam.MODE_DEFAULT);
            }
            BufferedImage written = image;
            if (type == ImageHead.Type.JPEG && image.getColorModel().getTransparency() != Transparency.OPAQUE) {
                written = copy(image, false);
            }
            writer.write(null, new IIOImage(written, null, null), param);
        } catch (IOException | RuntimeException e) {
            throw new RefusedImageException("cannot be written: " + e);
        } finally {
            writer.dispose();
        }
        return bytes.toByteArray();
    }
}
