package io.edge.core.image;

import static io.edge.core.image.ImageGeometry.ANY;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** nginx's arithmetic of ngx_http_image_resize, case by case (the sizes nginx 1.22's filter sent for each). */
class ImageGeometryTest {

    private static String size(ImageGeometry g) {
        return g.width() + "x" + g.height();
    }

    @Test
    void resizeFitsWithinBothKeepingTheRatioInIntegers() {
        // 400x300 into 100x100: width bound first, 300*100/400 = 75 (nginx: 100 x 75)
        assertThat(size(ImageGeometry.of(ImageGeometry.Action.RESIZE, 400, 300, 100, 100, 0))).isEqualTo("100x75");
        // "-" for the height: the width alone
        assertThat(size(ImageGeometry.of(ImageGeometry.Action.RESIZE, 400, 300, 100, ANY, 0))).isEqualTo("100x75");
        // then the height bound: 400x300 into 1000x30 is 40x30
        assertThat(size(ImageGeometry.of(ImageGeometry.Action.RESIZE, 400, 300, 1000, 30, 0))).isEqualTo("40x30");
        // both: 4000x3000 into 10x10 is 10x7 (3000*10/4000 = 7, rounded down)
        assertThat(size(ImageGeometry.of(ImageGeometry.Action.RESIZE, 4000, 3000, 10, 10, 0))).isEqualTo("10x7");
        // a side scaled below a pixel is one pixel
        assertThat(size(ImageGeometry.of(ImageGeometry.Action.RESIZE, 1000, 1, 10, 10, 0))).isEqualTo("10x1");
    }

    @Test
    void neverEnlarges() {
        ImageGeometry g = ImageGeometry.of(ImageGeometry.Action.RESIZE, 40, 30, 1000, 1000, 0);
        assertThat(size(g)).isEqualTo("40x30");
        assertThat(ImageGeometry.fits(40, 30, 1000, 1000, 0, false)).isTrue();
        assertThat(ImageGeometry.fits(40, 30, 40, 30, 0, false)).isTrue();
        assertThat(ImageGeometry.fits(41, 30, 40, 30, 0, false)).isFalse();
        assertThat(ImageGeometry.fits(40, 30, 1000, 1000, 90, false)).as("turned: made anew").isFalse();
        assertThat(ImageGeometry.fits(40, 30, 1000, 1000, 0, true)).as("forced (EXIF)").isFalse();
        assertThat(size(ImageGeometry.of(ImageGeometry.Action.CROP, 40, 30, 100, 100, 0))).isEqualTo("40x30");
    }

    @Test
    void cropScalesToCoverThenCutsTheMiddle() {
        // 400x300 to 100x100: wider than the box, so the height is scaled to 100 (400*100/300 = 133), then 33 cut
        ImageGeometry g = ImageGeometry.of(ImageGeometry.Action.CROP, 400, 300, 100, 100, 0);
        assertThat(g.scaled()).isTrue();
        assertThat(g.scaledWidth() + "x" + g.scaledHeight()).isEqualTo("133x100");
        assertThat(size(g)).isEqualTo("100x100");
        assertThat(g.cropX() + "," + g.cropY()).isEqualTo("16,0");
        // "-" for the height (nginx's crop 100 -): its ratio is less than any image's, so the height would be scaled,
        // and any height fits: not scaled, the width cut (nginx 1.22 sends 100 x 300)
        ImageGeometry any = ImageGeometry.of(ImageGeometry.Action.CROP, 400, 300, 100, ANY, 0);
        assertThat(size(any) + " at " + any.cropX() + "," + any.cropY()).isEqualTo("100x300 at 150,0");
        // taller than the box: the width scaled, the height cut
        ImageGeometry tall = ImageGeometry.of(ImageGeometry.Action.CROP, 300, 400, 100, 100, 0);
        assertThat(tall.scaledWidth() + "x" + tall.scaledHeight()).isEqualTo("100x133");
        assertThat(size(tall) + " at " + tall.cropX() + "," + tall.cropY()).isEqualTo("100x100 at 0,16");
        // smaller than the box one way: cut, not scaled (300 wide into 500x100)
        ImageGeometry cut = ImageGeometry.of(ImageGeometry.Action.CROP, 300, 400, 500, 100, 0);
        assertThat(cut.scaled()).isFalse();
        assertThat(size(cut) + " at " + cut.cropX() + "," + cut.cropY()).isEqualTo("300x100 at 0,150");
    }

    @Test
    void rotateSwapsForAQuarterTurnAndCropsAfterIt() {
        assertThat(size(ImageGeometry.of(ImageGeometry.Action.ROTATE, 400, 300, 0, 0, 90))).isEqualTo("300x400");
        assertThat(size(ImageGeometry.of(ImageGeometry.Action.ROTATE, 400, 300, 0, 0, 270))).isEqualTo("300x400");
        assertThat(size(ImageGeometry.of(ImageGeometry.Action.ROTATE, 400, 300, 0, 0, 180))).isEqualTo("400x300");
        // resize 100 100 then rotate 90 (nginx: 75 x 100)
        assertThat(size(ImageGeometry.of(ImageGeometry.Action.RESIZE, 400, 300, 100, 100, 90))).isEqualTo("75x100");
        // an angle nginx does not turn by turns nothing
        assertThat(ImageGeometry.of(ImageGeometry.Action.RESIZE, 400, 300, 100, 100, 45).angle()).isZero();
        // crop after the turn: 400x300 covering 100x50 is 100x75, turned 75x100, cut to 75x50
        ImageGeometry g = ImageGeometry.of(ImageGeometry.Action.CROP, 400, 300, 100, 50, 90);
        assertThat(size(g) + " at " + g.cropX() + "," + g.cropY()).isEqualTo("75x50 at 0,25");
    }
}
