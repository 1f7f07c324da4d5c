package io.edge.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.conf.ConfigLoader;
import io.edge.core.fastcgi.FastCgiResponder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Where large request bodies are spooled: never into a directory someone else made at a name edge would use. */
class SpoolDirTest {

    @TempDir
    Path dir;

    @Test
    void thePlaceholderOfATemporaryRunDirNeverMadeIsNoSpoolDirEvenIfSomeoneMadeIt() throws Exception {
        String tmp = System.getProperty("java.io.tmpdir");
        System.setProperty("java.io.tmpdir", dir.toString()); // the placeholder is named after it
        try {
            Path placeholder = Files.createDirectory(dir.resolve("edge-" + "0".repeat(20))); // another user's doing
            assertThat(ConfigLoader.isTemporaryRunDirPlaceholder(placeholder)).as("the name settings carry").isTrue();
            assertThat(Edge.spoolDir(placeholder)).isEqualTo(FastCgiResponder.DEFAULT_SPOOL_DIR);
        } finally {
            System.setProperty("java.io.tmpdir", tmp);
        }
    }

    @Test
    void aConfiguredRunDirIsTheSpoolDirAndIsMadeIfMissing() {
        Path run = dir.resolve("run");
        assertThat(Edge.spoolDir(run)).isEqualTo(run);
        assertThat(run).isDirectory();
    }
}
