package io.edge.core.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import org.junit.jupiter.api.Test;

/** The hop-by-hop headers stay on their hop; proxy_hide_header's defaults are hidden from the client. */
class ProxyHeadersTest {

    @Test
    void aRequestLosesItsHopByHopHeadersHostAndExpect() {
        HttpHeaders client = new DefaultHttpHeaders()
                .add("Host", "edge.test").add("Connection", "keep-alive, X-Private").add("X-Private", "1")
                .add("Keep-Alive", "timeout=5").add("TE", "trailers").add("Upgrade", "websocket")
                .add("Proxy-Authorization", "Basic x").add("Proxy", "http://evil").add("Transfer-Encoding", "chunked")
                .add("Content-Length", "3").add("Expect", "100-continue").add("Cookie", "a=1").add("Accept", "*/*");
        HttpHeaders backend = new DefaultHttpHeaders();
        ProxyHeaders.copyRequest(client, backend);
        assertThat(backend.names()).containsExactlyInAnyOrder("Cookie", "Accept");
    }

    @Test
    void anAnswerLosesItsHopByHopHeadersAndNginxsHiddenOnes() {
        HttpHeaders answer = new DefaultHttpHeaders()
                .add("Date", "x").add("Server", "node").add("X-Pad", "y").add("X-Accel-Redirect", "/f")
                .add("X-Accel-Buffering", "no").add("Connection", "close").add("Keep-Alive", "timeout=5")
                .add("Transfer-Encoding", "chunked").add("Set-Cookie", "a=1").add("Set-Cookie", "b=2")
                .add("Content-Type", "application/json");
        HttpHeaders client = new DefaultHttpHeaders();
        ProxyHeaders.copyResponse(answer, client);
        assertThat(client.names()).containsExactlyInAnyOrder("Set-Cookie", "Content-Type");
        assertThat(client.getAll("Set-Cookie")).containsExactly("a=1", "b=2");
    }

    @Test
    void anUpgradeAsksForWhatTheClientNamedButH2c() {
        assertThat(ProxyHeaders.upgradeProtocols(new DefaultHttpHeaders().add("Upgrade", "websocket")))
                .isEqualTo("websocket");
        assertThat(ProxyHeaders.upgradeProtocols(new DefaultHttpHeaders().add("Upgrade", "h2c, websocket")))
                .isEqualTo("websocket");
        assertThat(ProxyHeaders.upgradeProtocols(new DefaultHttpHeaders().add("Upgrade", "H2C"))).isNull();
        assertThat(ProxyHeaders.upgradeProtocols(new DefaultHttpHeaders())).isNull();
    }
}
