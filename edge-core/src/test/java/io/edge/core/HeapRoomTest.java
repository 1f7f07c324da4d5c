package io.edge.core;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** How many client connections the heap leaves room for when each holds a whole request head not yet answered. */
class HeapRoomTest {

    @Test
    void aSmallHeapHoldsMaxConnectionsToWhatWholeHeadsLeaveRoomFor() {
        // -Xmx256m: 7 000 clients sending 16 KiB heads slowly filled it for good; 3 500 left its old generation at 79 %
        assertThat(EdgeServer.heapRoomFor(256L << 20, 16 * 1024)).isBetween(3000, 3500);
        // the default heap of a 4 GiB machine (a quarter) keeps the default 10000
        assertThat(EdgeServer.heapRoomFor(1L << 30, 16 * 1024)).isGreaterThanOrEqualTo(10_000);
        assertThat(EdgeServer.heapRoomFor(256L << 20, 64 * 1024)).as("larger heads, fewer")
                .isLessThan(EdgeServer.heapRoomFor(256L << 20, 16 * 1024));
        assertThat(EdgeServer.heapRoomFor(1L << 20, 1 << 20)).as("at least one").isEqualTo(1);
    }
}
