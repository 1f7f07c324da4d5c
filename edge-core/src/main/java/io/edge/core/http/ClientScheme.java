package io.edge.core.http;

import io.edge.conf.ServerSettings;
import io.netty.handler.codec.http.HttpHeaders;
import java.net.InetSocketAddress;
import java.util.List;

/**
 * Whether a request came over TLS to the proxy in front that ended it ({@code server.real-ip}): edge itself speaks
 * plain HTTP, so a request is https only where a trusted proxy says so, as {@link ClientAddress} takes the client's
 * address. On a connection accepted to begin with a PROXY protocol header its SSL field says it
 * ({@link ProxyProtocol#clientTls}); on one from a trusted proxy, {@code real-ip.proto-header}'s last entry
 * ({@code X-Forwarded-Proto: https}, case ignored), also on one accepted before a reload turned the PROXY protocol on
 * (as {@link ClientAddress} reads its header there); every other request is http, whatever it sends.
 */
final class ClientScheme {

    private ClientScheme() {
    }

    /**
     * Whether the request with {@code headers} is https under {@code realIp}, from {@code peer} (its connection's
     * own peer, never the PROXY protocol's source): {@code proxied} and {@code proxiedTls} as
     * {@link ProxyProtocol#expected} and {@link ProxyProtocol#clientTls} say of its connection.
     */
    static boolean https(InetSocketAddress peer, boolean proxied, boolean proxiedTls, HttpHeaders headers,
                         ServerSettings.RealIp realIp) {
        if (proxied) {
            return proxiedTls;
        }
        if (realIp.protoHeader().isEmpty() || !realIp.enabled() || peer == null
                || !realIp.trusts(peer.getAddress())) {
            return false;
        }
        return saysHttps(headers.getAll(realIp.protoHeader()));
    }

    /**
     * Whether the lines of a scheme header say https: the last entry of the last line (a list's entries separated by
     * commas, blanks around them dropped), the one the nearest proxy wrote, is "https", case ignored. Anything else,
     * an empty last entry or no line at all, is http: a proxy that lists the schemes of a chain ("https, http") says
     * with its own entry how it was reached, and the entries before it came from farther away, a client's among them.
     */
    static boolean saysHttps(List<String> lines) {
        if (lines.isEmpty()) {
            return false;
        }
        String last = lines.get(lines.size() - 1);
        return last.substring(last.lastIndexOf(',') + 1).strip().equalsIgnoreCase("https");
    }
}
