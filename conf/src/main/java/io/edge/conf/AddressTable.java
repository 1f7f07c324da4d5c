package io.edge.conf;

import io.netty.util.NetUtil;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Address ranges and a value for each, found by longest prefix, as nginx's geo radix trees find them: for an address,
 * the value of the most specific range that holds it. IPv4 and IPv6 ranges are apart (an IPv4 address is never in an
 * IPv6 range, nor the other way). A lookup costs one hash probe per prefix length the table has (at most 33 or 129),
 * however many ranges there are.
 *
 * @param <V> the values
 */
final class AddressTable<V> {

    /** A network's bits, IPv4's in the top 32 of {@code high}, IPv6's in both, those past its prefix zero. */
    private record Bits(long high, long low) {
    }

    private final Family<V> ipv4 = new Family<>();
    private final Family<V> ipv6 = new Family<>();

    /** One family's ranges: by prefix length, the networks of that length; the lengths there are, longest first. */
    private static final class Family<V> {
        final Map<Integer, Map<Bits, V>> byPrefix = new HashMap<>();
        int[] prefixes = new int[0];
    }

    /**
     * Adds {@code range} with {@code value}; false (nothing added) where the table has that network and length already.
     */
    boolean add(AddressRange range, V value) {
        byte[] network = range.network().getAddress();
        Family<V> family = network.length == 4 ? ipv4 : ipv6;
        Map<Bits, V> networks = family.byPrefix.get(range.prefix());
        if (networks == null) {
            networks = new HashMap<>();
            family.byPrefix.put(range.prefix(), networks);
            family.prefixes = family.byPrefix.keySet().stream().mapToInt(Integer::intValue)
                    .map(i -> -i).sorted().map(i -> -i).toArray();
        }
        return networks.putIfAbsent(bits(network, range.prefix()), value) == null;
    }

    /**
     * The value of the longest range that holds {@code address} (4 bytes, or 16: an IPv4-mapped one is the IPv4
     * address it maps), or null where none does.
     */
    V find(byte[] address) {
        if (address.length == 16 && AddressRange.isIpv4Mapped(address)) {
            address = Arrays.copyOfRange(address, 12, 16);
        }
        Family<V> family = address.length == 4 ? ipv4 : ipv6;
        for (int prefix : family.prefixes) {
            V value = family.byPrefix.get(prefix).get(bits(address, prefix));
            if (value != null) {
                return value;
            }
        }
        return null;
    }

    /**
     * Whether every lookup finds a range: the table has both 0.0.0.0/0 and ::/0 ({@link #find} takes an IPv4-mapped
     * address as IPv4, and a geo looks a source that is no address up as 255.255.255.255).
     */
    boolean holdsEveryAddress() {
        return ipv4.byPrefix.containsKey(0) && ipv6.byPrefix.containsKey(0);
    }

    /** The values of every range, IPv4's and IPv6's. */
    List<V> values() {
        return Stream.of(ipv4, ipv6).flatMap(family -> family.byPrefix.values().stream())
                .flatMap(networks -> networks.values().stream()).toList();
    }

    /**
     * {@code text} as nginx's {@code ngx_parse_addr} reads a geo's source: an IPv4 address as {@code ngx_inet_addr}
     * takes it (an octet's leading zeros, an empty octet 0), else an IPv6 one, {@code ::a.b.c.d} the IPv4-compatible
     * IPv6 address it is (not the IPv4 one), brackets and a zone none; null for no address.
     */
    static byte[] parse(String text) {
        if (text.indexOf(':') < 0) {
            return ipv4(text);
        }
        if (text.indexOf('[') >= 0 || text.indexOf('%') >= 0) {
            return null;
        }
        byte[] address = NetUtil.createByteArrayFromIpAddressString(text);
        int colon = text.lastIndexOf(':');
        if (address != null && address.length == 16 && AddressRange.isIpv4Mapped(address) && text.indexOf('.') > colon
                && !text.substring(text.lastIndexOf(':', colon - 1) + 1, colon).equalsIgnoreCase("ffff")) {
            address[10] = 0; // Netty's reading of ::a.b.c.d as ::ffff:a.b.c.d
            address[11] = 0;
        }
        return address;
    }

    /** {@code text} as nginx's {@code ngx_inet_addr} reads it: four decimal octets, each at most 255; else null. */
    private static byte[] ipv4(String text) {
        byte[] address = new byte[4];
        int octet = 0;
        int dots = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c >= '0' && c <= '9') {
                octet = octet * 10 + (c - '0');
                if (octet > 255) {
                    return null;
                }
            } else if (c == '.' && dots < 3) {
                address[dots++] = (byte) octet;
                octet = 0;
            } else {
                return null;
            }
        }
        if (dots != 3) {
            return null;
        }
        address[3] = (byte) octet;
        return address;
    }

    /** {@code address}'s first {@code prefix} bits, the others zero. */
    private static Bits bits(byte[] address, int prefix) {
        long high = 0;
        long low = 0;
        for (int i = 0; i < address.length; i++) {
            long b = address[i] & 0xffL;
            if (i < 8) {
                high |= b << (56 - 8 * i);
            } else {
                low |= b << (56 - 8 * (i - 8));
            }
        }
        return new Bits(high & mask(prefix), low & mask(prefix - 64));
    }

    /** A mask of the top {@code bits} bits of a long (none for 0 or less, all for 64 or more). */
    private static long mask(int bits) {
        return bits <= 0 ? 0 : bits >= 64 ? -1L : -1L << (64 - bits);
    }
}
