package io.edge.conf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.tuple;

import io.edge.cache.ContentCacheSettings;
import io.edge.cache.ResponseCacheSettings;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** edge.cache and a location's cache flag onto CacheSettings, the cache module's records and LocationSettings. */
class CacheConfigTest {

    @TempDir
    Path dir;

    private Path write(String body) throws Exception {
        return EdgeConfFile.write(dir, body);
    }

    @Test
    void defaultsComeFromReferenceConf() throws Exception {
        EdgeSettings settings = new ConfigLoader().load(write("sites = [{ root = www }]"));
        assertThat(settings.cache()).isEqualTo(CacheSettings.defaults());
        assertThat(settings.cache().purgeAllow()).containsExactly(AddressRange.of(InetAddress.getByName("127.0.0.1")),
                AddressRange.of(InetAddress.getByName("::1")));
        assertThat(settings.sites().get(0).locations().get(0).cache()).isFalse();
    }

    @Test
    void everyKeyMapsOntoTheSettingsRecords() throws Exception {
        EdgeSettings settings = new ConfigLoader().load(write("""
                sites = [{ root = www, locations = [{ match = "/", fastcgi = php, cache = true }] }]
                fastcgi.backends.php { addresses = ["127.0.0.1:9000"] }
                cache {
                  content { enabled = true, max-bytes = 1 MiB, max-file-size = 8 KiB, revalidate = 250 ms }
                  responses {
                    max-bytes = 2 MiB, max-object-size = 100 KiB, store-set-cookie = true, coalesce-timeout = 3 s
                    hit-for-miss = 30 s
                    stale-grace = 5 m, bypass-cookies = [PHPSESSID, " wp_session "], honour-client-no-cache = true
                    purge-allow = ["10.0.0.7"], purge-marks-stale = true
                    valid { 200 = 10 m, 404 = 1 m, any = 5 s }, stale-while-updating = 30 s
                  }
                }
                """));
        CacheSettings cache = settings.cache();
        assertThat(cache.content()).isEqualTo(new ContentCacheSettings(1 << 20, 8 << 10, Duration.ofMillis(250)));
        assertThat(cache.responses()).isEqualTo(new ResponseCacheSettings(2 << 20, 100 << 10, true,
                Duration.ofSeconds(3), Duration.ofSeconds(30), Duration.ofMinutes(5), List.of("PHPSESSID", "wp_session"), true,
                Duration.ofSeconds(30), Map.of(200, Duration.ofMinutes(10), 404, Duration.ofMinutes(1), 0, Duration.ofSeconds(5))));
        assertThat(cache.purgeAllow()).containsExactly(AddressRange.of(InetAddress.getByName("10.0.0.7")));
        assertThat(cache.purgeMarksStale()).isTrue();
        assertThat(settings.sites().get(0).locations().get(0).cache()).isTrue();
    }

    @Test
    void contentCacheCanBeTurnedOff() throws Exception {
        EdgeSettings settings = new ConfigLoader().load(write("""
                sites = [{ root = www }]
                cache.content.enabled = false
                """));
        assertThat(settings.cache().content()).isNull();
    }

    @Test
    void badValuesAreReportedTogetherWithTheirKeys() throws Exception {
        Path file = write("""
                sites = [{ root = www, locations = [{ match = "/", cache = true }] }]
                cache.content.max-file-size = 3 GiB
                cache.responses.coalesce-timeout = "3 parsecs"
                cache.responses.purge-allow = ["localhost"]
                cache.responses.bypass-cookies = ["a=b", "wordpress_logged_in_*", "wp*x", "wp session", "a,b"]
                cache.responses.max-bytes = -1
                cache.responses.valid { 200 = 0 s, 304 = 1 m, "20" = 1 m, any = soon }
                """);
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(file));
        assertThat(e).isNotNull();
        assertThat(e.problems()).extracting(ConfigProblem::key, ConfigProblem::line).containsExactlyInAnyOrder(
                tuple("edge.sites[0].locations[0].cache", 2),
                tuple("edge.cache.content.max-file-size", 3),
                tuple("edge.cache.responses.coalesce-timeout", 4),
                tuple("edge.cache.responses.purge-allow[0]", 5),
                tuple("edge.cache.responses.bypass-cookies[0]", 6),
                tuple("edge.cache.responses.bypass-cookies[2]", 6),
                tuple("edge.cache.responses.bypass-cookies[3]", 6),
                tuple("edge.cache.responses.bypass-cookies[4]", 6),
                tuple("edge.cache.responses.max-bytes", 7),
                tuple("edge.cache.responses.valid.200", 8),
                tuple("edge.cache.responses.valid.304", 8),
                tuple("edge.cache.responses.valid.20", 8),
                tuple("edge.cache.responses.valid.any", 8));
        assertThat(e.problems()).filteredOn(p -> p.key().endsWith("coalesce-timeout")).singleElement()
                .satisfies(p -> assertThat(p.message()).isEqualTo("\"3 parsecs\" is not a duration"));
        assertThat(e.problems()).filteredOn(p -> p.key().endsWith("bypass-cookies[2]")).singleElement()
                .satisfies(p -> assertThat(p.message()).isEqualTo("\"wp*x\" has a * before its end"));
        assertThat(e.problems()).filteredOn(p -> p.key().endsWith("purge-allow[0]")).singleElement()
                .satisfies(p -> assertThat(p.message()).isEqualTo("\"localhost\" is not an IP address"));
        assertThat(e.problems()).filteredOn(p -> p.key().endsWith("cache")).singleElement()
                .satisfies(p -> assertThat(p.message())
                        .isEqualTo("true needs a fastcgi or proxy backend in the same location"));
    }

    /** nginx's proxy_cache: a proxied location takes cache = true as a FastCGI one does. */
    @Test
    void aProxiedLocationMayCache() throws Exception {
        EdgeSettings settings = new ConfigLoader().load(write("""
                proxy.backends.api { addresses = ["127.0.0.1:3000"] }
                sites = [{ root = www, locations = [{ match = "/api/", proxy = api, cache = true }] }]
                """));
        LocationSettings location = settings.sites().get(0).locations().get(0);
        assertThat(location.handler()).isEqualTo(LocationSettings.Handler.PROXY);
        assertThat(location.cache()).isTrue();
    }
}
