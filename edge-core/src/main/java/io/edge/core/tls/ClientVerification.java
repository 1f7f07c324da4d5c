package io.edge.core.tls;

import java.security.cert.X509Certificate;

/**
 * What came of a connection's client certificate: none sent, or one and its check ({@link ClientVerifier}).
 *
 * @param certificate the client's certificate, null where it sent none
 * @param error       0 where the check passed, else OpenSSL's X509_V_ERR_* code of why it failed, or below 0 what
 *                    its OCSP check said (revoked, unknown, no answer)
 */
public record ClientVerification(X509Certificate certificate, int error) {

    /** No certificate sent (or none asked for). */
    public static final ClientVerification NONE = new ClientVerification(null, 0);

    static ClientVerification success(X509Certificate certificate) {
        return new ClientVerification(certificate, 0);
    }

    static ClientVerification failed(X509Certificate certificate, int error) {
        return new ClientVerification(certificate, error);
    }

    /** Whether the client sent a certificate. */
    public boolean sent() {
        return certificate != null;
    }

    /** Whether it sent one that failed its check. */
    public boolean failed() {
        return certificate != null && error != 0;
    }

    /**
     * Whether it failed only for want of a trusted CA (self-signed, an issuer not trusted), which nginx's
     * {@code ssl_verify_client optional_no_ca} lets through (ngx_ssl_verify_error_optional).
     */
    public boolean failedForWantOfCa() {
        return failed() && (error == ClientVerifier.DEPTH_ZERO_SELF_SIGNED_CERT
                || error == ClientVerifier.SELF_SIGNED_CERT_IN_CHAIN
                || error == ClientVerifier.UNABLE_TO_GET_ISSUER_CERT
                || error == ClientVerifier.UNABLE_TO_GET_ISSUER_CERT_LOCALLY
                || error == ClientVerifier.UNABLE_TO_VERIFY_LEAF_SIGNATURE);
    }

    /** nginx's {@code $ssl_client_verify}: SUCCESS, FAILED:reason (OpenSSL's words), or NONE. */
    public String verifyVariable() {
        return certificate == null ? "NONE" : error == 0 ? "SUCCESS" : "FAILED:" + reason();
    }

    /** OpenSSL's words for why the check failed ("certificate has expired"), for the log and the variable. */
    public String reason() {
        return ClientVerifier.reason(error);
    }
}
