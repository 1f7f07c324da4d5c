package io.edge.core.limit;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** nginx's leaky bucket per client, on a clock the test moves. */
class RequestZoneTest {

    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);

    private final InetAddress client = InetAddress.getLoopbackAddress();

    @Test
    void withoutABurstASecondRequestWithinTheRatesIntervalIsRefused() throws Exception {
        RequestZone zone = new RequestZone(2); // one request each half second
        assertThat(zone.admit(client, 0, 0, 0)).isZero();
        assertThat(zone.admit(client, SECOND / 4, 0, 0)).isEqualTo(RequestZone.REFUSED);
        assertThat(zone.admit(client, SECOND / 2, 0, 0)).as("the refused one counted nothing").isZero();
        assertThat(zone.admit(InetAddress.getByName("192.0.2.1"), SECOND / 2, 0, 0))
                .as("another client has a bucket of its own").isZero();
    }

    @Test
    void aBurstLetsThatManyRequestsPastTheRateWaitOrGoAtOnceWithNodelay() {
        RequestZone delayed = new RequestZone(1);
        assertThat(delayed.admit(client, 0, 2, 0)).isZero();
        assertThat(delayed.admit(client, 0, 2, 0)).as("one past the rate waits a second").isEqualTo(SECOND);
        assertThat(delayed.admit(client, 0, 2, 0)).as("two past it, two seconds").isEqualTo(2 * SECOND);
        assertThat(delayed.admit(client, 0, 2, 0)).as("beyond the burst").isEqualTo(RequestZone.REFUSED);
        assertThat(delayed.admit(client, SECOND, 2, 0)).as("a second drained one").isEqualTo(2 * SECOND);

        RequestZone nodelay = new RequestZone(1);
        for (int i = 0; i < 3; i++) {
            assertThat(nodelay.admit(client, 0, 2, 2)).isZero();
        }
        assertThat(nodelay.admit(client, 0, 2, 2)).isEqualTo(RequestZone.REFUSED);
    }

    @Test
    void aBucketDrainsAtTheRateAsNginxsDoesPartially() {
        RequestZone zone = new RequestZone(1);
        zone.admit(client, 0, 1, 1);
        assertThat(zone.admit(client, 0, 1, 1)).isZero(); // excess 1, the burst full
        assertThat(zone.admit(client, SECOND / 2, 1, 1)).as("half drained: 1.5 is past a burst of 1")
                .isEqualTo(RequestZone.REFUSED);
        assertThat(zone.admit(client, SECOND, 1, 1)).as("one drained: 1 again").isZero();
        assertThat(zone.admit(client, 10 * SECOND, 0, 0)).as("long idle: empty, and this one goes").isZero();
    }

    /**
     * nginx's delay= (burst=5 delay=2 at 1r/s): of 8 requests at once, the one within the rate and the first 2 past it
     * go at once, the next 3 wait for what is past the delay ((excess - delay) / rate), the last 2 are refused: as
     * nginx 1.22 answered them, measured.
     */
    @Test
    void withADelayTheFirstOfTheBurstGoAtOnceAndTheRestWaitForWhatIsPastIt() {
        RequestZone zone = new RequestZone(1);
        long[] waits = new long[8];
        for (int i = 0; i < waits.length; i++) {
            waits[i] = zone.admit(client, 0, 5, 2);
        }
        assertThat(waits).containsExactly(0, 0, 0, SECOND, 2 * SECOND, 3 * SECOND, RequestZone.REFUSED,
                RequestZone.REFUSED);
        assertThat(zone.admit(client, SECOND, 5, 2)).as("a second drained: 5 again, 3 past the delay")
                .isEqualTo(3 * SECOND);
    }

    /** What drained counts: past the delay by half a request, a request waits half the rate's interval. */
    @Test
    void aRequestPastTheDelayByAFractionWaitsForThatFraction() {
        RequestZone zone = new RequestZone(1);
        for (int i = 0; i < 3; i++) {
            assertThat(zone.admit(client, 0, 5, 2)).isZero(); // excess 0, 1, 2: the delay reached
        }
        assertThat(zone.admit(client, SECOND / 2, 5, 2)).as("2 - 0.5 + 1 = 2.5, half a request past the delay")
                .isEqualTo(SECOND / 2);
        assertThat(zone.admit(client, 3 * SECOND, 5, 2)).as("2.5 - 2.5 + 1 = 1, within the delay again").isZero();
    }

    /**
     * The bucket counts a request as nginx's does, whether it went at once or waits: the same requests leave the same
     * excess with every delay, so refusals come alike; only the waits differ.
     */
    @Test
    void aRequestCountsAlikeWhetherItGoesAtOnceOrWaits() {
        RequestZone everyWaits = new RequestZone(1);
        RequestZone twoGo = new RequestZone(1);
        RequestZone nodelay = new RequestZone(1);
        for (int i = 0; i < 6; i++) {
            everyWaits.admit(client, 0, 5, 0);
            twoGo.admit(client, 0, 5, 2);
            nodelay.admit(client, 0, 5, 5);
        }
        assertThat(new long[] {everyWaits.admit(client, 0, 5, 0), twoGo.admit(client, 0, 5, 2),
                nodelay.admit(client, 0, 5, 5)}).as("beyond the burst in all three")
                .containsOnly(RequestZone.REFUSED);
        assertThat(new long[] {everyWaits.admit(client, SECOND, 5, 0), twoGo.admit(client, SECOND, 5, 2),
                nodelay.admit(client, SECOND, 5, 5)}).as("one drained: room for one in all three, waiting 5, 3, 0 s")
                .containsExactly(5 * SECOND, 3 * SECOND, 0);
    }
}
