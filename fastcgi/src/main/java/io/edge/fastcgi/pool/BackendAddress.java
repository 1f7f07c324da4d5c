package io.edge.fastcgi.pool;

import io.netty.channel.unix.DomainSocketAddress;
import io.netty.util.NetUtil;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnknownHostException;

/**
 * One backend address: {@code unix:/run/php/fpm.sock} or {@code host:port} ({@code [::1]:9000} for IPv6). A host
 * name is kept unresolved, and looked up at each connect, off the event loop ({@link BackendResolverGroup}).
 *
 * @param spec    as configured, for logs
 * @param address what to connect to
 */
public record BackendAddress(String spec, SocketAddress address) {

    /** @throws IllegalArgumentException naming the spec and what was expected */
    public static BackendAddress parse(String spec) {
        if (spec.startsWith("unix:")) {
            String path = spec.substring(5);
            if (path.isEmpty()) {
                throw new IllegalArgumentException("address: \"" + spec + "\" (expected: unix:/path/to.sock)");
            }
            return new BackendAddress(spec, new DomainSocketAddress(path));
        }
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

    public boolean isUnix() {
        return address instanceof DomainSocketAddress;
    }

    @Override
    public String toString() {
        return spec;
    }
}
