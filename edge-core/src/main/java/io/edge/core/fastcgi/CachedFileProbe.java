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
 * {@code stat} per distinct path and period. A period of zero asks the file system every time.
 *
 * <p>Thread-safe; shared by every FastCGI location (keys are absolute paths). A miss still looks on the
 * calling thread: scripts are few and their metadata stays in the kernel's dentry cache.
 */
public final class CachedFileProbe implements FileProbe {

    /** Distinct paths remembered: the scripts and front-controller misses of a busy site. */
    static final int MAX_ENTRIES = 10_000;

    private final FileProbe probe;
    private final Cache<Path, Kind> kinds;

    public CachedFileProbe(FileProbe probe, Duration valid, Ticker ticker) {
        this.probe = probe;
        this.kinds = valid.isZero() ? null : Caffeine.newBuilder()
                .maximumSize(MAX_ENTRIES)
                .expireAfterWrite(valid)
                .ticker(ticker)
                .executor(Runnable::run)
                .build();
    }

    @Override
    public Kind kind(Path path) {
        if (kinds == null) {
            return probe.kind(path);
        }
        Kind kind = kinds.getIfPresent(path);
        if (kind == null) {
            kind = probe.kind(path);
            kinds.put(path, kind);
        }
        return kind;
    }
}
