package io.edge.cache.content;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.cache.ContentCacheSettings;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class DoorkeeperTest {

    @Test
    void aKeyIsSeenOnItsSecondVisit() {
        Doorkeeper d = new Doorkeeper(1000);
        assertThat(d.seenBefore(42)).isFalse();
        assertThat(d.seenBefore(42)).isTrue();
        assertThat(d.seenBefore(43)).isFalse();
    }

    @Test
    void itForgetsAfterAsManyNewKeysAsItWasSizedFor() {
        Doorkeeper d = new Doorkeeper(100);
        assertThat(d.seenBefore(-7)).isFalse();
        for (int i = 0; i < 99; i++) {
            d.seenBefore(i * 7919);
        }
        assertThat(d.seenBefore(-7)).isFalse(); // the 100th insertion started it over
    }

    @Test
    void fewFalsePositivesAtFullLoad() {
        Doorkeeper d = new Doorkeeper(10_000);
        for (int i = 0; i < 9_999; i++) {
            d.seenBefore(i);
        }
        int falsePositives = 0;
        for (int i = 1_000_000; i < 1_001_000; i++) {
            if (d.seenBefore(i)) {
                falsePositives++;
            }
        }
        assertThat(falsePositives).isLessThan(50); // about 1.4 % expected
    }

    @Test
    void theCacheAdmitsAFileOnItsSecondMiss() {
        try (ContentCache cache = new ContentCache(new ContentCacheSettings(1 << 20, 1024, Duration.ofSeconds(1)),
                () -> 0L)) {
            Path a = Path.of("/srv/a.jpg");
            assertThat(cache.admit(a)).isFalse();
            assertThat(cache.admit(a)).isTrue();
        }
    }

    @Test
    void aCacheThatKeepsNothingAdmitsNothing() {
        try (ContentCache cache = new ContentCache(new ContentCacheSettings(1 << 20, 0, Duration.ofSeconds(1)),
                () -> 0L)) {
            Path a = Path.of("/srv/a.jpg");
            cache.admit(a);
            assertThat(cache.admit(a)).isFalse();
        }
    }
}
