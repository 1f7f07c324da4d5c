package io.edge.core.limit;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.util.NetUtil;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import org.junit.jupiter.api.Test;

/** The key a limit counts a client by: its address, an IPv6 one cut to the zone's prefix. */
class ClientKeysTest {

    @Test
    void anIpv6ClientIsKeyedByItsPrefixSoThatAddressesOfOneSlash64AreOneClient() {
        InetAddress key = ClientKeys.of(address("2001:db8:0:1:aaaa:bbbb:cccc:dddd"), 64);
        assertThat(key).isEqualTo(address("2001:db8:0:1::"));
        assertThat(ClientKeys.of(address("2001:db8:0:1::2"), 64)).as("another address of the /64").isEqualTo(key);
        assertThat(ClientKeys.of(address("2001:db8:0:2::1"), 64)).as("the next /64").isNotEqualTo(key);
    }

    @Test
    void aPrefixOfPartOfAByteKeepsItsLeadingBits() {
        assertThat(ClientKeys.of(address("2001:db8:ffff::1"), 36)).isEqualTo(address("2001:db8:f000::"));
        assertThat(ClientKeys.of(address("ff02::1"), 1)).isEqualTo(address("8000::"));
        assertThat(ClientKeys.of(address("2001:db8::ff"), 127)).isEqualTo(address("2001:db8::fe"));
    }

    @Test
    void theScopeOfALinkLocalClientIsNoPartOfItsKey() throws UnknownHostException {
        Inet6Address scoped = Inet6Address.getByAddress(null, address("fe80::1").getAddress(), 2);
        assertThat(ClientKeys.of(scoped, 64)).isEqualTo(address("fe80::"));
    }

    @Test
    void prefix128AndIpv4ClientsAreKeyedByTheirAddressItself() throws UnknownHostException {
        InetAddress v6 = address("2001:db8::1");
        assertThat(ClientKeys.of(v6, 128)).as("no copy where nothing is masked").isSameAs(v6);
        InetAddress v4 = address("192.0.2.1");
        assertThat(ClientKeys.of(v4, 64)).isSameAs(v4);
        // Java turns ::ffff:a.b.c.d into an Inet4Address; one that comes as an Inet6Address all the same is not cut
        InetAddress mapped = Inet6Address.getByAddress(null, new byte[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -1, -1,
                (byte) 192, 0, 2, 1}, -1);
        assertThat(ClientKeys.of(mapped, 64)).isSameAs(mapped);
        assertThat(ClientKeys.of(mapped, 8)).isSameAs(mapped);
    }

    private static InetAddress address(String literal) {
        return NetUtil.createInetAddressFromIpAddressString(literal);
    }
}
