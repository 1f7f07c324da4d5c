package io.edge.conf;

import java.net.URI;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * OCSP stapling of a site's certificate, as nginx's {@code ssl_stapling}, {@code ssl_stapling_file},
 * {@code ssl_stapling_responder} and {@code ssl_stapling_verify}: the file read (and the CAs) when the configuration is,
 * so a reload reads them again.
 *
 * @param enabled   whether handshakes that ask for the certificate's status get one stapled
 * @param file      the file {@code response} was read from, or null: the response is fetched from the responder
 * @param response  the DER OCSP response of {@code file}, stapled as it is; null without a file
 * @param responder the http:// URL asked, over the certificate's own (its AIA OCSP URL); null: that one
 * @param verify    whether a fetched response's signer must be the issuer or a responder it named
 * @param trusted   the CAs of {@code trusted-certificate}, where the issuer is looked for when the chain lacks it
 */
public record TlsStapling(boolean enabled, Path file, byte[] response, URI responder, boolean verify,
        List<X509Certificate> trusted) {

    /** No stapling (nginx's default, {@code ssl_stapling off}). */
    public static final TlsStapling OFF = new TlsStapling(false, null, null, null, false, List.of());

    public TlsStapling {
        response = response == null ? null : response.clone();
        trusted = List.copyOf(trusted);
    }

    @Override
    public byte[] response() {
        return response == null ? null : response.clone();
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof TlsStapling that && enabled == that.enabled && verify == that.verify
                && Objects.equals(file, that.file) && Arrays.equals(response, that.response)
                && Objects.equals(responder, that.responder) && trusted.equals(that.trusted);
    }

    @Override
    public int hashCode() {
        return Objects.hash(enabled, verify, file, Arrays.hashCode(response), responder, trusted);
    }

    @Override
    public String toString() {
        return "TlsStapling[enabled=" + enabled + ", file=" + file + ", responder=" + responder + ", verify=" + verify
                + "]";
    }
}
