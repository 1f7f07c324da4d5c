package io.edge.conf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A site's root reached through a symbolic link under {@code symlinks = deny}: every request below it is 404 (nginx's
 * disable_symlinks on without from=$document_root), said at load as a warning with file, line and key, where nginx -t
 * says nothing.
 */
class LinkedRootConfigTest {

    @TempDir
    Path dir;

    @Test
    void aRootReachedThroughALinkUnderDenyIsAWarning() throws Exception {
        Files.createDirectories(dir.resolve("releases/42"));
        Files.createSymbolicLink(dir.resolve("current"), dir.resolve("releases"));
        Files.createSymbolicLink(dir.resolve("www-link"), dir.resolve("www"));
        EdgeSettings settings = EdgeConfFile.load(dir, """
                sites = [
                  { server-names = [a], root = current/42, symlinks = deny }
                  { server-names = [b], root = www-link, symlinks = deny }
                  { server-names = [c], root = www-link }
                  { server-names = [d], root = www, symlinks = deny }
                ]
                """);
        assertThat(settings.warnings()).extracting(ConfigProblem::line, ConfigProblem::key).containsExactly(
                tuple(3, "edge.sites[0].root"), tuple(4, "edge.sites[1].root"));
        assertThat(settings.warnings().get(0).message()).isEqualTo(dir.resolve("current/42") + " is reached through a"
                + " symbolic link (its real path is " + dir.resolve("releases/42").toRealPath() + "), which symlinks ="
                + " deny does not follow: every request below it is answered 404, as nginx's disable_symlinks on"
                + " answers it (edge has no from=$document_root); write its real path, or symlinks = within-root");
    }
}
