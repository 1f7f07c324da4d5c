package io.edge.core.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.conf.LocationSettings.Redirects;
import io.edge.conf.SiteSettings;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import java.lang.reflect.Proxy;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The Location of edge's own redirects as nginx's header filter writes it, for the cases a real listener of a test
 * cannot show: the scheme's own port (80, 443) left out, an IPv6 address in brackets, a site without a name.
 */
class RedirectLocationTest {

    private static final Redirects NGINX = Redirects.DEFAULT;

    @Test
    void theSchemesOwnPortIsLeftOutAndAnotherIsWritten() {
        assertThat(RedirectLocation.of(exchange(false, "127.0.0.1", 80, "a.example"), NGINX, "/dir/"))
                .isEqualTo("http://a.example/dir/");
        assertThat(RedirectLocation.of(exchange(true, "127.0.0.1", 443, "a.example"), NGINX, "/dir/"))
                .isEqualTo("https://a.example/dir/");
        assertThat(RedirectLocation.of(exchange(false, "127.0.0.1", 443, "a.example"), NGINX, "/dir/"))
                .as("443 is https's own, not http's").isEqualTo("http://a.example:443/dir/");
        assertThat(RedirectLocation.of(exchange(true, "127.0.0.1", 80, "a.example"), NGINX, "/dir/"))
                .isEqualTo("https://a.example:80/dir/");
    }

    /**
     * Behind a proxy that ends TLS (real-ip's proto-header, a PROXY header's SSL field) the request is https but came
     * to edge over plain HTTP: its port 80 is plain HTTP's own, left out as nginx leaves it out (nginx judges by the
     * connection's TLS), not written into an https URL that no client could follow ({@code https://a.example:80/}).
     */
    @Test
    void theOwnPortIsTheConnectionsSchemesWhereAProxyInFrontEndedTls() {
        assertThat(RedirectLocation.of(exchange(true, false, "127.0.0.1", 80, "a.example"), NGINX, "/dir/"))
                .isEqualTo("https://a.example/dir/");
        assertThat(RedirectLocation.of(exchange(true, false, "127.0.0.1", 443, "a.example"), NGINX, "/dir/"))
                .as("443 is not plain HTTP's own, as nginx writes it").isEqualTo("https://a.example:443/dir/");
        assertThat(RedirectLocation.of(exchange(true, false, "127.0.0.1", 8080, "a.example"), NGINX, "/dir/"))
                .isEqualTo("https://a.example:8080/dir/");
    }

    @Test
    void withoutAHostTheAddressTheConnectionCameToIsTheHostAnIpv6OneInBrackets() {
        assertThat(RedirectLocation.of(exchange(false, "::1", 8080, null), NGINX, "/x"))
                .isEqualTo("http://[::1]:8080/x");
        assertThat(RedirectLocation.of(exchange(false, "::1", 8080, "[::1]:9"), NGINX, "/x"))
                .as("a Host's, without its port").isEqualTo("http://[::1]:8080/x");
    }

    @Test
    void aSiteWithoutAServerNameGivesTheHostsWhereServerNameInRedirectAsksForIt() {
        assertThat(RedirectLocation.of(exchange(false, "127.0.0.1", 8080, "a.example"),
                new Redirects(true, true, true), "/x")).isEqualTo("http://a.example:8080/x");
    }

    @Test
    void aUrlANetworkPathAndARelativeRedirectGoAsWritten() {
        Exchange exchange = exchange(false, "127.0.0.1", 8080, "a.example");
        assertThat(RedirectLocation.of(exchange, NGINX, "https://b.example/x")).isEqualTo("https://b.example/x");
        assertThat(RedirectLocation.of(exchange, NGINX, "//cdn.example/x")).isEqualTo("//cdn.example/x");
        assertThat(RedirectLocation.of(exchange, new Redirects(false, true, true), "/x")).isEqualTo("/x");
    }

    /**
     * An exchange that answers only what a redirect's Location is made of: its scheme, the address it came to, its
     * Host ({@code null}: none) and a site without server names; an https one over TLS edge ends.
     */
    private static Exchange exchange(boolean https, String address, int port, String host) {
        return exchange(https, https, address, port, host);
    }

    /** As above, {@code endsTls} saying whether edge ended the TLS of an https one, else a proxy in front did. */
    private static Exchange exchange(boolean https, boolean endsTls, String address, int port, String host) {
        HttpRequest request = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/");
        if (host != null) {
            request.headers().set("Host", host);
        }
        SiteSettings site = new SiteSettings(List.of(), true, Path.of("/srv"), List.of(), null, List.of());
        InetSocketAddress local = new InetSocketAddress(address, port);
        return (Exchange) Proxy.newProxyInstance(Exchange.class.getClassLoader(), new Class<?>[] {Exchange.class},
                (proxy, method, args) -> switch (method.getName()) {
                    case "https" -> https;
                    case "endsTls" -> endsTls;
                    case "localAddress" -> local;
                    case "request" -> request;
                    case "site" -> site;
                    default -> throw new UnsupportedOperationException(method.getName());
                });
    }
}
