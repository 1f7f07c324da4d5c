package io.edge.aio.linux;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LinuxAioTest {

    @TempDir
    Path dir;

    /**
     * The kernel hands a batch of completions over once: a handler that throws on one of them still gets the rest,
     * whose slots, buffers and files would otherwise stay taken for good (the static-aio review).
     */
    @Test
    void aHandlerThatThrowsLosesNoOtherCompletionOfItsBatch() throws Exception {
        Path file = Files.writeString(dir.resolve("f"), "0123456789");
        int fd = Syscalls.openRaw(file.toString(), true);
        int eventFd = Syscalls.eventfd(0, 0);
        Memory buffers = new Memory(8192);
        try (LinuxAio aio = LinuxAio.create(2, 2)) {
            aio.prepareRead(0, fd, Pointer.nativeValue(buffers), 4, 0, eventFd, false);
            aio.prepareRead(1, fd, Pointer.nativeValue(buffers) + 4096, 4, 4, eventFd, false);
            assertThat(aio.submit((userData, result) -> { })).isEqualTo(2);
            List<Long> handled = new ArrayList<>();
            for (int i = 0; i < 500 && handled.size() < 2; i++) { // a bound: buffered reads end at once
                aio.drain((userData, result) -> {
                    handled.add(userData);
                    assertThat(result).isEqualTo(4);
                    if (handled.size() == 1) {
                        throw new IllegalStateException("a handler's own failure");
                    }
                });
                Thread.sleep(10);
            }
            assertThat(handled).containsExactlyInAnyOrder(0L, 1L);
        } finally {
            Syscalls.closeQuietly(eventFd);
            Syscalls.closeQuietly(fd);
        }
    }
}
