package io.edge.fastcgi.pool;

import io.netty.channel.unix.DomainSocketAddress;
import io.netty.util.NetUtil;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnknownHostException;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Locale;

/**
 * One backend address: {@code unix:/run/php/fpm.sock} or {@code host:port} ({@code [::1]:9000} for IPv6). A host
 * name is kept unresolved, and looked up at each connect, off the event loop ({@link BackendResolverGroup}).
 *
 * @param spec    as configured, for logs
 * @param address what to connect to
 */
public record BackendAddress(String spec, SocketAddress address) {

    private static final String UNIX_PREFIX = "unix:";

    /** A host (without brackets) and port, as written. */
    private record HostPort(String host, int port) {
    }

    /** @throws IllegalArgumentException naming the spec and what was expected */
    public static BackendAddress parse(String spec) {
        if (spec.startsWith(UNIX_PREFIX)) {
            return new BackendAddress(spec, new DomainSocketAddress(unixPath(spec)));
        }
        HostPort hostPort = hostPort(spec);
        String host = hostPort.host();
        int port = hostPort.port();
        // an address literal is taken as it is; a name is not looked up here either (this runs at start and at each
        // reload): one that does not resolve yet would stay unresolved for good, and be looked up on the loop
        InetSocketAddress address;
        if (NetUtil.isValidIpV4Address(host) || NetUtil.isValidIpV6Address(host)) {
            try {
                // the JDK parses a literal without a lookup, and keeps an IPv6 scope (fe80::1%eth0)
                address = new InetSocketAddress(InetAddress.getByName(host), port);
            } catch (UnknownHostException e) { // a scope naming no interface
                throw new IllegalArgumentException("address: \"" + spec + "\" (" + e.getMessage() + ")", e);
            }
        } else {
            address = InetSocketAddress.createUnresolved(host, port);
        }
        return new BackendAddress(spec, address);
    }

    /**
     * What the specs of one socket have in common, so that pools and the configuration's checks take them for one
     * address: a Unix socket's path normalised ({@code unix:/run/php//fpm.sock} is {@code unix:/run/php/fpm.sock}),
     * an IP literal in one spelling ({@code [0::1]:9000} is {@code [0:0:0:0:0:0:0:1]:9000}, {@code [::ffff:127.0.0.1]}
     * is {@code 127.0.0.1}; an IPv6 scope kept as written), a host name in lower case. Names are not looked up:
     * {@code localhost:9000} and {@code 127.0.0.1:9000} stay two, as DNS may change what the first names.
     *
     * @throws IllegalArgumentException as {@link #parse} does for a spec it refuses
     */
    public static String key(String spec) {
        if (spec.startsWith(UNIX_PREFIX)) {
            String path = unixPath(spec);
            try {
                path = Path.of(path).normalize().toString();
            } catch (InvalidPathException e) {
                // a NUL, which no socket's path has: kept as written
            }
            return UNIX_PREFIX + path;
        }
        HostPort hostPort = hostPort(spec);
        String host = hostPort.host();
        int percent = host.indexOf('%');
        InetAddress literal = NetUtil.createInetAddressFromIpAddressString(percent < 0 ? host : host.substring(0,
                percent)); // null for a name: never looked up
        host = literal == null ? host.toLowerCase(Locale.ROOT)
                : literal.getHostAddress() + (percent < 0 ? "" : host.substring(percent));
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + hostPort.port();
    }

    /** {@link #key(String)} of this address's spec. */
    public String key() {
        return key(spec);
    }

    private static String unixPath(String spec) {
        String path = spec.substring(UNIX_PREFIX.length());
        if (path.isEmpty()) {
            throw new IllegalArgumentException("address: \"" + spec + "\" (expected: unix:/path/to.sock)");
        }
        return path;
    }

    private static HostPort hostPort(String spec) {
        int colon = spec.lastIndexOf(':');
        if (colon <= 0 || colon == spec.length() - 1) {
            throw new IllegalArgumentException("address: \"" + spec + "\" (expected: host:port or unix:/path)");
        }
        String host = spec.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        String digits = spec.substring(colon + 1);
        int port;
        try {
            // ASCII digits alone: Integer.parseInt also takes "+9000" and other scripts' digits
            port = digits.chars().allMatch(c -> c >= '0' && c <= '9') ? Integer.parseInt(digits) : -1;
        } catch (NumberFormatException e) {
            port = -1;
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("address: \"" + spec + "\" (expected: a port from 1 to 65535)");
        }
        return new HostPort(host, port);
    }

    public boolean isUnix() {
        return address instanceof DomainSocketAddress;
    }

    @Override
    public String toString() {
        return spec;
    }
}
