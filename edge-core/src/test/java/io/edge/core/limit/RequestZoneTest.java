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
        assertThat(zone.admit(client, 0, 0, true)).isZero();
        assertThat(zone.admit(client, SECOND / 4, 0, true)).isEqualTo(RequestZone.REFUSED);
        assertThat(zone.admit(client, SECOND / 2, 0, true)).as("the refused one counted nothing").isZero();
        assertThat(zone.admit(InetAddress.getByName("192.0.2.1"), SECOND / 2, 0, true))
                .as("another client has a bucket of its own").isZero();
    }

    @Test
    void aBurstLetsThatManyRequestsPastTheRateWaitOrGoAtOnceWithNodelay() {
        RequestZone delayed = new RequestZone(1);
        assertThat(delayed.admit(client, 0, 2, true)).isZero();
        assertThat(delayed.admit(client, 0, 2, true)).as("one past the rate waits a second").isEqualTo(SECOND);
        assertThat(delayed.admit(client, 0, 2, true)).as("two past it, two seconds").isEqualTo(2 * SECOND);
        assertThat(delayed.admit(client, 0, 2, true)).as("beyond the burst").isEqualTo(RequestZone.REFUSED);
        assertThat(delayed.admit(client, SECOND, 2, true)).as("a second drained one").isEqualTo(2 * SECOND);

        RequestZone nodelay = new RequestZone(1);
        for (int i = 0; i < 3; i++) {
            assertThat(nodelay.admit(client, 0, 2, false)).isZero();
        }
        assertThat(nodelay.admit(client, 0, 2, false)).isEqualTo(RequestZone.REFUSED);
    }

    @Test
    void aBucketDrainsAtTheRateAsNginxsDoesPartially() {
        RequestZone zone = new RequestZone(1);
        zone.admit(client, 0, 1, false);
        assertThat(zone.admit(client, 0, 1, false)).isZero(); // excess 1, the burst full
        assertThat(zone.admit(client, SECOND / 2, 1, false)).as("half drained: 1.5 is past a burst of 1")
                .isEqualTo(RequestZone.REFUSED);
        assertThat(zone.admit(client, SECOND, 1, false)).as("one drained: 1 again").isZero();
        assertThat(zone.admit(client, 10 * SECOND, 0, false)).as("long idle: empty, and this one goes").isZero();
    }
}
