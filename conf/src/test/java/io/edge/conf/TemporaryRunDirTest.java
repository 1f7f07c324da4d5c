package io.edge.conf;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Temporary run directories left by an edge that was killed go at the next start; those of a live edge, and anything
 * not marked as edge's, stay.
 */
class TemporaryRunDirTest {

    @TempDir
    Path tmp;

    /** A pid no process can have: above the kernel's limit. */
    static long impossiblePid() throws Exception {
        return Long.parseLong(Files.readString(Path.of("/proc/sys/kernel/pid_max")).strip()) + 1;
    }

    private Path runDir(String name, String marker) throws Exception {
        Path dir = Files.createDirectory(tmp.resolve(name));
        Files.createDirectories(dir.resolve("php"));
        Files.writeString(dir.resolve("php/php-fpm.conf"), "[global]\n");
        if (marker != null) {
            Files.writeString(dir.resolve(TemporaryRunDir.MARKER), marker);
        }
        return dir;
    }

    @Test
    void theRunDirsOfGoneProcessesAreRemovedAndNothingElse() throws Exception {
        long self = ProcessHandle.current().pid();
        String ns = TemporaryRunDir.pidNamespace();
        Path dead = runDir("edge-1111", impossiblePid() + " 12345 " + ns + "\n");
        String live = TemporaryRunDir.marker(self);
        long start = Long.parseLong(live.strip().split(" ")[1]);
        Path reused = runDir("edge-2222", self + " " + (start + 1) + " " + ns + "\n"); // this pid, another's start
        // an edge in another pid namespace (a container sharing this /tmp): its pid means nothing here
        Path otherNamespace = runDir("edge-7777", impossiblePid() + " 12345 pid:[1]\n");
        Path unknownStart = runDir("edge-8888", impossiblePid() + " - " + ns + "\n"); // written without /proc
        Path oldFormat = runDir("edge-9999", impossiblePid() + " 12345\n");
        Path alive = runDir("edge-3333", live);
        Path unmarked = runDir("edge-4444", null);
        Path garbled = runDir("edge-5555", "not a pid\n");
        Path otherName = runDir("edge-run", impossiblePid() + " 1\n");
        Path target = runDir("elsewhere", impossiblePid() + " 1\n");
        Path link = Files.createSymbolicLink(tmp.resolve("edge-6666"), target);
        Path outside = Files.writeString(tmp.resolve("outside"), "keep");
        Files.createSymbolicLink(dead.resolve("php/link"), outside);

        assertThat(TemporaryRunDir.removeStale(tmp)).containsExactlyInAnyOrder(dead, reused);

        assertThat(dead).doesNotExist();
        assertThat(reused).doesNotExist();
        assertThat(alive.resolve("php/php-fpm.conf")).exists();
        assertThat(unmarked.resolve("php/php-fpm.conf")).exists();
        assertThat(garbled.resolve("php/php-fpm.conf")).exists();
        assertThat(otherNamespace.resolve("php/php-fpm.conf")).exists();
        assertThat(unknownStart.resolve("php/php-fpm.conf")).exists();
        assertThat(oldFormat.resolve("php/php-fpm.conf")).exists();
        assertThat(otherName.resolve("php/php-fpm.conf")).exists();
        assertThat(link).isSymbolicLink();
        assertThat(target.resolve("php/php-fpm.conf")).as("a link is never followed").exists();
        assertThat(outside).as("a link inside is removed, not followed").hasContent("keep");
    }

    @Test
    void aNewRunDirIsMarkedAsThisProcesssAndKept() throws Exception {
        Path dir = TemporaryRunDir.create(tmp);
        assertThat(dir.getFileName().toString()).matches("edge-[0-9]+");
        assertThat(dir.resolve(TemporaryRunDir.MARKER)).content()
                .startsWith(ProcessHandle.current().pid() + " ").endsWith(" " + TemporaryRunDir.pidNamespace() + "\n");
        assertThat(TemporaryRunDir.removeStale(tmp)).isEmpty();
        assertThat(dir).isDirectory();
    }

    @Test
    void deletingATreeRemovesLinksWithoutFollowingThemAndAGoneTreeIsFine() throws Exception {
        Path outside = Files.createDirectory(tmp.resolve("outside"));
        Files.writeString(outside.resolve("keep.txt"), "kept");
        Path dir = runDir("edge-2222", TemporaryRunDir.marker(ProcessHandle.current().pid()));
        Files.createSymbolicLink(dir.resolve("php/out"), outside);
        Files.createSymbolicLink(dir.resolve("file-link"), outside.resolve("keep.txt"));
        Path groupDir = runDir("php.2", null); // a reload's <group>.<n> run directory has no marker

        TemporaryRunDir.deleteTree(dir);
        TemporaryRunDir.deleteTree(groupDir);

        assertThat(dir).doesNotExist();
        assertThat(groupDir).doesNotExist();
        assertThat(outside.resolve("keep.txt")).content().isEqualTo("kept");
        TemporaryRunDir.deleteTree(dir); // a second stop
    }
}
