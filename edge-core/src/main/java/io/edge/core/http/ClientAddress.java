package io.edge.core.http;

import io.edge.conf.AddressRange;
import io.edge.conf.ServerSettings;
import io.netty.handler.codec.http.HttpHeaders;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Whom a request comes from: its connection's peer (or the client its PROXY protocol header named, {@link ProxyProtocol},
 * when {@code real-ip.proxy-protocol} is on; then no header is read), or, when that peer is a trusted proxy
 * ({@code server.real-ip.from}), the address the proxy names in {@code real-ip.header} — nginx's realip module. The
 * header's addresses are read from the end, the nearest proxy's first (several lines of X-Forwarded-For as one list,
 * of any other header the first line alone, as nginx's): the last one is the client; with
 * {@code recursive}, trusted proxies listed there are passed over too, and the first address from the end that is not
 * one is the client (the first listed when all are). An element that is no IP address literal stops the walk with the
 * client found so far (the peer when it is the last one); names are never looked up.
 */
final class ClientAddress {

    /** Zeros before another digit at the start of a dotted group. */
    private static final Pattern LEADING_ZEROS = Pattern.compile("(^|\\.)0+(?=[0-9])");

    private ClientAddress() {
    }

    /**
     * The client of a request with {@code headers} under {@code realIp}, from {@code peer}: its connection's peer, or
     * the source of the connection's PROXY protocol header when {@code proxied} (the connection was accepted to
     * begin with one: {@link ProxyProtocol#expected}). The header is not read then; it is on a connection from a
     * trusted proxy accepted before a reload turned the PROXY protocol on (that proxy names its clients there still).
     */
    static InetSocketAddress of(InetSocketAddress peer, boolean proxied, HttpHeaders headers,
                                ServerSettings.RealIp realIp) {
        if (proxied || !realIp.enabled() || peer == null || !realIp.trusts(peer.getAddress())) {
            return peer;
        }
        List<String> lines = headers.getAll(realIp.header());
        if (lines.size() > 1 && !"X-Forwarded-For".equalsIgnoreCase(realIp.header())) {
            // nginx joins the lines of X-Forwarded-For alone; of any other header (X-Real-IP) it reads the first
            lines = lines.subList(0, 1);
        }
        InetSocketAddress client = peer;
        for (int line = lines.size() - 1; line >= 0; line--) {
            String value = lines.get(line);
            int end = value.length();
            while (end > 0) {
                int start = lastSeparator(value, end - 1) + 1;
                String element = value.substring(start, end).strip();
                end = start - 1;
                if (element.isEmpty()) {
                    continue; // "a,,b" or a trailing comma, as nginx skips them
                }
                InetSocketAddress named = parse(element);
                if (named == null) {
                    return client;
                }
                client = named;
                if (!realIp.recursive() || !realIp.trusts(named.getAddress())) {
                    return client;
                }
            }
        }
        return client;
    }

    /**
     * An address as a proxy writes it: {@code 192.0.2.1}, {@code 192.0.2.1:5000}, {@code 2001:db8::1},
     * {@code [2001:db8::1]} or {@code [2001:db8::1]:5000}; the port 0 when none is written. Leading zeros in a dotted
     * group are read in decimal, as nginx's ({@code 010.1.2.3} is 10.1.2.3). Null for anything else.
     */
    static InetSocketAddress parse(String text) {
        String host = text;
        int port = 0;
        if (text.startsWith("[")) {
            int close = text.indexOf(']');
            if (close < 0) {
                return null;
            }
            host = text.substring(1, close);
            String rest = text.substring(close + 1);
            if (!rest.isEmpty()) {
                if (rest.charAt(0) != ':' || (port = port(rest.substring(1))) < 0) {
                    return null;
                }
            }
            if (host.indexOf(':') < 0) {
                return null; // brackets are for IPv6 literals
            }
        } else {
            int colon = text.indexOf(':');
            if (colon >= 0 && colon == text.lastIndexOf(':')) { // one colon: IPv4 with a port
                host = text.substring(0, colon);
                if ((port = port(text.substring(colon + 1))) < 0 || host.indexOf('.') < 0) {
                    return null;
                }
            }
        }
        if (host.indexOf('%') >= 0) {
            return null; // a zone names an interface of the proxy's host, not a client
        }
        InetAddress address = AddressRange.literal(decimalGroups(host));
        return address == null ? null : new InetSocketAddress(address, port);
    }

    /**
     * {@code host} with the leading zeros of its dotted IPv4 groups dropped (its own or an IPv6 address's tail):
     * nginx's realip reads "010.1.2.3" as 10.1.2.3, in decimal, where {@link AddressRange#literal} refuses it as
     * ambiguous (inet_aton reads octal 8.1.2.3). Taking the decimal reading here gives nobody a client they could
     * not name anyway: an entry the trusted proxy did not write is the client's own say, whatever its spelling, and
     * the client is passed on written plainly (REMOTE_ADDR "10.1.2.3"), never as the header spelled it.
     */
    private static String decimalGroups(String host) {
        int tail = host.lastIndexOf(':') + 1;
        if (host.indexOf('.', tail) < 0) {
            return host;
        }
        return host.substring(0, tail) + LEADING_ZEROS.matcher(host.substring(tail)).replaceAll("$1");
    }

    /** The last comma, space or tab at or before {@code from}, or -1: nginx separates the header's entries so. */
    private static int lastSeparator(String value, int from) {
        for (int i = from; i >= 0; i--) {
            char c = value.charAt(i);
            if (c == ',' || c == ' ' || c == '\t') {
                return i;
            }
        }
        return -1;
    }

    /** 0 to 65535 in decimal digits, or -1. */
    private static int port(String digits) {
        if (digits.isEmpty() || digits.length() > 5) {
            return -1;
        }
        int port = 0;
        for (int i = 0; i < digits.length(); i++) {
            char c = digits.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            port = port * 10 + (c - '0');
        }
        return port <= 65535 ? port : -1;
    }
}
