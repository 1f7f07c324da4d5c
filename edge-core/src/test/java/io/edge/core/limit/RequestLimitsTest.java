package io.edge.core.limit;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.conf.LimitMode;
import io.edge.conf.LimitReq;
import io.edge.core.http.LimitStatus;
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

    /**
     * nginx's limit_req_dry_run: a request the limit would refuse goes on, counted in no zone (REJECTED_DRY_RUN), and
     * one it would delay goes on at once, counted (DELAYED_DRY_RUN); $limit_req_status says which.
     */
    @Test
    void aDryRunRefusesAndDelaysNothingAndSaysWhatItWouldHaveDone() {
        RequestZone zone = new RequestZone(1);
        LimitReq dry = new LimitReq("zone dry", 1, 1, 0, 429, 128, null, new LimitMode(LimitMode.Level.ERROR, true,
                true));
        List<RequestLimits.Count> counts = List.of(new RequestLimits.Count(zone, client, dry));
        assertThat(RequestLimits.admit(counts, 0).status()).isEqualTo(LimitStatus.PASSED);
        RequestLimits.Verdict delayed = RequestLimits.admit(counts, 0);
        assertThat(delayed.waitNanos()).as("would wait a second: waits none").isZero();
        assertThat(delayed.status()).isEqualTo(LimitStatus.DELAYED_DRY_RUN);
        RequestLimits.Verdict refused = RequestLimits.admit(counts, 0);
        assertThat(refused.refusedBy()).isEqualTo(dry);
        assertThat(refused.status()).isEqualTo(LimitStatus.REJECTED_DRY_RUN);
        assertThat(zone.excessWithOneMore(client, 0)).as("the refused one counted nothing: 2 past the rate with it,"
                + " as nginx's excess says").isEqualTo(2.0);
        assertThat(zone.excess(client, SECOND / 2)).as("half a second drained").isEqualTo(0.5);
    }

    /** The same requests without a dry run: waiting, then refused; nginx's PASSED, DELAYED, REJECTED. */
    @Test
    void withoutADryRunTheStatusSaysPassedDelayedRejected() {
        RequestZone zone = new RequestZone(1);
        LimitReq limit = new LimitReq("zone live", 1, 1, 0, 429, 128);
        List<RequestLimits.Count> counts = List.of(new RequestLimits.Count(zone, client, limit));
        assertThat(RequestLimits.admit(counts, 0).status()).isEqualTo(LimitStatus.PASSED);
        RequestLimits.Verdict delayed = RequestLimits.admit(counts, 0);
        assertThat(delayed.waitNanos()).isEqualTo(SECOND);
        assertThat(delayed.status()).isEqualTo(LimitStatus.DELAYED);
        assertThat(delayed.delayedBy().limit()).isEqualTo(limit);
        assertThat(RequestLimits.admit(counts, 0).status()).isEqualTo(LimitStatus.REJECTED);
    }
}
