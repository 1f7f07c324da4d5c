package io.edge.it;

import com.sun.net.httpserver.HttpExchange;
import io.edge.core.tls.TestCertificates;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Base64;

/**
 * An OCSP responder for tests: {@code openssl ocsp -index ... -reqin ... -respout} answering from the database of a CA
 * that {@link TestCertificates#signedByCa} kept, behind the JDK's HTTP server (as nginx's own tests answer them). Not
 * {@code openssl ocsp -port}: openssl 3.0's responder spins forever on a connection closed before its request came.
 */
final class OpensslOcspResponder {

    private OpensslOcspResponder() {
    }

    /**
     * Answers {@code exchange}, the GET form of a request ({@code encoded}: its base64, URL-escaped, RFC 6960 appendix
     * A.1), from {@code ca}'s database, signed by {@code ca}, next update in an hour; one at a time. One openssl cannot
     * read ends its connection unanswered.
     */
    static void answer(HttpExchange exchange, TestCertificates certificates, String ca, String encoded)
            throws IOException {
        byte[] body;
        synchronized (OpensslOcspResponder.class) {
            Files.write(certificates.file("asked.req"), Base64.getDecoder().decode(URLDecoder.decode(encoded,
                    StandardCharsets.US_ASCII)));
            Files.deleteIfExists(certificates.file("answer.der"));
            try {
                certificates.openssl("ocsp", "-index", "ca-" + ca + "/index.txt", "-rsigner", ca + ".pem", "-rkey",
                        ca + ".key", "-CA", ca + ".pem", "-reqin", "asked.req", "-respout", "answer.der", "-nmin",
                        "60");
            } catch (Exception e) {
                throw new IOException("openssl ocsp: " + e.getMessage(), e);
            }
            body = Files.readAllBytes(certificates.file("answer.der"));
        }
        exchange.getResponseHeaders().set("Content-Type", "application/ocsp-response");
        exchange.sendResponseHeaders(200, body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
        }
    }
}
