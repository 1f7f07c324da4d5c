package io.edge.cache.content;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.edge.cache.content.ZipfHitRatio.Result;
import io.edge.cache.content.ZipfHitRatio.TreeFile;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** The hit-ratio simulator's parts, and W-TinyLFU against LRU on a small tree. No timing. */
class ZipfHitRatioTest {

    /** Thumbnail-like sizes as mktree.py makes them: 4 KiB to 9 KiB - 1. */
    private static List<TreeFile> tree(int files) {
        SplittableRandom random = new SplittableRandom(42);
        List<TreeFile> tree = new ArrayList<>(files);
        for (int i = 0; i < files; i++) {
            Path path = Path.of(String.format("/var/tmp/edge-bench/tree/%02X/%016x.jpg", i % 256, random.nextLong()));
            tree.add(new TreeFile(path, random.nextInt(4096, 9216)));
        }
        return tree;
    }

    @Test
    void windowTinyLfuHitsAtLeastAsOftenAsLruOnAZipfStream() {
        List<TreeFile> ranked = ZipfHitRatio.popularityOrder(tree(20_000), 42);
        int[] stream = ZipfHitRatio.zipfStream(ranked.size(), 0.9, 1, 200_000);
        for (long mib : List.of(4L, 16L)) {   // about 3 % and 12 % of the tree's weight
            Result result = ZipfHitRatio.compare(ranked, stream, mib << 20);
            assertThat(result.lru()).as(result.line()).isBetween(0.05, 0.95);
            assertThat(result.contentCache()).as(result.line()).isGreaterThanOrEqualTo(result.lru());
        }
    }

    @Test
    void shufflesLikeWrkZipfLua() {
        // bench/wrk-zipf.lua's order for the paths /1 ... /10 with ZIPF_SEED=42, captured from wrk 4.1 (LuaJIT)
        List<String> paths = IntStream.rangeClosed(1, 10).mapToObj(i -> "/" + i).toList();
        assertThat(ZipfHitRatio.popularityOrder(paths, 42))
                .containsExactly("/1", "/2", "/5", "/4", "/9", "/10", "/8", "/6", "/7", "/3");
    }

    @Test
    void streamFollowsZipf() {
        int n = 1_000;
        int requests = 400_000;
        int[] counts = new int[n];
        for (int rank : ZipfHitRatio.zipfStream(n, 0.9, 7, requests)) {
            counts[rank]++;
        }
        double total = IntStream.rangeClosed(1, n).mapToDouble(r -> Math.pow(r, -0.9)).sum();
        for (int r : new int[] {1, 2, 10, 100}) {
            double expected = Math.pow(r, -0.9) / total;
            assertThat((double) counts[r - 1] / requests).as("rank %d", r).isCloseTo(expected, within(expected * 0.1));
        }
        assertThat(counts[n - 1]).as("the last rank is drawn too").isPositive();
    }

    @Test
    void lruKeepsTheMostRecentWithinTheBound() {
        List<TreeFile> files = List.of(new TreeFile(Path.of("/a"), 1000), new TreeFile(Path.of("/b"), 1000),
                new TreeFile(Path.of("/c"), 1000));
        long room = ContentCache.weight(Path.of("/a"), 1000) * 2L;   // two files fit, not three
        // a b a c a b: hits on the second a and the third a (b was evicted by c, then a was the most recent)
        assertThat(ZipfHitRatio.lruHitRatio(files, new int[] {0, 1, 0, 2, 0, 1}, room)).isEqualTo(2.0 / 6);
    }
}
