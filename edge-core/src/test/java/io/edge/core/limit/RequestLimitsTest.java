package io.edge.core.limit;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.conf.LimitReq;
import java.net.InetAddress;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Several limit-req in one location, counted as nginx's ngx_http_limit_req_handler counts them: every zone applies, a
 * request one refuses is counted in none, one let in waits for the longest wait any asks for. On a clock the test
 * moves.
 */
class RequestLimitsTest {

    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);

    private final InetAddress client = InetAddress.getLoopbackAddress();
    private final InetAddress other = address("192.0.2.1");
    private final RequestZone perClient = new RequestZone(1);
    private final RequestZone perServer = new RequestZone(1);
    private final LimitReq clientLimit = new LimitReq("zone perip", 1, 1, 1, 429, 128);
    private final LimitReq serverLimit = new LimitReq("zone perserver", 1, 2, 2, 503, 128);

    /** A request of {@code from} at {@code now} through the client's limit, then the site's ceiling (key "site"). */
    private RequestLimits.Verdict request(InetAddress from, long now) {
        return RequestLimits.admit(List.of(new RequestLimits.Count(perClient, from, clientLimit),
                new RequestLimits.Count(perServer, "site", serverLimit)), now);
    }

    @Test
    void aRequestTheLaterZoneRefusesIsNotCountedInTheEarlierOne() {
        assertThat(request(client, 0)).isEqualTo(new RequestLimits.Verdict(null, 0));
        assertThat(request(other, 0)).isEqualTo(new RequestLimits.Verdict(null, 0));
        assertThat(request(address("192.0.2.2"), 0)).as("the ceiling's burst of 2 spent now")
                .isEqualTo(new RequestLimits.Verdict(null, 0));
        assertThat(request(client, 0)).as("within the client's burst, past the ceiling's")
                .isEqualTo(new RequestLimits.Verdict(serverLimit, RequestZone.REFUSED));
        assertThat(perClient.admit(client, 0, 1, 1)).as("the refused one took nothing of the client's bucket: room"
                + " for one more").isZero();
    }

    @Test
    void aRequestTheEarlierZoneRefusesIsNotCountedInTheLaterOne() {
        request(client, 0);
        request(client, 0);
        for (int i = 0; i < 5; i++) {
            assertThat(request(client, 0)).as("past the client's burst")
                    .isEqualTo(new RequestLimits.Verdict(clientLimit, RequestZone.REFUSED));
        }
        assertThat(request(other, 0)).as("the ceiling counted the client's two only: room for a third")
                .isEqualTo(new RequestLimits.Verdict(null, 0));
        assertThat(request(address("192.0.2.2"), 0)).isEqualTo(new RequestLimits.Verdict(serverLimit,
                RequestZone.REFUSED));
    }

    /** Each zone counts what it lets in; the request waits for the longest of their waits, nginx's max_delay. */
    @Test
    void aRequestLetInWaitsForTheLongestWaitAnyZoneAsks() {
        RequestZone slow = new RequestZone(1);
        RequestZone fast = new RequestZone(2);
        LimitReq slowLimit = new LimitReq("zone slow", 1, 5, 0, 429, 128);
        LimitReq fastLimit = new LimitReq("zone fast", 2, 5, 0, 429, 128);
        List<RequestLimits.Count> counts = List.of(new RequestLimits.Count(slow, client, slowLimit),
                new RequestLimits.Count(fast, client, fastLimit));
        assertThat(RequestLimits.admit(counts, 0).waitNanos()).isZero();
        assertThat(RequestLimits.admit(counts, 0).waitNanos()).as("1 past 1 r/s beats 1 past 2 r/s").isEqualTo(SECOND);
        assertThat(RequestLimits.admit(List.of(new RequestLimits.Count(fast, client, fastLimit),
                new RequestLimits.Count(slow, client, slowLimit)), 0).waitNanos()).as("whatever their order")
                .isEqualTo(2 * SECOND);
    }

    @Test
    void aRequestCountedInEveryZoneDrainsFromEach() {
        assertThat(request(client, 0).refusedBy()).isNull();
        assertThat(request(client, 0).refusedBy()).isNull();
        assertThat(request(client, 0).refusedBy()).isEqualTo(clientLimit);
        assertThat(request(client, SECOND).refusedBy()).as("one drained from both").isNull();
        assertThat(request(other, SECOND).refusedBy()).as("the ceiling: 2 - 1 + 1 + 1, its burst").isNull();
        assertThat(request(address("192.0.2.2"), SECOND).refusedBy()).as("past it").isEqualTo(serverLimit);
    }

    @Test
    void aKeyAClientChoosesIsKeptShortAndAnEmptyOneCountsNowhere() {
        assertThat(ZoneKeys.kept("")).isNull();
        assertThat(ZoneKeys.kept("k1")).isEqualTo("k1");
        String longKey = "k".repeat(10_000);
        assertThat(ZoneKeys.kept(longKey)).hasSizeLessThan(80).isEqualTo(ZoneKeys.kept("k".repeat(10_000)))
                .isNotEqualTo(ZoneKeys.kept("k".repeat(9_999) + "j"));
        assertThat(ZoneKeys.kept("x".repeat(ZoneKeys.MAX_KEPT))).as("at the bound: as it is")
                .isEqualTo("x".repeat(ZoneKeys.MAX_KEPT));
    }

    private static InetAddress address(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (java.net.UnknownHostException e) {
            throw new AssertionError(e);
        }
    }
}
