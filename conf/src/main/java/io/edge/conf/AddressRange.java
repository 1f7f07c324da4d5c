package io.edge.conf;

import java.net.InetAddress;
import java.util.List;

/**
 * A client address range as an {@code allow} list takes it, nginx's {@code allow 10.0.0.0/8}: an IP address and how
 * many of its leading bits a client's must share ({@code 32} or {@code 128}: that one address).
 *
 * @param network the address, its bits past {@code prefix} zero
 * @param prefix  leading bits compared, 0 to the address's length in bits
 */
public record AddressRange(InetAddress network, int prefix) {

    /** Whether {@code address} is in this range; an IPv4 address is never in an IPv6 range, nor the other way. */
    public boolean contains(InetAddress address) {
        byte[] a = address.getAddress();
        byte[] n = network.getAddress();
        if (a.length != n.length) {
            return false;
        }
        int whole = prefix / 8;
        for (int i = 0; i < whole; i++) {
            if (a[i] != n[i]) {
                return false;
            }
        }
        int bits = prefix % 8;
        return bits == 0 || ((a[whole] ^ n[whole]) & (0xff << (8 - bits))) == 0;
    }

    /** Whether any of {@code ranges} holds {@code address}. */
    public static boolean anyContains(List<AddressRange> ranges, InetAddress address) {
        for (AddressRange range : ranges) {
            if (range.contains(address)) {
                return true;
            }
        }
        return false;
    }

    /** {@code address} alone. */
    public static AddressRange of(InetAddress address) {
        return new AddressRange(address, address.getAddress().length * 8);
    }

    @Override
    public String toString() {
        return network.getHostAddress() + "/" + prefix;
    }
}
