package io.edge.aio.linux;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
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

    /**
     * A file opened to serve is opened with O_NOATIME: a read leaves its access time as it was, where a read through
     * an open without it moves it (relatime: the atime was older than the mtime).
     */
    @Test
    void aFileOpenedToServeIsReadWithoutUpdatingItsAccessTime() throws Exception {
        Path file = Files.write(dir.resolve("thumb.jpg"), new byte[4096]);
        FileTime before = FileTime.from(Instant.now().minus(Duration.ofHours(2)));
        for (boolean toServe : new boolean[] {true, false}) {
            Files.getFileAttributeView(file, BasicFileAttributeView.class).setTimes(
                    FileTime.from(Instant.now().minus(Duration.ofHours(1))), before, null);
            int fd = toServe ? Syscalls.openat2File(-100, file.toString(), true, 0)
                    : Syscalls.openat2ReadOnly(-100, file.toString(), true, 0);
            assertThat(fd).isNotNegative();
            Memory buffer = new Memory(4096);
            try {
                assertThat(Syscalls.pread(fd, Pointer.nativeValue(buffer), 4096, 0)).isEqualTo(4096);
            } finally {
                Syscalls.closeQuietly(fd);
            }
            FileTime after = Files.readAttributes(file, BasicFileAttributes.class).lastAccessTime();
            if (toServe) {
                assertThat(after).as("O_NOATIME").isEqualTo(before);
            } else {
                assertThat(after).as("without it, on this relatime mount").isGreaterThan(before);
            }
        }
    }

    /**
     * Where the kernel refuses O_NOATIME (EPERM: a file another user owns, no CAP_FOWNER), the open is made again
     * without it, and later opens no longer ask for it; an EPERM the second open gets too was not the bit's.
     */
    @Test
    void anOpenRefusedForItsNoAtimeIsMadeAgainWithoutAndTheBitIsNotAskedForAgain() {
        try {
            List<Integer> asked = new ArrayList<>();
            assertThat(Syscalls.withNoAtime(flag -> {
                asked.add(flag);
                return -Syscalls.EPERM; // an EPERM of another cause: both opens get it
            })).isEqualTo(-Syscalls.EPERM);
            assertThat(asked).containsExactly(Syscalls.O_NOATIME, 0);
            assertThat(Syscalls.noAtimeFlag()).as("not the bit's refusal").isEqualTo(Syscalls.O_NOATIME);

            asked.clear();
            assertThat(Syscalls.withNoAtime(flag -> {
                asked.add(flag);
                return flag != 0 ? -Syscalls.EPERM : 7;
            })).isEqualTo(7);
            assertThat(asked).containsExactly(Syscalls.O_NOATIME, 0);
            assertThat(Syscalls.noAtimeFlag()).isZero();

            asked.clear();
            assertThat(Syscalls.withNoAtime(flag -> {
                asked.add(flag);
                return 8;
            })).isEqualTo(8);
            assertThat(asked).as("asked without it from then on").containsExactly(0);
        } finally {
            Syscalls.resetNoAtime();
        }
    }

    /** A link anywhere on the way, the last component too, is ELOOP; a path with none, 0; a missing one, ENOENT. */
    @Test
    void aPathIsReachedWithNoLinkUnlessALinkIsOnTheWay() throws Exception {
        Path real = dir.toRealPath();
        Path file = Files.writeString(Files.createDirectories(real.resolve("d/e")).resolve("f.txt"), "f");
        Path linkedDirectory = Files.createSymbolicLink(real.resolve("l"), real.resolve("d"));
        Path linkedFile = Files.createSymbolicLink(real.resolve("d/e/g.txt"), file);
        assertThat(Syscalls.reachedWithNoLink(file.toString())).isZero();
        assertThat(Syscalls.reachedWithNoLink(real.resolve("d/e").toString())).as("a directory").isZero();
        assertThat(Syscalls.reachedWithNoLink(linkedDirectory.resolve("e/f.txt").toString())).as("a directory link")
                .isEqualTo(-Syscalls.ELOOP);
        assertThat(Syscalls.reachedWithNoLink(linkedFile.toString())).as("the file a link").isEqualTo(-Syscalls.ELOOP);
        assertThat(Syscalls.reachedWithNoLink(real.resolve("d/missing").toString())).isEqualTo(-Syscalls.ENOENT);
    }

    @Test
    void aNoWaitReadCopiesCachedPages() throws Exception {
        Path file = Files.write(dir.resolve("f"), "cached".repeat(2048).getBytes(StandardCharsets.US_ASCII));
        int fd = Syscalls.openat2ReadOnly(-100, file.toString(), true, 0);
        assertThat(fd).isNotNegative();
        Memory buffer = new Memory(12288);
        try {
            long type = Syscalls.fileSystemType(fd);
            long cached = Syscalls.preadv2(fd, Pointer.nativeValue(buffer), 12288, 0, Syscalls.RWF_NOWAIT);
            if (type == FileSystems.TMPFS) {
                assertThat(cached).as("tmpfs refuses the flag").isEqualTo(-Syscalls.EOPNOTSUPP);
                return;
            }
            // A page only on disk answers EAGAIN, unless the read the call starts is done before it looks again
            // (this disk is cached by the host): not something a test can pin down, so only cached pages here.
            assertThat(cached).as(FileSystems.describe(type)).isEqualTo(12288);
            assertThat(new String(buffer.getByteArray(12282, 6), StandardCharsets.US_ASCII)).isEqualTo("cached");
        } finally {
            Syscalls.closeQuietly(fd);
        }
    }

    /** The fields read out of {@code struct statx} are the ones the JDK's {@code stat} reports. */
    @Test
    void statxTellsWhatTheJdksStatTells() throws Exception {
        Path file = Files.writeString(dir.resolve("s"), "statx");
        FileStatus status = Syscalls.stat(file.toString(), true);
        Map<String, Object> jdk = Files.readAttributes(file, "unix:ino,size,lastModifiedTime,ctime");
        assertThat(status.inode()).isEqualTo(jdk.get("ino"));
        assertThat(status.size()).isEqualTo(jdk.get("size"));
        assertThat(status.mtimeMillis()).isEqualTo(((FileTime) jdk.get("lastModifiedTime")).toMillis());
        assertThat(status.ctimeNanos()).isEqualTo(((FileTime) jdk.get("ctime")).to(TimeUnit.NANOSECONDS));
    }

    @Test
    void filesOfOneMountShareAFileSystemAndAnotherMountIsAnother() throws Exception {
        FileStatus a = Syscalls.stat(Files.writeString(dir.resolve("a"), "a").toString(), true);
        FileStatus b = Syscalls.stat(Files.writeString(dir.resolve("b"), "b").toString(), true);
        Path shm = Files.createTempFile(Path.of("/dev/shm"), "edge-mount-", ".txt");
        try {
            FileStatus inMemory = Syscalls.stat(shm.toString(), true);
            assertThat(a.mount()).as("statx unique mount id (Linux 6.8+)").isNotZero();
            assertThat(a.fileKey().fileSystem()).isEqualTo(b.fileKey().fileSystem());
            assertThat(inMemory.fileKey().fileSystem()).isNotEqualTo(a.fileKey().fileSystem());
        } finally {
            Files.deleteIfExists(shm);
        }
    }

    @Test
    void aFileSystemMountedAgainIsAnotherOneThoughItMayGetTheSameDeviceNumber() throws Exception {
        Path point = Files.createDirectory(dir.resolve("point"));
        FileStatus first = statOnFreshTmpfs(point);
        FileStatus second = statOnFreshTmpfs(point);
        // tmpfs takes an anonymous device number, freed at unmount and usually handed to the next mount (a FUSE
        // one as well): what engines learn about a file system is keyed by the mount, which is never reused.
        assertThat(second.fileKey().fileSystem()).isNotEqualTo(first.fileKey().fileSystem());
    }

    /** Mounts a tmpfs on {@code point}, stats a file on it, unmounts it. Needs root (as CI runs). */
    private static FileStatus statOnFreshTmpfs(Path point) throws Exception {
        run("mount", "-t", "tmpfs", "-o", "size=64k", "edge-test", point.toString());
        try {
            return Syscalls.stat(Files.writeString(point.resolve("f"), "f").toString(), true);
        } finally {
            run("umount", point.toString());
        }
    }

    private static void run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(String.join(" ", command) + ": " + output).isZero();
    }

    /**
     * The descriptor limit, as the JDK words EMFILE and ENFILE, is told from other failures (a full disk): a request
     * body's spool file refused for it is answered 503 with Retry-After, a condition that passes, where it was a 500
     * (the resource audit: 49 uploads 500 under ulimit -n 256).
     */
    @Test
    void theDescriptorLimitIsToldFromOtherFailures() {
        assertThat(Syscalls.isOutOfDescriptors(new FileSystemException("/tmp/edge-body", null, "Too many open files")))
                .isTrue();
        assertThat(Syscalls.isOutOfDescriptors(new IOException("spool",
                new FileSystemException("/tmp/edge-body", null, "Too many open files in system")))).isTrue();
        assertThat(Syscalls.isOutOfDescriptors(new FileSystemException("/tmp/edge-body", null,
                "No space left on device"))).isFalse();
        assertThat(Syscalls.isOutOfDescriptors(new IOException((String) null))).isFalse();
    }
}
