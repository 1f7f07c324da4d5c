package io.edge.core.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.conf.AddressRange;
import io.edge.conf.ServerSettings.RealIp;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import org.junit.jupiter.api.Test;

class ClientSchemeTest {

    private static final InetSocketAddress PROXY = new InetSocketAddress(InetAddress.getLoopbackAddress(), 41000);
    private static final InetSocketAddress STRANGER = new InetSocketAddress("198.51.100.7", 50000);
    private static final List<AddressRange> LOOPBACK = List.of(new AddressRange(InetAddress.getLoopbackAddress(), 32));
    private static final RealIp PROTO_HEADER = new RealIp(LOOPBACK, "X-Forwarded-For", false, false,
            "X-Forwarded-Proto");

    private static HttpHeaders proto(String... lines) {
        HttpHeaders headers = new DefaultHttpHeaders();
        for (String line : lines) {
            headers.add("X-Forwarded-Proto", line);
        }
        return headers;
    }

    @Test
    void httpsCaseIgnoredIsHttpsAndAnythingElseHttp() {
        assertThat(ClientScheme.saysHttps(List.of("https"))).isTrue();
        assertThat(ClientScheme.saysHttps(List.of("HTTPS"))).isTrue();
        assertThat(ClientScheme.saysHttps(List.of(" https\t"))).isTrue();
        assertThat(ClientScheme.saysHttps(List.of("http"))).isFalse();
        assertThat(ClientScheme.saysHttps(List.of(""))).isFalse();
        assertThat(ClientScheme.saysHttps(List.of("on"))).isFalse();
        assertThat(ClientScheme.saysHttps(List.of("https2"))).isFalse();
        assertThat(ClientScheme.saysHttps(List.of("wss"))).isFalse();
        assertThat(ClientScheme.saysHttps(List.of())).isFalse();
    }

    /** The nearest proxy's entry is the last: what came before it (a client's own word among it) is not read. */
    @Test
    void ofAListOrSeveralLinesTheLastEntryIsRead() {
        assertThat(ClientScheme.saysHttps(List.of("http, https"))).isTrue();
        assertThat(ClientScheme.saysHttps(List.of("https, http"))).isFalse();
        assertThat(ClientScheme.saysHttps(List.of("https,"))).isFalse();
        assertThat(ClientScheme.saysHttps(List.of("https", "http"))).isFalse();
        assertThat(ClientScheme.saysHttps(List.of("http", "http,https"))).isTrue();
    }

    @Test
    void onlyATrustedProxySaysIt() {
        assertThat(ClientScheme.https(PROXY, false, false, proto("https"), PROTO_HEADER)).isTrue();
        assertThat(ClientScheme.https(PROXY, false, false, proto(), PROTO_HEADER)).isFalse();
        assertThat(ClientScheme.https(STRANGER, false, false, proto("https"), PROTO_HEADER)).as("a client").isFalse();
        assertThat(ClientScheme.https(null, false, false, proto("https"), PROTO_HEADER)).isFalse();
        // no header named, or no proxy trusted: never read
        assertThat(ClientScheme.https(PROXY, false, false, proto("https"),
                new RealIp(LOOPBACK, "X-Forwarded-For", false, false))).isFalse();
        assertThat(ClientScheme.https(PROXY, false, false, proto("https"),
                new RealIp(List.of(), "X-Forwarded-For", false, false, "X-Forwarded-Proto"))).isFalse();
        // its name is a header's: case ignored
        assertThat(ClientScheme.https(PROXY, false, false, proto("https"),
                new RealIp(LOOPBACK, "X-Forwarded-For", false, false, "x-forwarded-proto"))).isTrue();
    }

    /**
     * A connection that began with a PROXY protocol header is https as its SSL field says, the header not read on
     * top; one from the proxy accepted before a reload turned the protocol on is read as before it.
     */
    @Test
    void underTheProxyProtocolItsSslFieldSaysIt() {
        RealIp proxyProtocol = new RealIp(LOOPBACK, "X-Forwarded-For", false, true);
        assertThat(ClientScheme.https(PROXY, true, true, proto(), proxyProtocol)).isTrue();
        assertThat(ClientScheme.https(PROXY, true, false, proto("https"), proxyProtocol)).isFalse();
        assertThat(ClientScheme.https(PROXY, true, false, proto("https"), PROTO_HEADER)).isFalse();
        assertThat(ClientScheme.https(PROXY, false, false, proto("https"), PROTO_HEADER)).isTrue();
    }
}
