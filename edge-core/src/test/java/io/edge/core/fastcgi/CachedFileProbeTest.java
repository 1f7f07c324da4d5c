package io.edge.core.fastcgi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edge.fastcgi.cgi.ScriptResolver.FileProbe;
import io.edge.fastcgi.cgi.ScriptResolver.FileProbe.Kind;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class CachedFileProbeTest {

    private final AtomicLong nanos = new AtomicLong();
    private final Map<Path, Kind> disk = new HashMap<>();
    private final List<Path> looked = new ArrayList<>();
    private final FileProbe fileSystem = path -> {
        looked.add(path);
        return disk.getOrDefault(path, Kind.MISSING);
    };

    @Test
    void aPathIsLookedAtOncePerPeriodAndAChangeIsSeenAfterIt() {
        Path script = Path.of("/www/index.php");
        disk.put(script, Kind.FILE);
        CachedFileProbe probe = new CachedFileProbe(fileSystem, Duration.ofSeconds(1), nanos::get);

        assertThat(probe.kind(script)).isEqualTo(Kind.FILE);
        disk.put(script, Kind.DIRECTORY);
        nanos.addAndGet(Duration.ofMillis(999).toNanos());
        assertThat(probe.kind(script)).isEqualTo(Kind.FILE);
        assertThat(looked).containsExactly(script);

        nanos.addAndGet(Duration.ofMillis(1).toNanos());
        assertThat(probe.kind(script)).isEqualTo(Kind.DIRECTORY);
        assertThat(looked).containsExactly(script, script);
    }

    @Test
    void aMissingPathIsRememberedUntilTheScriptAppearsAndThePeriodEnds() {
        Path late = Path.of("/www/late.php");
        CachedFileProbe probe = new CachedFileProbe(fileSystem, Duration.ofSeconds(1), nanos::get);

        assertThat(probe.kind(late)).isEqualTo(Kind.MISSING);
        disk.put(late, Kind.FILE);
        assertThat(probe.kind(late)).isEqualTo(Kind.MISSING);
        nanos.addAndGet(Duration.ofSeconds(1).toNanos());
        assertThat(probe.kind(late)).isEqualTo(Kind.FILE);
        assertThat(looked).hasSize(2);
    }

    @Test
    void theCachedOnlyViewAnswersWhatIsRememberedAndNeverLooks() {
        Path script = Path.of("/www/index.php");
        disk.put(script, Kind.FILE);
        CachedFileProbe probe = new CachedFileProbe(fileSystem, Duration.ofSeconds(1), nanos::get);
        FileProbe onLoop = probe.cachedOnly();

        assertThatThrownBy(() -> onLoop.kind(script)).isInstanceOf(CachedFileProbe.Miss.class);
        assertThat(looked).as("a miss does not look").isEmpty();
        assertThat(probe.kind(script)).isEqualTo(Kind.FILE); // as the probe thread does
        assertThat(onLoop.kind(script)).isEqualTo(Kind.FILE);
        nanos.addAndGet(Duration.ofSeconds(1).toNanos());
        assertThatThrownBy(() -> onLoop.kind(script)).as("forgotten after the period").isInstanceOf(CachedFileProbe.Miss.class);
        assertThat(looked).containsExactly(script);
    }

    @Test
    void withAPeriodOfZeroTheCachedOnlyViewAlwaysMisses() {
        Path script = Path.of("/www/index.php");
        disk.put(script, Kind.FILE);
        CachedFileProbe probe = new CachedFileProbe(fileSystem, Duration.ZERO, nanos::get);
        assertThat(probe.kind(script)).isEqualTo(Kind.FILE);
        assertThatThrownBy(() -> probe.cachedOnly().kind(script)).isInstanceOf(CachedFileProbe.Miss.class);
    }

    @Test
    void pathsAreRememberedEachOnTheirOwn() {
        Path a = Path.of("/www/a.php");
        Path b = Path.of("/www/b");
        disk.put(a, Kind.FILE);
        disk.put(b, Kind.DIRECTORY);
        CachedFileProbe probe = new CachedFileProbe(fileSystem, Duration.ofSeconds(1), nanos::get);

        assertThat(probe.kind(a)).isEqualTo(Kind.FILE);
        assertThat(probe.kind(b)).isEqualTo(Kind.DIRECTORY);
        assertThat(probe.kind(a)).isEqualTo(Kind.FILE);
        assertThat(looked).containsExactly(a, b);
    }

    @Test
    void aPeriodOfZeroLooksEveryTime() {
        Path script = Path.of("/www/index.php");
        disk.put(script, Kind.FILE);
        CachedFileProbe probe = new CachedFileProbe(fileSystem, Duration.ZERO, nanos::get);

        assertThat(probe.kind(script)).isEqualTo(Kind.FILE);
        disk.remove(script);
        assertThat(probe.kind(script)).isEqualTo(Kind.MISSING);
        assertThat(looked).containsExactly(script, script);
    }

    @Test
    void longPathsChosenByRequestsAreBoundedByTheirLength() {
        CachedFileProbe probe = new CachedFileProbe(fileSystem, Duration.ofSeconds(1), nanos::get);
        String segment = "x".repeat(8000);
        for (int i = 0; i < 1000; i++) {
            probe.kind(Path.of("/www/" + i + segment));
        }
        assertThat(probe.size()).isPositive()
                .isLessThanOrEqualTo(CachedFileProbe.MAX_WEIGHT / (8000 + CachedFileProbe.ENTRY_WEIGHT));

        CachedFileProbe scripts = new CachedFileProbe(fileSystem, Duration.ofSeconds(1), nanos::get);
        for (int i = 0; i < 1000; i++) {
            scripts.kind(Path.of("/www/script" + i + ".php"));
        }
        assertThat(scripts.size()).as("a thousand short paths all stay").isEqualTo(1000);
    }
}
