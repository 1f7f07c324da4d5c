package io.edge.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.conf.ConfigLoader;
import io.edge.conf.EdgeSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The caches held under the direct memory limit: half of it for those in use, each in proportion. */
class CacheMemoryTest {

    private static final long MIB = 1 << 20;

    @TempDir
    Path dir;

    private EdgeSettings settings(String cache, boolean responsesUsed) throws Exception {
        Files.createDirectories(dir.resolve("www"));
        Path file = dir.resolve("edge.conf");
        Files.writeString(file, "edge { cache { " + cache + " }\n sites = [{ root = www, locations = [{ match = \"/\","
                + " fastcgi = php, cache = " + responsesUsed + " }] }]\n"
                + " fastcgi.backends.php.addresses = [\"127.0.0.1:9000\"] }\n");
        return new ConfigLoader().load(file);
    }

    @Test
    void theCachesInUseShareHalfOfTheLimitInProportion() throws Exception {
        EdgeSettings both = settings("content.max-bytes = 96 MiB, responses.max-bytes = 32 MiB", true);
        CacheMemory held = CacheMemory.held(both, 64 * MIB);
        assertThat(held.content().maxBytes()).isEqualTo(24 * MIB);
        assertThat(held.responses().maxBytes()).isEqualTo(8 * MIB);
        assertThat(held.content().maxFileSize()).isEqualTo(both.cache().content().maxFileSize());
        assertThat(held.responses().coalesceTimeout()).isEqualTo(both.cache().responses().coalesceTimeout());
        assertThat(held.heldMessage(both, 64 * MIB)).isEqualTo("edge.cache.content.max-bytes 96 MiB held to 24 MiB and "
                + "edge.cache.responses.max-bytes 32 MiB held to 8 MiB: the JVM's direct memory limit is 64 MiB "
                + "(-XX:MaxDirectMemorySize, else -Xmx), and half of it stays for requests, files and backends' answers;"
                + " raise it (EDGE_JAVA_OPTS=-XX:MaxDirectMemorySize=...) to keep them");
    }

    @Test
    void aCacheNotInUseLeavesTheShareToTheOther() throws Exception {
        EdgeSettings contentOnly = settings("content.max-bytes = 96 MiB, responses.max-bytes = 256 MiB", false);
        CacheMemory held = CacheMemory.held(contentOnly, 200 * MIB);
        assertThat(held.responses()).isNull();
        assertThat(held.content()).isEqualTo(contentOnly.cache().content());
        assertThat(held.heldMessage(contentOnly, 200 * MIB)).isNull();

        EdgeSettings responsesOnly = settings("content.max-bytes = 0, responses.max-bytes = 256 MiB", true);
        CacheMemory heldResponses = CacheMemory.held(responsesOnly, 100 * MIB);
        assertThat(heldResponses.content()).isNull();
        assertThat(heldResponses.responses().maxBytes()).isEqualTo(50 * MIB);
        assertThat(heldResponses.heldMessage(responsesOnly, 100 * MIB))
                .startsWith("edge.cache.responses.max-bytes 256 MiB held to 50 MiB: ");
    }

    @Test
    void cachesWithinHalfOfTheLimitAreLeftAsConfigured() throws Exception {
        EdgeSettings both = settings("content.max-bytes = 100 MiB, responses.max-bytes = 28 MiB", true);
        CacheMemory held = CacheMemory.held(both, 256 * MIB);
        assertThat(held.content()).isEqualTo(both.cache().content());
        assertThat(held.responses()).isEqualTo(both.cache().responses());
        assertThat(held.heldMessage(both, 256 * MIB)).isNull();
        assertThat(CacheMemory.held(both, Long.MAX_VALUE).content()).isEqualTo(both.cache().content());
    }
}
