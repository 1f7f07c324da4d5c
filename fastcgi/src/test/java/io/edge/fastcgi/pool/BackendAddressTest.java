package io.edge.fastcgi.pool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetSocketAddress;
import java.util.Arrays;
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

    /**
     * The spellings of one socket have one key, as pools count connections and the configuration warns of groups
     * sharing an address; host names are not looked up, nor IPv6 scopes changed.
     */
    @Test
    void theSpellingsOfOneSocketHaveOneKey() {
        String[][] same = {
            {"[::1]:9000", "[0::1]:9000", "[0:0:0:0:0:0:0:1]:9000", "[0000::0001]:9000"},
            {"127.0.0.1:9000", "[::ffff:127.0.0.1]:9000", "[::FFFF:7f00:1]:9000"},
            {"php.internal:9000", "PHP.Internal:9000"},
            {"unix:/run/php/fpm.sock", "unix:/run/php//fpm.sock", "unix:/run/./php/fpm.sock",
                "unix:/run/x/../php/fpm.sock"},
        };
        for (String[] spellings : same) {
            for (String spelling : spellings) {
                assertThat(BackendAddress.key(spelling)).as(spelling).isEqualTo(BackendAddress.key(spellings[0]))
                        .isEqualTo(BackendAddress.parse(spelling).key());
            }
        }
        assertThat(BackendAddress.key("[::1]:9000")).isEqualTo("[0:0:0:0:0:0:0:1]:9000");
        // parsed only where the interface exists
        assertThat(BackendAddress.key("[FE80:0::1%lo]:9000")).isEqualTo(BackendAddress.key("[fe80::1%lo]:9000"));
        String[] apart = {"localhost:9000", "127.0.0.1:9000", "[::1]:9000", "127.0.0.1:9001", "127.0.0.2:9000",
            "unix:/run/php/fpm.sock", "unix:/run/php/FPM.sock", "[fe80::1%lo]:9000", "[fe80::1%LO]:9000"};
        assertThat(Arrays.stream(apart).map(BackendAddress::key).distinct()).hasSize(apart.length);
    }
}
