package io.edge.conf;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The check that {@code server.access-log} can be opened for appending, as the start opens it. */
class AccessLogCheckTest {

    @TempDir
    Path dir;

    /**
     * Two checks of one configuration at once (two {@code --check-config}, a deploy's beside an {@code edge -s reload})
     * whose access log is not there yet: each makes the file to see that it can, and removes it again. One found the
     * file the other had made, opened it as an existing log, and found it gone by then: "cannot open ... for
     * appending (No such file or directory)", exit 2 for a good configuration.
     */
    @Test
    void twoChecksAtOnceOfALogNotThereYetBothPass() throws Exception {
        Path log = dir.resolve("access.log");
        ExecutorService checks = Executors.newFixedThreadPool(2);
        try {
            Callable<List<String>> check = () -> {
                List<String> refused = new ArrayList<>();
                for (int i = 0; i < 5_000; i++) {
                    String why = SettingsMapper.appendRefused(log);
                    if (why != null) {
                        refused.add(why);
                    }
                }
                return refused;
            };
            Future<List<String>> one = checks.submit(check);
            Future<List<String>> other = checks.submit(check);
            assertThat(one.get()).isEmpty();
            assertThat(other.get()).isEmpty();
        } finally {
            checks.shutdownNow();
        }
        assertThat(Files.exists(log)).as("each check removes the file it made").isFalse();
    }
}
