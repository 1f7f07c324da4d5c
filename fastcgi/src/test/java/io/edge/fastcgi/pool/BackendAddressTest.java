package io.edge.fastcgi.pool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

/** A backend's address as configured: {@code host:port}, {@code [v6]:port} or {@code unix:/path}. */
class BackendAddressTest {

    @Test
    void aHostAndPortOrAUnixSocket() {
        BackendAddress tcp = BackendAddress.parse("127.0.0.1:9000");
        assertThat(tcp.isUnix()).isFalse();
        assertThat(((InetSocketAddress) tcp.address()).getPort()).isEqualTo(9000);
        assertThat(((InetSocketAddress) BackendAddress.parse("[::1]:9001").address()).getPort()).isEqualTo(9001);
        assertThat(BackendAddress.parse("unix:/run/php/fpm.sock").isUnix()).isTrue();
    }

    /** Integer.parseInt takes a sign and any script's digits: "+9000" and Arabic-Indic ٩٠٠٠ were port 9000. */
    @Test
    void aPortIsAsciiDigitsFrom1To65535() {
        for (String spec : new String[] {"127.0.0.1:+9000", "127.0.0.1:\u0669\u0660\u0660\u0660",
                "127.0.0.1:\uff19\uff10\uff10\uff10", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:-1"}) {
            assertThatThrownBy(() -> BackendAddress.parse(spec)).as(spec)
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("a port from 1 to 65535");
        }
    }
}
