package io.edge.core.limit;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import org.junit.jupiter.api.Test;

/** A limit-conn's table of clients: requests in progress per client address. */
class ConnectionZoneTest {

    private static final InetAddress A = address("192.0.2.1");
    private static final InetAddress B = address("2001:db8::1");

    @Test
    void aClientHasAtMostMaxInProgressAndEachEndGivesOnePlaceBack() {
        ConnectionZone zone = new ConnectionZone();
        assertThat(zone.acquire(A, 2)).isTrue();
        assertThat(zone.acquire(A, 2)).isTrue();
        assertThat(zone.acquire(A, 2)).as("a third past max 2").isFalse();
        assertThat(zone.inProgress(A)).as("a refused request counts nothing").isEqualTo(2);
        assertThat(zone.acquire(B, 2)).as("another client").isTrue();
        zone.release(A);
        assertThat(zone.acquire(A, 2)).isTrue();
        assertThat(zone.acquire(A, 1)).as("a location of the zone with a lower max").isFalse();
    }

    @Test
    void aClientWithNothingInProgressIsForgotten() {
        ConnectionZone zone = new ConnectionZone();
        zone.acquire(A, 1);
        zone.release(A);
        zone.release(A); // a second end of the same request never counts below none
        assertThat(zone.inProgress(A)).isZero();
        assertThat(zone.acquire(A, 1)).isTrue();
        assertThat(zone.acquire(A, 1)).isFalse();
    }

    private static InetAddress address(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (java.net.UnknownHostException e) {
            throw new AssertionError(e);
        }
    }
}
