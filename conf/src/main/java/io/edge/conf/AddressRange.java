package io.edge.conf;

import io.netty.util.NetUtil;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.regex.Pattern;

/**
 * A client address range as an {@code allow} list takes it, nginx's {@code allow 10.0.0.0/8}: an IP address and how
 * many of its leading bits a client's must share ({@code 32} or {@code 128}: that one address).
 *
 * @param network the address, its bits past {@code prefix} zero
 * @param prefix  leading bits compared, 0 to the address's length in bits
 */
public record AddressRange(InetAddress network, int prefix) {

    private static final Pattern LEADING_ZERO = Pattern.compile("(^|\\.)0\\d");

    /** Whether {@code address} is in this range; an IPv4 address is never in an IPv6 range, nor the other way. */
    public boolean contains(InetAddress address) {
        byte[] a = address.getAddress();
        byte[] n = network.getAddress();
        if (a.length != n.length) {
            return false;
        }
        for (int i = 0; i < n.length; i++) {
            if (((a[i] ^ n[i]) & mask(i)) != 0) {
                return false;
            }
        }
        return true;
    }

    /** Whether {@link #network} has bits set past {@link #prefix} ({@code 10.0.0.7/8}): its writer meant another. */
    boolean hasBitsPastPrefix() {
        byte[] n = network.getAddress();
        for (int i = 0; i < n.length; i++) {
            if ((n[i] & ~mask(i) & 0xff) != 0) {
                return true;
            }
        }
        return false;
    }

    /** The bits of byte {@code index} the prefix covers. */
    private int mask(int index) {
        int bits = Math.max(0, Math.min(8, prefix - index * 8));
        return (0xff << (8 - bits)) & 0xff;
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

    /**
     * An IP address literal as an address, never looked up; null for anything else. IPv4: four decimal groups of
     * 0-255, none with a leading zero. IPv6 as RFC 4291 writes it (one to four hex digits a group), a dotted IPv4 tail
     * included ({@code 64:ff9b::192.0.2.1}); an IPv4-mapped one ({@code ::ffff:192.0.2.1}) is the IPv4 address it
     * maps. No brackets, no zone.
     */
    public static InetAddress literal(String text) {
        if (text.indexOf(':') < 0) {
            // a group with a leading zero is refused: many readers take "010" for octal 8, others for 10
            return NetUtil.isValidIpV4Address(text) && !LEADING_ZERO.matcher(text).find()
                    ? NetUtil.createInetAddressFromIpAddressString(text) : null;
        }
        int digits = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            boolean hex = c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'; // ASCII alone
            if (!hex && c != ':' && (c != '.' || i == 0)) {
                return null;
            }
            // at most four hex digits a group, as RFC 4291, inet_pton and nginx: InetAddress took 2001:00db8::1
            digits = hex ? digits + 1 : 0;
            if (digits > 4) {
                return null;
            }
        }
        if (text.indexOf('.') >= 0 && literal(text.substring(text.lastIndexOf(':') + 1)) == null) {
            return null; // a dotted IPv4 tail as an IPv4 address is written: ::ffff:0177.0.0.1 was 177.0.0.1
        }
        try {
            return InetAddress.getByName(text); // hex digits and colons: parsed as IPv6, never resolved
        } catch (UnknownHostException e) {
            return null;
        }
    }

    /** {@code address} alone. */
    public static AddressRange of(InetAddress address) {
        return new AddressRange(address, address.getAddress().length * 8);
    }

    /** Whether {@code address} (16 bytes) is an IPv4 one written as IPv6, ::ffff:a.b.c.d. */
    public static boolean isIpv4Mapped(byte[] address) {
        for (int i = 0; i < 10; i++) {
            if (address[i] != 0) {
                return false;
            }
        }
        return address[10] == (byte) 0xff && address[11] == (byte) 0xff;
    }

    @Override
    public String toString() {
        return network.getHostAddress() + "/" + prefix;
    }
}
