package io.edge.fastcgi.spawn;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StartupLogTest {

    @TempDir
    Path dir;

    @Test
    void relaysEachWarningAndErrorOnceFromWhereThePhpFpmBeganWholeLinesOnly() throws Exception {
        Path log = dir.resolve("php-fpm.log");
        Files.writeString(log, "[05-Dec-2026 19:00:00] WARNING: an earlier php-fpm's\n");
        long start = Files.size(log);
        Files.writeString(log, """
                [05-Dec-2026 19:17:30] NOTICE: fpm is running, pid 30095
                [05-Dec-2026 19:17:30] WARNING: [pool php] pm.start_servers is not set
                NOTICE: PHP message: PHP Warning:  Unknown: Unable to load dynamic library 'nope.so'
                NOTICE: PHP message: PHP Warning:  Unknown: Unable to load dynamic library 'nope.so'
                a script's own output
                [05-Dec-2026 19:17:31] ERROR: half a li""", StandardOpenOption.APPEND);
        List<String> warned = new ArrayList<>();
        StartupLog startup = new StartupLog("php", log, start, warned::add);

        assertThat(startup.poll(false)).isTrue();
        assertThat(warned).containsExactly(
                "php-fpm for group php: WARNING: [pool php] pm.start_servers is not set",
                "php-fpm for group php: PHP Warning:  Unknown: Unable to load dynamic library 'nope.so'");

        Files.writeString(log, "ne\n", StandardOpenOption.APPEND);
        assertThat(startup.poll(true)).isFalse();
        assertThat(warned).hasSize(3).last().isEqualTo("php-fpm for group php: ERROR: half a line");
    }

    @Test
    void relaysAtMostMaxLinesThenSaysWhereTheRestAre() throws Exception {
        Path log = dir.resolve("php-fpm.log");
        StringBuilder lines = new StringBuilder();
        for (int i = 0; i < StartupLog.MAX_LINES + 5; i++) {
            lines.append("ALERT: number ").append(i).append('\n');
        }
        Files.writeString(log, lines);
        List<String> warned = new ArrayList<>();

        assertThat(new StartupLog("php", log, 0, warned::add).poll(false)).isFalse();
        assertThat(warned).hasSize(StartupLog.MAX_LINES + 1)
                .last().isEqualTo("php-fpm for group php: more warnings as it started, in " + log);
    }
}
