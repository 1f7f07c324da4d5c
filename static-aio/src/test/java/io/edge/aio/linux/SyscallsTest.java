package io.edge.aio.linux;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SyscallsTest {

    @TempDir
    Path dir;

    @Test
    void aPathsFileSystemIsTheOneItsOpenDescriptorIsOn() throws Exception {
        Path file = Files.writeString(dir.resolve("a"), "abc");
        int fd = Syscalls.openDirectoryPath(dir.toString());
        assertThat(fd).isNotNegative();
        try {
            long type = Syscalls.fileSystemType(fd);
            assertThat(type).isPositive();
            assertThat(Syscalls.fileSystemType(file.toString())).isEqualTo(type);
        } finally {
            Syscalls.closeQuietly(fd);
        }
        assertThat(Syscalls.fileSystemType(dir.resolve("missing").toString())).as("-ENOENT").isEqualTo(-2);
    }
}
