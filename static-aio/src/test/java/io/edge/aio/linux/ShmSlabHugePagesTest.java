package io.edge.aio.linux;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A slab on a tmpfs that backs files with huge pages does not keep bytes being sent: punching a range a socket still
 * holds zeroes it in place (found so: on a huge=always /dev/shm most bodies went out as zeros). The engine is told
 * why before it uses one, and reads by the thread pool instead.
 */
class ShmSlabHugePagesTest {

    private static final Path SHM = Path.of("/dev/shm");
    private static final List<String> NOT_FORCED = List.of("always within_size advise [never] deny force\n",
            "always inherit within_size advise [never]\n");

    @Test
    void aTmpfsMountedWithHugePagesIsRefusedWithItsOption() {
        String mounts = """
                proc /proc proc rw,nosuid 0 0
                tmpfs /dev/shm tmpfs rw,relatime,size=1024k 0 0
                tmpfs /dev/shm tmpfs rw,relatime,huge=within_size 0 0
                """;
        assertThat(ShmSlab.hugePageCause(SHM, mounts, NOT_FORCED)).as("the last mount of the point is the one seen")
                .startsWith("the tmpfs at /dev/shm is mounted huge=within_size");
        assertThat(ShmSlab.hugePageCause(SHM, mounts.replace("within_size", "always"), NOT_FORCED))
                .contains("huge=always");
    }

    @Test
    void aTmpfsWithoutHugePagesOrAnotherFileSystemIsFine() {
        assertThat(ShmSlab.hugePageCause(SHM, "tmpfs /dev/shm tmpfs rw,huge=never 0 0\n", NOT_FORCED)).isNull();
        assertThat(ShmSlab.hugePageCause(SHM, "tmpfs /dev/shm tmpfs rw,huge=advise 0 0\n", NOT_FORCED))
                .as("huge pages only where asked for: the slab never asks").isNull();
        assertThat(ShmSlab.hugePageCause(Path.of("/srv/slab dir"),
                "tmpfs /dev/shm tmpfs rw,huge=always 0 0\next4 /srv/slab\\040dir ext4 rw 0 0\n", NOT_FORCED))
                .as("the nearest mount, its name unescaped").isNull();
    }

    @Test
    void hugePagesForcedOnAllShmemAreRefused() {
        assertThat(ShmSlab.hugePageCause(SHM, "tmpfs /dev/shm tmpfs rw 0 0\n",
                List.of("always within_size advise never deny [force]\n"))).contains("forced");
    }
}
