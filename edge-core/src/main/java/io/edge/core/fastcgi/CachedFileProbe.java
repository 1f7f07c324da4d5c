package io.edge.core.fastcgi;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;
import io.edge.fastcgi.cgi.ScriptResolver.FileProbe;
import java.nio.file.Path;
import java.time.Duration;

/**
 * What a path is (script file, directory, missing), remembered for {@code static.open-file-cache.revalidate}
 * as nginx's {@code open_file_cache} remembers it for {@code try_files}: a PHP request no longer makes a
 * {@code stat} on its event loop every time (one per request for the script, two when a front controller
 * answers an unknown path). A script that appears, disappears or turns into a directory is seen within that
 * time; missing paths are remembered too, so a flood of unknown URLs under a front controller costs one
 * {@code stat} per distinct path and period ({@link PolicyFileProbe}: a path that exists also gets its link
 * check). A period of zero asks the file system every time.
 *
 * <p>Thread-safe; one per probe it wraps (Edge: per FastCGI root and path policy, since an answer depends on
 * both), shared by the locations using it. {@link #kind} looks on the calling thread when it misses; the event
 * loop asks {@link #cachedOnly} instead, and sends a miss to a thread that may wait (a {@code stat} of a code tree
 * on NFS is a round trip). Answers are remembered whatever they are, so a dotfile or a link
 * the policy refuses costs its check once per period too. Bounded by the length
 * of the paths it holds, not their count, since request paths choose them: a flood of 8 KiB URLs under a front
 * controller keeps about a hundred, short script paths about 5 000.
 */
public final class CachedFileProbe implements FileProbe {

    /** Characters of path remembered in all, each entry weighing its path's length plus {@link #ENTRY_WEIGHT}. */
    static final long MAX_WEIGHT = 1 << 20;
    /** An entry's own cost in path characters (the key's objects, the cache's node). */
    static final int ENTRY_WEIGHT = 100;

    private final FileProbe probe;
    private final Cache<Path, Kind> kinds;

    public CachedFileProbe(FileProbe probe, Duration valid, Ticker ticker) {
        this.probe = probe;
        this.kinds = valid.isZero() ? null : Caffeine.newBuilder()
                .maximumWeight(MAX_WEIGHT)
                .<Path, Kind>weigher((path, kind) -> path.toString().length() + ENTRY_WEIGHT)
                .expireAfterWrite(valid)
                .ticker(ticker)
                .executor(Runnable::run)
                .build();
    }

    @Override
    public Path backendRoot(Path root) {
        return probe.backendRoot(root);
    }

    @Override
    public Kind kind(Path path) {
        if (kinds == null) {
            return probe.kind(path);
        }
        Kind kind = kinds.getIfPresent(path);
        if (kind != null) {
            return kind;
        }
        kind = probe.kind(path);
        // An answer another thread stored meanwhile stays: it may have looked later than this one.
        Kind stored = kinds.asMap().putIfAbsent(path, kind);
        return stored != null ? stored : kind;
    }

    /**
     * The same answers as far as they are remembered, without ever looking: a path not remembered (or any path,
     * with a period of zero) throws {@link Miss}, for the caller to ask {@link #kind} on a thread that may wait and
     * come back. For the event loop.
     */
    public FileProbe cachedOnly() {
        return new FileProbe() {
            @Override
            public Kind kind(Path path) {
                Kind kind = kinds == null ? null : kinds.getIfPresent(path);
                if (kind == null) {
                    throw Miss.INSTANCE;
                }
                return kind;
            }

            @Override
            public Path backendRoot(Path root) {
                return probe.backendRoot(root);
            }
        };
    }

    /** {@link #cachedOnly()}'s answer for a path not remembered: no stack trace, one instance. */
    public static final class Miss extends RuntimeException {
        private static final long serialVersionUID = 1L;
        static final Miss INSTANCE = new Miss();

        private Miss() {
            super("not remembered: to be looked at off the event loop", null, false, false);
        }
    }

    /**
     * Forgets what is remembered of {@code path}: the next question about it looks. For a file a script just made
     * (a thumbnail generated for the request that found it missing, sent by X-Accel-Redirect or X-Sendfile).
     */
    public void forget(Path path) {
        if (kinds != null) {
            kinds.invalidate(path);
        }
    }

    /** For tests: paths remembered now. */
    long size() {
        if (kinds == null) {
            return 0;
        }
        kinds.cleanUp();
        return kinds.estimatedSize();
    }
}
