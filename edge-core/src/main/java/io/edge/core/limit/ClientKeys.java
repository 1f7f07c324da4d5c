package io.edge.core.limit;

import io.edge.conf.AddressRange;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;

/**
 * The key a limit's zone counts a client by: its address, an IPv6 one cut to the zone's prefix. An IPv6 subscriber is
 * given a whole /64 and may send from any address in it, so a table keyed by the full address (nginx's
 * {@code $binary_remote_addr}) lets it past any limit by changing address; keyed by the /64, it is one client.
 */
final class ClientKeys {

    private ClientKeys() {
    }

    /**
     * {@code client}'s key in a zone counting IPv6 clients by the first {@code ipv6Prefix} bits of their address (1 to
     * 128): the address itself for 128 (no copy, no allocation: the cost of a limit before the setting) and for IPv4,
     * IPv4-mapped included (an IPv4 client is counted by its address, as always); else the IPv6 address with the bits
     * past the prefix cleared, without its scope (one client, whatever interface it came by).
     */
    static InetAddress of(InetAddress client, int ipv6Prefix) {
        if (ipv6Prefix == 128 || !(client instanceof Inet6Address)) {
            return client;
        }
        byte[] address = client.getAddress(); // a copy: ours to mask
        if (AddressRange.isIpv4Mapped(address)) {
            return client;
        }
        int whole = ipv6Prefix / 8;
        address[whole] &= (byte) (0xff << (8 - ipv6Prefix % 8)); // whole < 16: the prefix is under 128
        Arrays.fill(address, whole + 1, address.length, (byte) 0);
        try {
            return InetAddress.getByAddress(address);
        } catch (UnknownHostException e) {
            throw new AssertionError("16 bytes are an IPv6 address", e);
        }
    }
}
