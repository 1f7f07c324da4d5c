package io.edge.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.conf.ConfigLoader;
import io.edge.core.http.CapturedLog;
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

    /** The warning said "java.nio.file.FileSystemException: ...": a class name tells an operator nothing. */
    @Test
    void aRunDirThatCannotBeMadeIsSaidWhyWithoutAClassName() throws Exception {
        Path run = Files.createFile(dir.resolve("file")).resolve("run");
        try (CapturedLog log = CapturedLog.of(Edge.class)) {
            assertThat(Edge.spoolDir(run)).isEqualTo(FastCgiResponder.DEFAULT_SPOOL_DIR);
            assertThat(log.warnings()).singleElement().asString()
                    .startsWith("run-dir " + run + " could not be made (")
                    .contains(run.getParent().toString())
                    .doesNotContain("Exception", "java.");
        }
    }
}
