package io.edge.conf;

import io.edge.cache.ContentCacheSettings;
import io.edge.cache.ResponseCacheSettings;
import java.time.Duration;
import java.util.List;

/**
 * The caches of one server ({@code edge.cache}).
 *
 * @param content         the static file content cache, or {@code null} when it is off
 * @param responses       the shared response cache used by locations with {@code cache = true}
 * @param purgeAllow      client addresses from which {@code PURGE} is accepted
 * @param purgeMarksStale {@code PURGE}, and the invalidation after an unsafe method, mark entries stale instead of
 *                        removing them
 * @param bypass          nginx's {@code fastcgi_cache_bypass}: texts with variables; where one comes out neither empty
 *                        nor "0", the answer is not taken from the cache (BYPASS), nor stored
 * @param noCache         nginx's {@code fastcgi_no_cache}: likewise, the answer is not stored (one stored before still
 *                        answers)
 */
public record CacheSettings(ContentCacheSettings content, ResponseCacheSettings responses,
                            List<AddressRange> purgeAllow, boolean purgeMarksStale, List<VariableText> bypass,
                            List<VariableText> noCache) {

    public CacheSettings {
        purgeAllow = List.copyOf(purgeAllow);
        bypass = List.copyOf(bypass);
        noCache = List.copyOf(noCache);
    }

    /** Caches without bypass or no-cache texts. */
    public CacheSettings(ContentCacheSettings content, ResponseCacheSettings responses,
                         List<AddressRange> purgeAllow, boolean purgeMarksStale) {
        this(content, responses, purgeAllow, purgeMarksStale, List.of(), List.of());
    }

    /** The defaults of {@code reference.conf}, for settings built in code (tests). */
    public static CacheSettings defaults() {
        return new CacheSettings(new ContentCacheSettings(256L << 20, 64 << 10, Duration.ofSeconds(1)),
                new ResponseCacheSettings(256L << 20, 1 << 20, false, Duration.ofSeconds(10), Duration.ofSeconds(120),
                        Duration.ofHours(1),
                        List.of(), false),
                List.of(Addresses.range("127.0.0.1"), Addresses.range("::1")), false);
    }
}
