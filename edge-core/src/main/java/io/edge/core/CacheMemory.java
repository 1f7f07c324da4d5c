package io.edge.core;

import io.edge.cache.ContentCacheSettings;
import io.edge.cache.ResponseCacheSettings;
import io.edge.conf.EdgeSettings;
import io.edge.conf.LocationSettings;
import java.util.Locale;

/**
 * The caches' share of the JVM's direct memory. Their copies live there (Netty's direct buffers), as do the buffers
 * every request, file read and backend answer passes through. Caches configured larger than the limit allows would take
 * that memory from requests, which then fail (502, answers cut short) while the caches, far from their max-bytes,
 * never evict anything: the default 256 MiB each is the whole limit of a JVM whose heap is 512 MiB (the limit is
 * -XX:MaxDirectMemorySize, else -Xmx). So the caches in use are held to half of the limit together, each in proportion
 * to what it was given.
 *
 * @param content   the content cache's settings as held ({@code null} where it is off)
 * @param responses the response cache's settings as held ({@code null} where no location caches)
 */
record CacheMemory(ContentCacheSettings content, ResponseCacheSettings responses) {

    /**
     * The caches of {@code settings} that are in use, held under {@code directLimit} bytes of direct memory
     * ({@code Long.MAX_VALUE} or less than 1: no limit known).
     */
    static CacheMemory held(EdgeSettings settings, long directLimit) {
        ContentCacheSettings content = settings.cache().content();
        if (content != null && content.maxBytes() == 0) {
            content = null;
        }
        boolean responsesUsed = settings.sites().stream().flatMap(site -> site.everyLocation().stream())
                .anyMatch(LocationSettings::cache);
        ResponseCacheSettings responses = responsesUsed ? settings.cache().responses() : null;
        long asked = (content == null ? 0 : content.maxBytes()) + (responses == null ? 0 : responses.maxBytes());
        long share = directLimit / 2;
        if (directLimit <= 0 || directLimit == Long.MAX_VALUE || asked <= share) {
            return new CacheMemory(content, responses);
        }
        return new CacheMemory(content == null ? null : content.withMaxBytes(part(content.maxBytes(), share, asked)),
                responses == null ? null : responses.withMaxBytes(part(responses.maxBytes(), share, asked)));
    }

    /** {@code bytes}' part of {@code share} where the caches asked {@code asked} in all. */
    private static long part(long bytes, long share, long asked) {
        return (long) ((double) bytes / asked * share);
    }

    /** {@code bytes} in MiB, as a configuration writes them: "256 MiB", "12.5 MiB". */
    static String mib(long bytes) {
        double mib = bytes / (double) (1 << 20);
        return (mib == Math.rint(mib) ? String.valueOf((long) mib) : String.format(Locale.ROOT, "%.1f", mib)) + " MiB";
    }

    /** What to log where the caches of {@code settings} were held to less than they were given; null where not. */
    String heldMessage(EdgeSettings settings, long directLimit) {
        ContentCacheSettings asked = settings.cache().content();
        ResponseCacheSettings askedResponses = settings.cache().responses();
        boolean contentHeld = content != null && content.maxBytes() != asked.maxBytes();
        boolean responsesHeld = responses != null && responses.maxBytes() != askedResponses.maxBytes();
        if (!contentHeld && !responsesHeld) {
            return null;
        }
        StringBuilder held = new StringBuilder();
        if (contentHeld) {
            held.append("edge.cache.content.max-bytes ").append(mib(asked.maxBytes())).append(" held to ")
                    .append(mib(content.maxBytes()));
        }
        if (responsesHeld) {
            held.append(contentHeld ? " and " : "").append("edge.cache.responses.max-bytes ")
                    .append(mib(askedResponses.maxBytes())).append(" held to ")
                    .append(mib(responses.maxBytes()));
        }
        return held.append(": the JVM's direct memory limit is ").append(mib(directLimit))
                .append(" (-XX:MaxDirectMemorySize, else -Xmx), and half of it stays for requests, files and backends'"
                        + " answers; raise it (EDGE_JAVA_OPTS=-XX:MaxDirectMemorySize=...) to keep them").toString();
    }
}
