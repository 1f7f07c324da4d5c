package io.edge.conf;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parsing of listen and backend addresses; each method throws {@link IllegalArgumentException} with the reason. */
final class Addresses {

    /** sun_path is 108 bytes on Linux, one of which is the terminating NUL. */
    static final int MAX_UNIX_PATH_BYTES = 107;

    static final String UNIX_PREFIX = "unix:";
    /** A prefix written before host:port ("tcp:127.0.0.1:9000") that a backend, as nginx's fastcgi_pass, is without. */
    private static final String TCP_PREFIX = "tcp:";

    /** White space between two other characters, as HOCON reads white space (a no-break space too). */
    private static final Pattern WHITE_SPACE_INSIDE =
            Pattern.compile("[^\\s\\p{Z}\\uFEFF]([\\s\\p{Z}\\uFEFF]+)[^\\s\\p{Z}\\uFEFF]");

    private Addresses() {
    }

    private static final Pattern ASCII_DIGITS = Pattern.compile("[0-9]+");
    /** A host that can only be meant as an IPv4 address: digits and dots. */
    private static final Pattern IPV4_LIKE = Pattern.compile("[0-9.]+");

    /** A host and port as written, the host without brackets. */
    record HostPort(String host, int port) {
    }

    /** Splits {@code host:port}, {@code [v6]:port} or {@code *:port}; the port must be in minPort..65535. */
    static HostPort hostPort(String text, int minPort) {
        Matcher inside = WHITE_SPACE_INSIDE.matcher(text);
        if (inside.find()) {
            // HOCON joins values side by side in a list with what is between them: ["a:1" "b:2"] is one, "a:1 b:2"
            String between = inside.group(1);
            String said = between.equals(" ") ? "a space" : between.equals("\t") ? "a tab" : "white space";
            throw new IllegalArgumentException("is two values with " + said + " between them (a comma missing?)");
        }
        if (text.contains("://")) {
            // "http://127.0.0.1:8080" was "an IPv6 address must be written in brackets"
            throw new IllegalArgumentException("is a URL, not an address: write host:port, such as 127.0.0.1:8080");
        }
        String host;
        String port;
        if (text.startsWith("[")) {
            int close = text.indexOf(']');
            if (close < 0 || close + 1 >= text.length() || text.charAt(close + 1) != ':') {
                throw new IllegalArgumentException("is not [v6-address]:port");
            }
            host = text.substring(1, close);
            port = text.substring(close + 2);
            if (!host.contains(":")) {
                throw new IllegalArgumentException("brackets are for IPv6 addresses only");
            }
        } else {
            int colon = text.lastIndexOf(':');
            if (colon < 0 && ASCII_DIGITS.matcher(text).matches()) {
                // nginx's "listen 80", php-fpm's "listen = 9000": a port alone (a minimum port of 0 is a listener's)
                throw new IllegalArgumentException(minPort == 0
                        ? "is a port alone (nginx's listen " + text + "): write \"*:" + text + "\" for every address,"
                                + " or an address and the port, \"127.0.0.1:" + text + "\""
                        : "is a port alone: write the address php-fpm listens on and the port, \"127.0.0.1:" + text
                                + "\"");
            }
            if (colon < 0) {
                throw new IllegalArgumentException("has no port");
            }
            host = text.substring(0, colon);
            port = text.substring(colon + 1);
            if (host.contains(":")) {
                throw new IllegalArgumentException("an IPv6 address must be written in brackets, [::1]:8080");
            }
        }
        if (host.isEmpty()) {
            throw new IllegalArgumentException("has no host");
        }
        int number;
        try {
            // ASCII digits alone: Integer.parseInt also takes "+8080" and other scripts' digits ("\u0668\u0660")
            number = ASCII_DIGITS.matcher(port).matches() ? Integer.parseInt(port) : -1;
        } catch (NumberFormatException e) {
            number = -1;
        }
        if (number < 0) {
            throw new IllegalArgumentException("port \"" + port + "\" is not a number");
        }
        if (number < minPort || number > 65535) {
            throw new IllegalArgumentException("port " + number + " is out of range " + minPort + "..65535");
        }
        return new HostPort(host, number);
    }

    /**
     * A listen address, resolved now (an unknown host name is a configuration error, not a bind error): a host name
     * gives each of its addresses, as nginx (since 1.15.10) listens on them all ("localhost:8080" on 127.0.0.1 and
     * ::1, where /etc/hosts has both, so that a client trying ::1 first is answered). Port 0 asks the kernel for a
     * free port, which tests use.
     */
    static List<InetSocketAddress> listen(String text) {
        HostPort hostPort = hostPort(text, 0);
        if (hostPort.host().equals("*")) {
            return List.of(new InetSocketAddress(hostPort.port()));
        }
        if ((hostPort.host().contains(":") || IPV4_LIKE.matcher(hostPort.host()).matches())
                && AddressRange.literal(hostPort.host()) == null) {
            // 0177.0.0.1: 177.0.0.1 to InetAddress and nginx (decimal), 127.0.0.1 to glibc's inet_aton (octal)
            throw new IllegalArgumentException("\"" + hostPort.host() + "\" is not an IP address (four numbers 0-255"
                    + " without leading zeros, or IPv6)");
        }
        try {
            Set<InetSocketAddress> each = new LinkedHashSet<>(); // the resolver's order, each once
            for (InetAddress address : InetAddress.getAllByName(hostPort.host())) {
                each.add(new InetSocketAddress(address, hostPort.port()));
            }
            return List.copyOf(each);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("unknown host \"" + hostPort.host() + "\"");
        }
    }

    /**
     * A FastCGI backend address in canonical form: {@code unix:} with an absolute path (relative ones
     * resolved against {@code base}), or {@code host:port} as written (resolved when connecting, so a
     * backend host may come and go in DNS).
     */
    static String backend(String text, Path base) {
        if (text.startsWith(UNIX_PREFIX)) {
            String socket = text.substring(UNIX_PREFIX.length());
            if (socket.isEmpty()) {
                throw new IllegalArgumentException("has no socket path");
            }
            return UNIX_PREFIX + unixSocket(base.resolve(socket).normalize());
        }
        if (text.startsWith("*")) {
            throw new IllegalArgumentException("a backend needs a host, not *");
        }
        if (text.regionMatches(true, 0, TCP_PREFIX, 0, TCP_PREFIX.length()) && !text.contains("://")) {
            // "tcp:127.0.0.1:9000" was "an IPv6 address must be written in brackets": its host held a colon
            throw new IllegalArgumentException("has a \"tcp:\" prefix, which is not taken: write host:port (\""
                    + text.substring(TCP_PREFIX.length()) + "\") or unix:/path");
        }
        hostPort(text, 1);
        return text;
    }

    /** Checks that {@code socket} fits in sun_path and returns it as text. */
    static String unixSocket(Path socket) {
        String path = socket.toString();
        int length = path.getBytes(StandardCharsets.UTF_8).length;
        if (length > MAX_UNIX_PATH_BYTES) {
            throw new IllegalArgumentException("socket path is " + length + " bytes, longer than the "
                    + MAX_UNIX_PATH_BYTES + " a Unix socket address holds");
        }
        return path;
    }

    /**
     * An address or a range of them: {@code "10.0.0.7"}, {@code "::1"}, {@code "10.0.0.0/8"}, {@code "fd00::/8"}. A
     * range whose address has bits set past its prefix ({@code "10.0.0.7/8"}) is refused, as nginx warns of it: the
     * writer meant another one.
     */
    static AddressRange range(String text) {
        int slash = text.indexOf('/');
        if (slash < 0) {
            return AddressRange.of(literal(text));
        }
        InetAddress network = literal(text.substring(0, slash));
        // an IPv4-mapped IPv6 network (::ffff:10.0.0.0/104) is read as the IPv4 one its last 32 bits are, as its
        // addresses are (a mapped client is its IPv4 address)
        int mapped = text.indexOf(':') >= 0 && network.getAddress().length == 4 ? 96 : 0;
        int bits = network.getAddress().length * 8 + mapped;
        String length = text.substring(slash + 1);
        int prefix;
        if (!length.matches("\\d{1,3}") || (prefix = Integer.parseInt(length)) > bits || prefix < mapped) {
            throw new IllegalArgumentException("has no prefix length from " + mapped + " to " + bits + " after its '/'");
        }
        prefix -= mapped;
        AddressRange range = new AddressRange(network, prefix);
        if (range.hasBitsPastPrefix()) {
            throw new IllegalArgumentException("has bits set past its /" + (prefix + mapped));
        }
        return range;
    }

    /**
     * An IPv4 or IPv6 literal (no host names: an allow list must not depend on DNS), parsed here and never looked up:
     * {@code InetAddress.getByName} takes "300.0.0.1", four decimal groups out of range, for a name to resolve.
     */
    static InetAddress literal(String text) {
        InetAddress address = AddressRange.literal(text);
        if (address == null) {
            throw new IllegalArgumentException("is not an IP address");
        }
        return address;
    }
}
