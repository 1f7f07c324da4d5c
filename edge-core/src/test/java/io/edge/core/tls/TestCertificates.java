package io.edge.core.tls;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.fastcgi.tls.RevocationList;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Certificates made by the openssl CLI in a folder of a test's, as an operator makes them: self-signed CAs, keys and
 * certificates they sign, one that expired long ago (openssl ca alone writes past dates). Each file is name.pem and
 * name.key there.
 */
public final class TestCertificates {

    private final Path dir;

    public TestCertificates(Path dir) {
        this.dir = dir;
    }

    /** What openssl said, run in the folder; it must succeed. */
    public String openssl(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("openssl"));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("openssl.log").toFile()).start();
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        String said = Files.readString(dir.resolve("openssl.log"));
        assertThat(process.exitValue()).as(String.join(" ", command) + ": " + said).isZero();
        return said;
    }

    /** A key and a self-signed certificate (a CA's, or a client's that no CA signed) of {@code subject}. */
    public void selfSigned(String name, String subject) throws Exception {
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", name + ".key", "-out", name + ".pem",
                "-days", "2", "-subj", subject);
    }

    /**
     * A key and a certificate of {@code subject} signed by the CA {@code ca}, good for two days; {@code extensions}
     * (openssl's lines, such as "extendedKeyUsage=serverAuth") null for none.
     */
    public void signed(String name, String ca, String subject, String extensions) throws Exception {
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", name + ".key", "-out", name + ".csr", "-utf8",
                "-subj", subject);
        List<String> args = new ArrayList<>(List.of("x509", "-req", "-in", name + ".csr", "-CA", ca + ".pem",
                "-CAkey", ca + ".key", "-CAcreateserial", "-days", "2", "-out", name + ".pem"));
        if (extensions != null) {
            Files.writeString(dir.resolve(name + ".ext"), extensions + "\n");
            args.addAll(List.of("-extfile", name + ".ext"));
        }
        openssl(args.toArray(String[]::new));
    }

    /** A CA's certificate of {@code subject} signed by the CA {@code ca}: an intermediate. */
    public void intermediate(String name, String ca, String subject) throws Exception {
        signed(name, ca, subject, "basicConstraints=critical,CA:true\nkeyUsage=keyCertSign,cRLSign");
    }

    /**
     * A key and a certificate of {@code subject} signed by {@code ca} by openssl ca, which keeps a database of what
     * it signed (ca-{@code ca}/, for {@link #revoke} and {@link #crl}): from {@code start} to {@code end}
     * ("20200101000000Z"), or good for two days where they are null.
     */
    public void signedByCa(String name, String ca, String subject, String start, String end) throws Exception {
        database(ca);
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", name + ".key", "-out", name + ".csr", "-subj",
                subject);
        List<String> args = new ArrayList<>(List.of("ca", "-batch", "-config", "ca-" + ca + ".cnf", "-cert",
                ca + ".pem", "-keyfile", ca + ".key", "-in", name + ".csr", "-out", name + ".pem"));
        args.addAll(start == null ? List.of("-days", "2") : List.of("-startdate", start, "-enddate", end));
        openssl(args.toArray(String[]::new));
    }

    /**
     * As {@link #signedByCa(String, String, String, String, String)}, good for two days, with {@code extensions}
     * (openssl's lines, such as "authorityInfoAccess=OCSP;URI:http://127.0.0.1:8888/").
     */
    public void signedByCa(String name, String ca, String subject, String extensions) throws Exception {
        database(ca);
        Files.writeString(dir.resolve(name + ".ext"), extensions + "\n");
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", name + ".key", "-out", name + ".csr", "-subj",
                subject);
        openssl("ca", "-batch", "-config", "ca-" + ca + ".cnf", "-cert", ca + ".pem", "-keyfile", ca + ".key", "-in",
                name + ".csr", "-out", name + ".pem", "-days", "2", "-extfile", name + ".ext");
    }

    /**
     * The OCSP response of {@code ca}'s responder for {@code name} in {@code response} (DER), as openssl ocsp answers
     * from what {@link #signedByCa} signed and {@link #revoke} revoked, signed by {@code signer} (the CA, or a
     * responder certificate), next update in an hour.
     */
    public void ocspResponse(String name, String ca, String signer, String response) throws Exception {
        openssl("ocsp", "-issuer", ca + ".pem", "-cert", name + ".pem", "-no_nonce", "-reqout", name + ".ocsp-req");
        openssl("ocsp", "-index", "ca-" + ca + "/index.txt", "-rsigner", signer + ".pem", "-rkey", signer + ".key",
                "-CA", ca + ".pem", "-reqin", name + ".ocsp-req", "-respout", response, "-nmin", "60");
    }

    /** An intermediate CA's key and certificate of {@code subject} signed by {@code ca} by openssl ca (revocable). */
    public void intermediateByCa(String name, String ca, String subject) throws Exception {
        database(ca);
        Files.writeString(dir.resolve(name + ".ext"),
                "basicConstraints=critical,CA:true\nkeyUsage=keyCertSign,cRLSign\n");
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", name + ".key", "-out", name + ".csr", "-subj",
                subject);
        openssl("ca", "-batch", "-config", "ca-" + ca + ".cnf", "-cert", ca + ".pem", "-keyfile", ca + ".key", "-in",
                name + ".csr", "-out", name + ".pem", "-extfile", name + ".ext", "-days", "2");
    }

    /** A CA's key and self-signed certificate of {@code subject} from {@code start} to {@code end}, by openssl ca. */
    public void selfSignedByCa(String name, String subject, String start, String end) throws Exception {
        database(name);
        Files.writeString(dir.resolve(name + ".ext"),
                "basicConstraints=critical,CA:true\nkeyUsage=keyCertSign,cRLSign\n");
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", name + ".key", "-out", name + ".csr", "-subj",
                subject);
        openssl("ca", "-batch", "-config", "ca-" + name + ".cnf", "-selfsign", "-keyfile", name + ".key", "-in",
                name + ".csr", "-out", name + ".pem", "-extfile", name + ".ext", "-startdate", start, "-enddate", end);
    }

    /** The database of what {@code ca} signed by openssl ca (ca-{@code ca}/, ca-{@code ca}.cnf), made once. */
    private void database(String ca) throws Exception {
        Path database = dir.resolve("ca-" + ca);
        if (!Files.isDirectory(database)) {
            Files.createDirectories(database);
            Files.writeString(database.resolve("index.txt"), "");
            Files.writeString(database.resolve("serial"), "1000\n");
            Files.writeString(dir.resolve("ca-" + ca + ".cnf"), "[ca]\ndefault_ca = edge\n[edge]\ndatabase = ca-" + ca
                    + "/index.txt\nserial = ca-" + ca + "/serial\nnew_certs_dir = ca-" + ca + "\ndefault_md = sha256\n"
                    + "policy = any\ndefault_crl_days = 2\n[any]\ncommonName = supplied\n");
        }
    }

    /** Revokes {@code name}, which {@link #signedByCa} made with {@code ca}. */
    public void revoke(String name, String ca) throws Exception {
        openssl("ca", "-batch", "-config", "ca-" + ca + ".cnf", "-cert", ca + ".pem", "-keyfile", ca + ".key",
                "-revoke", name + ".pem");
    }

    /** The CRL of {@code ca}, in {@code ca}.crl: what {@link #revoke} revoked. */
    public void crl(String ca) throws Exception {
        openssl("ca", "-batch", "-config", "ca-" + ca + ".cnf", "-cert", ca + ".pem", "-keyfile", ca + ".key",
                "-gencrl", "-out", ca + ".crl");
    }

    /** The certificate of {@code name}.pem. */
    public X509Certificate certificate(String name) throws Exception {
        try (InputStream in = Files.newInputStream(dir.resolve(name + ".pem"))) {
            return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
    }

    /** The CRL of the file {@code name} ("ca.crl", which {@link #crl} wrote). */
    public RevocationList revocationList(String name) throws Exception {
        return RevocationList.of(der(dir.resolve(name)));
    }

    /** The DER of the PEM CRL of {@code file}, as openssl ca -gencrl writes it. */
    public static byte[] der(Path file) throws Exception {
        String pem = Files.readString(file);
        return Base64.getMimeDecoder().decode(pem.substring(pem.indexOf("-----BEGIN X509 CRL-----") + 24,
                pem.indexOf("-----END X509 CRL-----")));
    }

    /** {@code name}.pem, {@code name}.key, or another file of the folder. */
    public Path file(String name) {
        return dir.resolve(name);
    }
}
