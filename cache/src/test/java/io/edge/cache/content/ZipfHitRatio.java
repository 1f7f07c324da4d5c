package io.edge.cache.content;

import io.edge.cache.ContentCacheSettings;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;

/**
 * Hit ratio of {@link ContentCache} (Caffeine, W-TinyLFU) against a plain LRU bounded by the same bytes, both
 * weighed by {@link ContentCache#weight}, on a Zipf(s) stream of file requests. A benchmark tool, not a test:
 * {@code bench/run.sh cache-hit-ratio} runs it over the 300 000-file tree.
 *
 * <pre>
 * ZipfHitRatio --root DIR [--paths FILE] [--requests N] [--s S] [--seed N] [--stream-seed N] [--mib 16,64,256]
 * </pre>
 *
 * <p>{@code --paths} lists one URL path a line under {@code --root} (mktree.py's paths.txt), in the order
 * {@code bench/wrk-zipf.lua} reads it; without it the tree is walked in name order. Only sizes are read. The
 * popularity order is that list shuffled exactly as wrk-zipf.lua shuffles it ({@link #popularityOrder}), so
 * for the same {@code --seed} (its {@code ZIPF_SEED}) rank 1 is the same file here and under wrk. The request
 * stream itself is this program's own ({@code --stream-seed}); every cache replays the same one.
 *
 * <p>Each miss puts the file, as the static path does after reading it; the clock never moves, so no entry is
 * revalidated. Hits count over the whole stream, cold start included. Prints per bound:
 * {@code HITRATIO size=16MiB content_cache=… lru=… ratio=…} (ratio = content_cache / lru). The LRU's figure
 * is exact for given seeds; the content cache's moves by up to about 0.001 from run to run, because Caffeine
 * admits a candidate that lost on frequency 1 time in 128 at random (its defence against hash flooding).
 */
final class ZipfHitRatio {

    /** A file of the tree: the cache key, as the static path makes it, and its length. */
    record TreeFile(Path path, int size) {
    }

    /** Hit ratios at one byte bound. */
    record Result(long maxBytes, double contentCache, double lru) {

        double ratio() {
            return lru == 0 ? Double.NaN : contentCache / lru;
        }

        String line() {
            return String.format("HITRATIO size=%dMiB content_cache=%.4f lru=%.4f ratio=%.3f",
                    maxBytes >> 20, contentCache, lru, ratio());
        }
    }

    /** reference.conf's edge.cache.content.max-file-size: larger files are kept by neither cache. */
    static final int MAX_FILE_SIZE = 64 * 1024;

    private static final long PARK_MILLER_MODULUS = 2_147_483_647L;

    private ZipfHitRatio() {
    }

    public static void main(String[] args) throws IOException {
        Path root = null;
        Path paths = null;
        int requests = 2_000_000;
        double s = 0.9;
        long seed = 42;
        long streamSeed = 1;
        List<Long> mib = List.of(16L, 64L, 256L);
        for (int i = 0; i < args.length; i += 2) {
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException(args[i] + ": no value");
            }
            String value = args[i + 1];
            switch (args[i]) {
                case "--root" -> root = Path.of(value);
                case "--paths" -> paths = Path.of(value);
                case "--requests" -> requests = Integer.parseInt(value);
                case "--s" -> s = Double.parseDouble(value);
                case "--seed" -> seed = Long.parseLong(value);
                case "--stream-seed" -> streamSeed = Long.parseLong(value);
                case "--mib" -> mib = Stream.of(value.split(",")).map(String::trim).map(Long::valueOf).toList();
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        if (root == null) {
            throw new IllegalArgumentException("--root DIR is required");
        }
        List<TreeFile> files = paths != null ? listed(root, paths) : walked(root);
        List<TreeFile> ranked = popularityOrder(files, seed);
        int[] stream = zipfStream(ranked.size(), s, streamSeed, requests);
        System.err.printf("# %d files, %d MiB, %d requests, Zipf(%s), seed %d, stream seed %d%n", files.size(),
                files.stream().mapToLong(TreeFile::size).sum() >> 20, requests, s, seed, streamSeed);
        for (long m : mib) {
            System.out.println(compare(ranked, stream, m << 20).line()
                    + String.format(" files=%d requests=%d s=%s", files.size(), requests, s));
        }
    }

    /** The files named by {@code pathsFile} (one URL path a line, relative to {@code root}), in its order. */
    static List<TreeFile> listed(Path root, Path pathsFile) throws IOException {
        Path base = root.toAbsolutePath();
        List<TreeFile> files = new ArrayList<>();
        for (String line : Files.readAllLines(pathsFile)) {
            if (!line.isEmpty()) {
                Path file = base.resolve(line.startsWith("/") ? line.substring(1) : line);
                files.add(new TreeFile(file, Math.toIntExact(Files.size(file))));
            }
        }
        return files;
    }

    /** Every regular file under {@code root}, in name order. */
    static List<TreeFile> walked(Path root) throws IOException {
        try (Stream<Path> walk = Files.walk(root.toAbsolutePath())) {
            return walk.filter(Files::isRegularFile).sorted().map(file -> {
                try {
                    return new TreeFile(file, Math.toIntExact(Files.size(file)));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }).toList();
        }
    }

    /**
     * {@code files} shuffled as bench/wrk-zipf.lua shuffles its paths: Fisher-Yates from the last place down,
     * the swap partner {@code x mod i} (0-based) of the next Park-Miller number {@code x = x * 48271 mod
     * (2^31 - 1)}, started at {@code seed mod (2^31 - 1)} (1 if that is 0). Element 0 is rank 1.
     */
    static <T> List<T> popularityOrder(List<T> files, long seed) {
        List<T> order = new ArrayList<>(files);
        long x = Math.floorMod(seed, PARK_MILLER_MODULUS);
        if (x == 0) {
            x = 1;
        }
        for (int i = order.size(); i >= 2; i--) {
            x = x * 48271 % PARK_MILLER_MODULUS;
            int j = (int) (x % i);
            T swapped = order.get(i - 1);
            order.set(i - 1, order.get(j));
            order.set(j, swapped);
        }
        return order;
    }

    /**
     * {@code requests} ranks (0-based) drawn from Zipf({@code s}) over {@code n} ranks: rank r + 1 with
     * probability proportional to {@code 1 / (r + 1)^s}, by binary search of the cumulative weights.
     */
    static int[] zipfStream(int n, double s, long streamSeed, int requests) {
        double[] cumulative = new double[n];
        double total = 0;
        for (int r = 0; r < n; r++) {
            total += Math.pow(r + 1, -s);
            cumulative[r] = total;
        }
        SplittableRandom random = new SplittableRandom(streamSeed);
        int[] stream = new int[requests];
        for (int k = 0; k < requests; k++) {
            double u = random.nextDouble() * total;
            int lo = 0;
            int hi = n - 1;
            while (lo < hi) {   // the first rank whose cumulative weight exceeds u
                int mid = (lo + hi) >>> 1;
                if (cumulative[mid] > u) {
                    hi = mid;
                } else {
                    lo = mid + 1;
                }
            }
            stream[k] = lo;
        }
        return stream;
    }

    /** Both caches at one byte bound over the same stream of indexes into {@code ranked}. */
    static Result compare(List<TreeFile> ranked, int[] stream, long maxBytes) {
        return new Result(maxBytes, contentCacheHitRatio(ranked, stream, maxBytes), lruHitRatio(ranked, stream, maxBytes));
    }

    /**
     * The real cache: a miss puts a slice of one shared direct buffer of the file's length (the bytes do not
     * matter, only their count). Each entry owns one reference to the shared buffer through its slice, each
     * hit's duplicate another until it is released here; after close, only ours is left, which is checked.
     * That check is exact, so the shared buffer wraps a plain ByteBuffer outside Netty's leak detector, whose
     * paranoid level in the tests would record a stack trace for every hit and miss.
     */
    static double contentCacheHitRatio(List<TreeFile> ranked, int[] stream, long maxBytes) {
        int largest = ranked.stream().mapToInt(TreeFile::size).filter(size -> size <= MAX_FILE_SIZE).max().orElse(0);
        ByteBuf shared = Unpooled.wrappedBuffer(ByteBuffer.allocateDirect(largest));
        ContentCache.Stat noStat = (path, confined) -> {
            throw new IllegalStateException("revalidated " + path + " on a clock that never moves");
        };
        long hits = 0;
        try {
            ContentCacheSettings settings = new ContentCacheSettings(maxBytes, MAX_FILE_SIZE, Duration.ofSeconds(1));
            try (ContentCache cache = new ContentCache(settings, () -> 0L)) {
                for (int rank : stream) {
                    TreeFile file = ranked.get(rank);
                    CachedContent hit = cache.get(file.path(), noStat);
                    if (hit != null) {
                        hits++;
                        hit.release();
                    } else if (file.size() <= MAX_FILE_SIZE && cache.admit(file.path())) { // as the server does
                        // the cache takes over this slice's reference
                        cache.put(file.path(), shared.retainedSlice(0, file.size()),
                                new ContentMetadata(new FileVersion(null, file.size(), 0,
                                        FileVersion.CHANGE_TIME_UNKNOWN), null, null));
                    }
                }
            }
            if (shared.refCnt() != 1) {
                throw new IllegalStateException("shared buffer refCnt " + shared.refCnt() + " after close (expected: 1)");
            }
        } finally {
            shared.release();
        }
        return (double) hits / stream.length;
    }

    /** A LinkedHashMap in access order, evicting the least recently used until the weight fits the bound. */
    static double lruHitRatio(List<TreeFile> ranked, int[] stream, long maxBytes) {
        LinkedHashMap<Path, Integer> lru = new LinkedHashMap<>(16, 0.75f, true);
        long held = 0;
        long hits = 0;
        for (int rank : stream) {
            TreeFile file = ranked.get(rank);
            if (lru.get(file.path()) != null) {
                hits++;
                continue;
            }
            int weight = ContentCache.weight(file.path(), file.size());
            if (file.size() > MAX_FILE_SIZE || weight > maxBytes) {
                continue;
            }
            lru.put(file.path(), weight);
            held += weight;
            for (Iterator<Map.Entry<Path, Integer>> eldest = lru.entrySet().iterator(); held > maxBytes; ) {
                held -= eldest.next().getValue();
                eldest.remove();
            }
        }
        return (double) hits / stream.length;
    }
}
