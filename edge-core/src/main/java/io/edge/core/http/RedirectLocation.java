package io.edge.core.http;

import io.edge.conf.LocationSettings;
import io.edge.core.route.Router;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.util.NetUtil;
import java.net.Inet6Address;
import java.net.InetSocketAddress;

/**
 * The {@code Location} of a redirect edge makes itself (a directory's missing slash, a return's or a rewrite's redirect)
 * as nginx's header filter writes it: a path ({@code /dir/}) made a URL, {@code scheme://host[:port]/dir/}, where
 * {@link LocationSettings.Redirects#absolute} (nginx's {@code absolute_redirect}, on by default) says so. Its host is
 * the site's first server name under {@link LocationSettings.Redirects#serverName} ({@code server_name_in_redirect}),
 * else the request's Host without its port, else the address the connection came to; its port, under
 * {@link LocationSettings.Redirects#port} ({@code port_in_redirect}), the one the connection came to, left out where it
 * is the connection's own scheme's, as nginx's (443 where edge ends TLS, else 80: also for https a proxy in front
 * ended). Unlike nginx's, the scheme is the request's {@code $scheme}, https also where a proxy
 * in front ended TLS (nginx writes http:// there), and a site without a server name takes the Host's (nginx writes
 * none: {@code http://:8080/dir/}).
 */
public final class RedirectLocation {

    private RedirectLocation() {
    }

    /**
     * {@code location}, a redirect's Location edge wrote, as {@code redirects} has it go to the client of
     * {@code exchange}: one that is not a path (a URL, {@code //host/}) as it is.
     */
    public static String of(Exchange exchange, LocationSettings.Redirects redirects, String location) {
        if (!redirects.absolute() || !location.startsWith("/") || location.startsWith("//")) {
            return location;
        }
        boolean https = exchange.https();
        StringBuilder url = new StringBuilder(https ? "https://" : "http://").append(host(exchange, redirects));
        int port = exchange.localAddress().getPort();
        // the connection's own scheme's port is left out, as nginx judges it (c->ssl): an https request a proxy in
        // front ended TLS for came to edge's port 80 as plain HTTP, and https://host:80/ is no URL a client can follow
        if (redirects.port() && port != (exchange.endsTls() ? 443 : 80)) {
            url.append(':').append(port);
        }
        return url.append(location).toString();
    }

    /** The URL's host: see the class comment. An IPv6 address in brackets, as a URL has it. */
    private static String host(Exchange exchange, LocationSettings.Redirects redirects) {
        if (redirects.serverName() && exchange.site() != null && !exchange.site().serverName().isEmpty()) {
            return exchange.site().serverName();
        }
        String header = exchange.request().headers().get(HttpHeaderNames.HOST);
        if (header != null && !header.isEmpty()) {
            return Router.hostName(header);
        }
        InetSocketAddress local = exchange.localAddress();
        String address = NetUtil.toAddressString(local.getAddress());
        return local.getAddress() instanceof Inet6Address ? "[" + address + "]" : address;
    }
}
