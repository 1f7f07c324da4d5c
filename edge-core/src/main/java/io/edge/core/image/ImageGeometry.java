package io.edge.core.image;

/**
 * The sizes nginx's image filter makes ({@code ngx_http_image_process} and {@code ngx_http_image_resize}), in its
 * integer arithmetic: a resize fits the image within the bounds keeping its ratio, a crop scales it down to cover them
 * and cuts the middle out; neither ever enlarges. A bound of {@link #ANY} ({@code -}) holds nothing.
 *
 * @param scaledWidth  the width it is scaled to (its own where it is not scaled)
 * @param scaledHeight the height it is scaled to
 * @param scaled       whether it is scaled at all
 * @param angle        the degrees it is turned counterclockwise after scaling: 0, 90, 180 or 270
 * @param cropX        where the cut begins, from the left of the scaled and turned image
 * @param cropY        where the cut begins, from its top
 * @param width        the width of what is sent
 * @param height       the height of what is sent
 */
public record ImageGeometry(int scaledWidth, int scaledHeight, boolean scaled, int angle, int cropX, int cropY,
        int width, int height) {

    /** A bound written {@code -}: any size (nginx's {@code (ngx_uint_t) -1}). */
    public static final long ANY = Long.MAX_VALUE;

    /** What nginx's filter does to an image. */
    public enum Action { RESIZE, CROP, ROTATE }

    /**
     * Whether an image of {@code width} by {@code height} goes out as it came (nginx's {@code ngx_http_image_asis}):
     * it fits both bounds, is not turned ({@code angle} 0) and not {@code forced}.
     */
    public static boolean fits(int width, int height, long maxWidth, long maxHeight, long angle, boolean forced) {
        return !forced && angle == 0 && width <= maxWidth && height <= maxHeight;
    }

    /**
     * What {@code action} makes of an image of {@code sx} by {@code sy} within {@code maxWidth} by {@code maxHeight}
     * ({@link #ANY} for {@code -}), turned by {@code angle} (an angle other than 90, 180 or 270 turns nothing, as
     * nginx's). For {@link Action#ROTATE} the bounds are not read.
     */
    public static ImageGeometry of(Action action, int sx, int sy, long maxWidth, long maxHeight, long angle) {
        long dx = sx;
        long dy = sy;
        boolean scaled;
        if (action == Action.RESIZE) {
            if (dx > maxWidth) {
                dy = Math.max(1, dy * maxWidth / dx);
                dx = maxWidth;
            }
            if (dy > maxHeight) {
                dx = Math.max(1, dx * maxHeight / dy);
                dy = maxHeight;
            }
            scaled = true;
        } else if (action == Action.ROTATE) {
            scaled = false;
        } else {
            scaled = false;
            if ((double) dx / dy < (double) maxWidth / maxHeight) {
                if (dx > maxWidth) {
                    dy = Math.max(1, dy * maxWidth / dx);
                    dx = maxWidth;
                    scaled = true;
                }
            } else if (dy > maxHeight) {
                dx = Math.max(1, dx * maxHeight / dy);
                dy = maxHeight;
                scaled = true;
            }
        }
        int turn = angle == 90 || angle == 180 || angle == 270 ? (int) angle : 0;
        int scaledWidth = (int) dx;
        int scaledHeight = (int) dy;
        if (turn == 90 || turn == 270) {
            long t = dx;
            dx = dy;
            dy = t;
        }
        long ox = 0;
        long oy = 0;
        if (action == Action.CROP) {
            ox = dx > maxWidth ? dx - maxWidth : 0;
            oy = dy > maxHeight ? dy - maxHeight : 0;
        }
        return new ImageGeometry(scaledWidth, scaledHeight, scaled, turn, (int) (ox / 2), (int) (oy / 2),
                (int) (dx - ox), (int) (dy - oy));
    }
}
