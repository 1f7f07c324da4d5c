package io.edge.core.tls;

import static org.assertj.core.api.Assertions.assertThat;

import javax.security.auth.x500.X500Principal;
import org.junit.jupiter.api.Test;

/** {@link ClientCertificates}' forms of a certificate's names, each as nginx 1.22 (OpenSSL 3) wrote the same one. */
class ClientCertificatesTest {

    /**
     * OpenSSL's RFC 2253 escapes {@code ,+"\<>;} anywhere and a "#" or a space that begins a value, not an "=" or a "#"
     * within one, which the JDK escapes too (it wrote "F\=G\#H").
     */
    @Test
    void namesAreEscapedAsOpenSslEscapesThem() {
        X500Principal name = new X500Principal("CN=\\#lead,OU=\\ lead,O=A\\+B\\;C\\\"D\\<E\\>F\\=G\\#H\\\\I,C=DE+L=a\\=\\#b");
        assertThat(ClientCertificates.rfc2253(name))
                .isEqualTo("CN=\\#lead,OU=\\ lead,O=A\\+B\\;C\\\"D\\<E\\>F=G#H\\\\I,C=DE+L=a=#b");
    }
}
