package io.edge.core.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.conf.AddressRange;
import io.edge.conf.ServerSettings.RealIp;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import org.junit.jupiter.api.Test;

class ClientAddressTest {

    private static final InetSocketAddress PROXY = address("10.0.0.5", 41000);
    private static final InetSocketAddress STRANGER = address("198.51.100.7", 50000);
    private static final RealIp TRUSTING_TEN = realIp(false, "10.0.0.0/8");
    private static final RealIp RECURSIVE = realIp(true, "10.0.0.0/8", "2001:db8::/32");

    private static InetSocketAddress address(String literal, int port) {
        try {
            return new InetSocketAddress(InetAddress.getByName(literal), port);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static RealIp realIp(boolean recursive, String... ranges) {
        List<AddressRange> from = new java.util.ArrayList<>();
        for (String range : ranges) {
            String[] parts = range.split("/");
            from.add(new AddressRange(address(parts[0], 0).getAddress(), Integer.parseInt(parts[1])));
        }
        return new RealIp(from, "X-Forwarded-For", recursive, false);
    }

    private static HttpHeaders forwardedFor(String... lines) {
        HttpHeaders headers = new DefaultHttpHeaders();
        for (String line : lines) {
            headers.add("X-Forwarded-For", line);
        }
        return headers;
    }

    @Test
    void aTrustedProxyNamesTheClientLastInItsList() {
        assertThat(ClientAddress.of(PROXY, false, forwardedFor("203.0.113.9"), TRUSTING_TEN))
                .isEqualTo(address("203.0.113.9", 0));
        // what the client itself wrote comes first and is not believed: the nearest proxy's entry is the last
        assertThat(ClientAddress.of(PROXY, false, forwardedFor("127.0.0.1, 203.0.113.9"), TRUSTING_TEN))
                .isEqualTo(address("203.0.113.9", 0));
    }

    @Test
    void anyoneElseIsItsConnectionWhateverItSends() {
        assertThat(ClientAddress.of(STRANGER, false, forwardedFor("203.0.113.9"), TRUSTING_TEN)).isSameAs(STRANGER);
        assertThat(ClientAddress.of(PROXY, false, forwardedFor("203.0.113.9"), RealIp.OFF)).isSameAs(PROXY);
    }

    /**
     * The PROXY protocol's client is the connection's (ProxyProtocol.peer): the header is not read on top. A
     * connection from the proxy accepted before a reload turned the protocol on still has its header read: it is not
     * the proxy's own (whom status-allow's loopback default would let in).
     */
    @Test
    void underTheProxyProtocolTheHeaderIsNotRead() {
        RealIp proxyProtocol = new RealIp(TRUSTING_TEN.from(), "X-Forwarded-For", false, true);
        assertThat(ClientAddress.of(PROXY, true, forwardedFor("203.0.113.9"), proxyProtocol)).isSameAs(PROXY);
        assertThat(ClientAddress.of(PROXY, false, forwardedFor("203.0.113.9"), proxyProtocol))
                .as("accepted before the reload").isEqualTo(address("203.0.113.9", 0));
    }

    @Test
    void withoutTheHeaderOrWithNoAddressLastTheClientIsTheProxy() {
        assertThat(ClientAddress.of(PROXY, false, new DefaultHttpHeaders(), TRUSTING_TEN)).isSameAs(PROXY);
        assertThat(ClientAddress.of(PROXY, false, forwardedFor(""), TRUSTING_TEN)).isSameAs(PROXY);
        assertThat(ClientAddress.of(PROXY, false, forwardedFor("203.0.113.9, unknown"), TRUSTING_TEN)).isSameAs(PROXY);
        // a name is never looked up
        assertThat(ClientAddress.of(PROXY, false, forwardedFor("localhost"), TRUSTING_TEN)).isSameAs(PROXY);
        assertThat(ClientAddress.of(PROXY, false, forwardedFor("203.0.113.9:99999"), TRUSTING_TEN)).isSameAs(PROXY);
    }

    @Test
    void recursivePassesOverTrustedProxiesFromTheEnd() {
        assertThat(ClientAddress.of(PROXY, false, forwardedFor("198.51.100.1, 203.0.113.9, 10.1.1.1, 10.2.2.2"), RECURSIVE))
                .isEqualTo(address("203.0.113.9", 0));
        // all trusted: the first listed
        assertThat(ClientAddress.of(PROXY, false, forwardedFor("10.3.3.3, 10.1.1.1"), RECURSIVE))
                .isEqualTo(address("10.3.3.3", 0));
        // without recursive the nearest trusted proxy itself is the client
        assertThat(ClientAddress.of(PROXY, false, forwardedFor("203.0.113.9, 10.1.1.1"), TRUSTING_TEN))
                .isEqualTo(address("10.1.1.1", 0));
        // an element that is no address stops the walk with what was found
        assertThat(ClientAddress.of(PROXY, false, forwardedFor("203.0.113.9, garbage, 10.1.1.1"), RECURSIVE))
                .isEqualTo(address("10.1.1.1", 0));
    }

    @Test
    void severalLinesAreOneListInOrder() {
        assertThat(ClientAddress.of(PROXY, false, forwardedFor("198.51.100.1", "203.0.113.9, 10.1.1.1"), RECURSIVE))
                .isEqualTo(address("203.0.113.9", 0));
        assertThat(ClientAddress.of(PROXY, false, forwardedFor("203.0.113.9", "10.1.1.1,,", ","), RECURSIVE))
                .isEqualTo(address("203.0.113.9", 0));
        assertThat(ClientAddress.of(PROXY, false, forwardedFor("203.0.113.9", "10.1.1.1"), TRUSTING_TEN))
                .isEqualTo(address("10.1.1.1", 0));
        // spaces (and tabs) separate entries as commas do, as nginx reads the header
        assertThat(ClientAddress.of(PROXY, false, forwardedFor("198.51.100.1 203.0.113.9"), TRUSTING_TEN))
                .isEqualTo(address("203.0.113.9", 0));
        assertThat(ClientAddress.of(PROXY, false, forwardedFor("203.0.113.9\t10.1.1.1 "), RECURSIVE))
                .isEqualTo(address("203.0.113.9", 0));
    }

    @Test
    void ofAHeaderOtherThanXForwardedForTheFirstLineAloneIsRead() {
        RealIp realIp = new RealIp(TRUSTING_TEN.from(), "X-Real-IP", false, false);
        HttpHeaders headers = new DefaultHttpHeaders().add("X-Real-IP", "198.51.100.1, 203.0.113.1")
                .add("X-Real-IP", "203.0.113.2");
        assertThat(ClientAddress.of(PROXY, false, headers, realIp)).isEqualTo(address("203.0.113.1", 0));
        // the field name in any case is X-Forwarded-For still
        RealIp lowerCase = new RealIp(TRUSTING_TEN.from(), "x-forwarded-for", false, false);
        assertThat(ClientAddress.of(PROXY, false, forwardedFor("203.0.113.1", "203.0.113.2"), lowerCase))
                .isEqualTo(address("203.0.113.2", 0));
    }

    @Test
    void addressesAreTakenWithThePortsWrittenBesideThem() {
        assertThat(ClientAddress.parse("192.0.2.1")).isEqualTo(address("192.0.2.1", 0));
        assertThat(ClientAddress.parse("192.0.2.1:5000")).isEqualTo(address("192.0.2.1", 5000));
        assertThat(ClientAddress.parse("2001:db8::1")).isEqualTo(address("2001:db8::1", 0));
        assertThat(ClientAddress.parse("[2001:db8::1]")).isEqualTo(address("2001:db8::1", 0));
        assertThat(ClientAddress.parse("[2001:db8::1]:443")).isEqualTo(address("2001:db8::1", 443));
        assertThat(ClientAddress.parse("2001:0db8::0001")).isEqualTo(address("2001:db8::1", 0));
        assertThat(ClientAddress.parse("::ffff:192.0.2.1")).isEqualTo(address("192.0.2.1", 0));
        // IPv6 with a dotted IPv4 tail: the IPv6 address it writes (NAT64's prefix, an IPv4-compatible one)
        assertThat(ClientAddress.parse("64:ff9b::192.0.2.1")).isEqualTo(address("64:ff9b::c000:201", 0));
        assertThat(ClientAddress.parse("[2001:db8::192.0.2.1]:80")).isEqualTo(address("2001:db8::c000:201", 80));
        assertThat(ClientAddress.parse("::192.0.2.1").getAddress()).isInstanceOf(java.net.Inet6Address.class);
        for (String bad : List.of("unknown", "_hidden", "example.com", "example.com:80", "192.0.2", "192.0.2.1:",
                "192.0.2.1:x", "192.0.2.1:65536", "[192.0.2.1]", "[2001:db8::1", "[2001:db8::1]x", "fe80::1%eth0",
                "300.0.0.1", "1:80", "::300.0.0.1", "1::2::3", ".:1", "::g", "1..2.3", "1.2.3.", "1.2.3.4.5",
                "0x7f.0.0.1", "0010.0.0.256", "2001:00db8::1", "[2001:db8::00001]:80")) {
            assertThat(ClientAddress.parse(bad)).as(bad).isNull();
        }
    }

    /**
     * nginx 1.22's realip reads a dotted group's leading zeros in decimal (measured: X-Forwarded-For "010.1.2.3" gave
     * REMOTE_ADDR 10.1.2.3, "2001:db8::01.2.3.4" 2001:db8::102:304), on or off real_ip_recursive; they were no address.
     */
    @Test
    void leadingZerosInADottedGroupAreReadInDecimal() {
        assertThat(ClientAddress.parse("010.1.2.3")).isEqualTo(address("10.1.2.3", 0));
        assertThat(ClientAddress.parse("1.2.3.04:0080")).isEqualTo(address("1.2.3.4", 80));
        assertThat(ClientAddress.parse("00000001.2.3.000")).isEqualTo(address("1.2.3.0", 0));
        assertThat(ClientAddress.parse("::ffff:1.2.3.04")).isEqualTo(address("1.2.3.4", 0));
        assertThat(ClientAddress.parse("[2001:db8::01.2.3.4]:80")).isEqualTo(address("2001:db8::102:304", 80));
        // a trusted proxy so written is passed over, as written plainly
        assertThat(ClientAddress.of(PROXY, false, forwardedFor("203.0.113.9, 010.1.1.1"), RECURSIVE))
                .isEqualTo(address("203.0.113.9", 0));
    }

    @Test
    void anIpv6ProxyIsTrustedByItsRange() {
        InetSocketAddress v6proxy = address("2001:db8::10", 1234);
        assertThat(ClientAddress.of(v6proxy, false, forwardedFor("[2001:db9::1]:80"), RECURSIVE))
                .isEqualTo(address("2001:db9::1", 80));
        assertThat(ClientAddress.of(v6proxy, false, forwardedFor("203.0.113.9"), TRUSTING_TEN)).isSameAs(v6proxy);
    }
}
