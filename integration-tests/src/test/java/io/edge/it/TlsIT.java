package io.edge.it;

import static io.edge.it.Awaits.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edge.conf.ConfigException;
import io.edge.core.http.CapturedLog;
import io.edge.core.http.ServerField;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS ended by edge itself (nginx's {@code listen 443 ssl} and {@code ssl_certificate}): two sites with certificates of
 * a test CA made by the openssl CLI, one RSA with its key in PKCS#1, one ECDSA in SEC1; a client that verifies the chain
 * and the name, and sends SNI; static files of every size streamed through the cipher; a real php-fpm told HTTPS,
 * REQUEST_SCHEME and SERVER_PORT; plain HTTP to the TLS port answered 400; a reload taking a renewed certificate.
 */
@SuppressWarnings("try") // the edge of a test serves its requests
class TlsIT {

    /** The plain and the TLS listener's ports, free ones of this run's. */
    private static int PLAIN;
    private static int TLS;

    @TempDir
    static Path dir;

    static PhpFpm fpm;
    static SSLContext trustingTheTestCa;
    static Path www;
    static byte[] small;
    static Path large;

    @BeforeAll
    static void start() throws Exception {
        PLAIN = EdgeProcess.freePort();
        TLS = EdgeProcess.freePort();
        www = Files.createDirectories(dir.resolve("www"));
        Files.writeString(www.resolve("env.php"), "<?php echo $_SERVER['HTTPS'] ?? '-', ' ', $_SERVER['REQUEST_SCHEME'],"
                + " ' ', $_SERVER['SERVER_PORT'];\n");
        Files.write(www.resolve("empty.txt"), new byte[0]);
        small = "a small file\n".getBytes(StandardCharsets.US_ASCII);
        Files.write(www.resolve("small.txt"), small);
        Random random = new Random(7);
        byte[] block = new byte[1 << 20];
        random.nextBytes(block);
        try (OutputStream out = Files.newOutputStream(www.resolve("ten.bin"))) {
            for (int i = 0; i < 10; i++) {
                out.write(block);
            }
        }
        large = www.resolve("large.bin");
        try (OutputStream out = Files.newOutputStream(large)) {
            for (int i = 0; i < 120; i++) {
                block[0] = (byte) i;
                out.write(block);
            }
        }
        Files.createDirectories(www.resolve("thumbs"));
        for (int i = 0; i < 120; i++) {
            // 1 KiB to 120 KiB: read whole with the head up to the inline limit (the content cache's 64 KiB), in pieces
            // above it
            byte[] thumb = new byte[1024 * (i + 1)];
            random.nextBytes(thumb);
            Files.write(www.resolve("thumbs/" + i + ".jpg"), thumb);
        }
        Files.createDirectories(www.resolve("dir"));
        Files.createDirectories(www.resolve("protected"));
        Files.copy(www.resolve("ten.bin"), www.resolve("protected/ten.bin"));
        Files.writeString(www.resolve("dl.php"), "<?php header('X-Accel-Redirect: /protected/ten.bin');\n");
        Files.writeString(www.resolve("big.php"), "<?php echo str_repeat('0123456789abcdef', 262144);\n");
        Files.createDirectories(www.resolve("cached"));
        Files.writeString(www.resolve("cached/page.php"), "<?php header('Cache-Control: public, max-age=60');"
                + " echo str_repeat(uniqid() . ' ', 40000);\n");
        Files.createDirectories(www.resolve("assets"));
        Files.writeString(www.resolve("assets/app.js"), "console.log('plain');\n");
        Files.write(www.resolve("assets/app.js.gz"), new byte[] {0x1f, (byte) 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 3, 0,
                0, 0, 0, 0, 0, 0, 0, 0});
        fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 2\n");
        Path tls = Files.createDirectories(dir.resolve("tls"));
        openssl(tls, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days",
                "2", "-subj", "/CN=edge test CA");
        leaf(tls, "a", "rsa:2048", "/CN=a.test");
        openssl(tls, "rsa", "-in", "a.key", "-traditional", "-out", "a.key"); // PKCS#1, older certbot's
        openssl(tls, "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "b.key"); // SEC1
        signed(tls, "b", "/CN=b.test");
        trustingTheTestCa = TrustingContext.of(tls.resolve("ca.pem"));
    }

    @AfterAll
    static void stop() {
        EdgeHarness.close(null, fpm);
    }

    /** A key of {@code spec} and a certificate of it signed by the test CA, full chain in {@code name}.pem. */
    private static void leaf(Path tls, String name, String spec, String subject) throws Exception {
        openssl(tls, "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", name + ".key");
        signed(tls, name, subject);
    }

    private static void signed(Path tls, String name, String subject) throws Exception {
        String host = subject.substring(subject.indexOf('=') + 1).split("/")[0];
        openssl(tls, "req", "-new", "-key", name + ".key", "-out", name + ".csr", "-subj", subject);
        Files.writeString(tls.resolve(name + ".ext"), "subjectAltName=DNS:" + host + "\n");
        openssl(tls, "x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                "-days", "2", "-extfile", name + ".ext", "-out", name + ".leaf.pem");
        Files.writeString(tls.resolve(name + ".pem"), Files.readString(tls.resolve(name + ".leaf.pem"))
                + Files.readString(tls.resolve("ca.pem")));
    }

    private static void openssl(Path in, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("openssl"));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).directory(in.toFile()).redirectErrorStream(true)
                .redirectOutput(in.resolve("openssl.log").toFile()).start();
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).as(String.join(" ", command) + ": "
                + Files.readString(in.resolve("openssl.log"))).isZero();
    }

    private static String config() {
        return config("127.0.0.1:" + PLAIN, "127.0.0.1:" + TLS + " ssl");
    }

    /** Both sites on server.listen's {@code first} and {@code second}. */
    private static String config(String first, String second) {
        Path tls = dir.resolve("tls");
        return """
                server.listen = ["%s", "%s"]
                sites = [
                  { server-names = [a.test], default = true, root = "%s",
                    tls { certificate = "%s", key = "%s" },
                    locations = [
                      { match = "/" }
                      { match = "^~ /protected/", internal = true }
                      { match = "^~ /assets/", gzip { static = true, enabled = false } }
                      { match = "~ ^/cached/", fastcgi = php, cache = true }
                      { match = "~ \\\\.php$", fastcgi = php }
                      { match = "/vars", return = "200 $https $scheme $ssl_protocol $ssl_server_name $server_port" }
                      { match = "= /edge-status", status = true }
                    ] }
                  { server-names = [b.test], root = "%s", tls { certificate = "%s", key = "%s" } }
                ]
                fastcgi.backends.php { addresses = ["%s"], max-connections = 2 }
                """.formatted(first, second, www, tls.resolve("a.pem"), tls.resolve("a.key"), www, tls.resolve("b.pem"),
                tls.resolve("b.key"), fpm.address());
    }

    /** An edge of {@link #config} with its files in {@code name}'s folder. */
    private static EdgeHarness started(String name) throws Exception {
        return EdgeHarness.start(Files.createDirectories(dir.resolve(name)), config());
    }

    @Test
    void staticFilesOfEverySizeStreamThroughTheCipher() throws Exception {
        try (EdgeHarness edge = started("static");
             Client client = new Client("a.test")) {
            Answer empty = client.get("/empty.txt");
            assertThat(empty.status()).isEqualTo(200);
            assertThat(empty.body()).isEmpty();
            assertThat(client.get("/small.txt").body()).isEqualTo(small);
            assertThat(client.get("/ten.bin").sha256()).isEqualTo(sha256(www.resolve("ten.bin")));
            Answer range = client.get("/ten.bin", "Range: bytes=1048570-1048589");
            assertThat(range.status()).isEqualTo(206);
            byte[] ten = Files.readAllBytes(www.resolve("ten.bin"));
            assertThat(range.body()).isEqualTo(java.util.Arrays.copyOfRange(ten, 1048570, 1048590));
            Answer big = client.get("/large.bin");
            assertThat(big.length()).isEqualTo(Files.size(large));
            assertThat(big.sha256()).isEqualTo(sha256(large));
        }
    }

    /**
     * On TLS a file's bytes, a range's too, are read by the file engine into buffers (its reads counted, on the
     * loop's own ring where it has one), none sent as a sendfile region for FileRegionReader's threads to read; the
     * same file over plain HTTP goes by sendfile, as before.
     */
    @Test
    void overTlsTheFileEngineReadsAFileWhereSendfileSendsItOverPlainHttp() throws Exception {
        try (EdgeHarness edge = started("engine");
             Client client = new Client("a.test");
             Socket plain = new Socket("127.0.0.1", PLAIN)) {
            String ten = sha256(www.resolve("ten.bin"));
            Map<String, Double> before = engineCounters(edge);
            assertThat(client.get("/ten.bin").sha256()).isEqualTo(ten);
            assertThat(client.get("/ten.bin", "Range: bytes=2097152-4194303").length()).isEqualTo(2 << 20);
            Map<String, Double> overTls = engineCounters(edge);
            assertThat(overTls.get("edge_static_sendfile_regions_total")).as("regions over TLS")
                    .isEqualTo(before.get("edge_static_sendfile_regions_total"));
            assertThat(reads(overTls) - reads(before)).as("engine reads over TLS").isGreaterThanOrEqualTo(12);
            assertThat(Client.exchange(plain, "a.test", "/ten.bin").sha256()).isEqualTo(ten);
            assertThat(engineCounters(edge).get("edge_static_sendfile_regions_total")).as("regions over plain HTTP")
                    .isGreaterThan(overTls.get("edge_static_sendfile_regions_total"));
        }
    }

    /**
     * Many small files, below the inline limit and above it, one after the other on one kept-alive TLS connection;
     * twice, the second time from the content cache where it kept them.
     */
    @Test
    void manySmallFilesGoOverOneKeptAliveTlsConnection() throws Exception {
        try (EdgeHarness edge = started("thumbs");
             Client client = new Client("a.test")) {
            for (int round = 0; round < 2; round++) {
                for (int i = 0; i < 120; i++) {
                    Answer thumb = client.get("/thumbs/" + i + ".jpg");
                    assertThat(thumb.status()).isEqualTo(200);
                    assertThat(thumb.body()).as("thumb " + i).isEqualTo(Files.readAllBytes(www.resolve("thumbs/" + i
                            + ".jpg")));
                }
            }
        }
    }

    /** A range in the middle of a 10 MiB file, over several of the engine's reads. */
    @Test
    void aRangeInTheMiddleOfALargeFile() throws Exception {
        try (EdgeHarness edge = started("middle");
             Client client = new Client("a.test")) {
            Answer range = client.get("/ten.bin", "Range: bytes=3000001-7999999");
            assertThat(range.status()).isEqualTo(206);
            assertThat(range.headers().get("content-range")).isEqualTo("bytes 3000001-7999999/10485760");
            byte[] ten = Files.readAllBytes(www.resolve("ten.bin"));
            assertThat(range.length()).isEqualTo(4999999);
            assertThat(range.sha256()).isEqualTo(sha256(java.util.Arrays.copyOfRange(ten, 3000001, 8000000)));
        }
    }

    /** One file sent at once over plain HTTP (sendfile) and TLS (the engine's reads), whole to both. */
    @Test
    void theSameFileOverPlainAndTlsListenersAtOnce() throws Exception {
        try (EdgeHarness edge = started("both")) {
            String expected = sha256(large);
            ExecutorService clients = Executors.newFixedThreadPool(4);
            try {
                List<Future<String>> answers = new ArrayList<>();
                for (int i = 0; i < 2; i++) {
                    answers.add(clients.submit(() -> {
                        try (Client client = new Client("a.test")) {
                            return client.get("/large.bin").sha256();
                        }
                    }));
                    answers.add(clients.submit(() -> {
                        try (Socket plain = new Socket("127.0.0.1", PLAIN)) {
                            return Client.exchange(plain, "a.test", "/large.bin").sha256();
                        }
                    }));
                }
                for (Future<String> answer : answers) {
                    assertThat(answer.get(120, TimeUnit.SECONDS)).isEqualTo(expected);
                }
            } finally {
                clients.shutdownNow();
            }
        }
    }

    /**
     * A file truncated while it is sent over TLS: the engine's read past its new end fails, and the connection ends
     * with the body cut short, not left waiting; the next request gets the file as it is now.
     */
    @Test
    void aFileTruncatedWhileSentOverTlsEndsTheConnection() throws Exception {
        Path shrinks = www.resolve("shrinks.bin");
        byte[] block = new byte[1 << 20];
        new Random(11).nextBytes(block);
        try (OutputStream out = Files.newOutputStream(shrinks)) {
            for (int i = 0; i < 48; i++) {
                out.write(block);
            }
        }
        try (EdgeHarness edge = started("shrinks")) {
            cutShort(shrinks);
            try (Client client = new Client("a.test")) {
                assertThat(client.get("/shrinks.bin").sha256()).isEqualTo(sha256(shrinks));
            }
        }
    }

    /** GETs {@code shrinks} over TLS, truncates it to 2 MiB once 1 MiB came, and reads what comes until it ends. */
    private static void cutShort(Path shrinks) throws Exception {
        byte[] block = new byte[1 << 16];
        try (Socket tcp = new Socket("127.0.0.1", TLS);
             SSLSocket tls = (SSLSocket) trustingTheTestCa.getSocketFactory().createSocket(tcp, "a.test", TLS, true)) {
            tls.setSoTimeout(30_000); // a hang fails the test with a timeout, never ends it as a cut
            tls.getOutputStream().write("GET /shrinks.bin HTTP/1.1\r\nHost: a.test\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            InputStream in = new BufferedInputStream(tls.getInputStream());
            byte[] first = in.readNBytes(1 << 20);
            assertThat(new String(first, 0, 15, StandardCharsets.US_ASCII)).isEqualTo("HTTP/1.1 200 OK");
            try (FileChannel file = FileChannel.open(shrinks, StandardOpenOption.WRITE)) {
                file.truncate(2 << 20);
            }
            long rest = 0;
            try {
                for (int n; (n = in.read(block)) >= 0; ) {
                    rest += n;
                }
            } catch (SocketTimeoutException hung) {
                throw new AssertionError("the connection was left open after " + rest + " more bytes", hung);
            } catch (IOException cut) {
                // the connection closed without TLS's close_notify: a body cut short, as the client is told
            }
            assertThat((1 << 20) + rest).as("what came of 48 MiB").isLessThan(48L << 20);
        }
    }

    /** The file engine's counters, from the status page's Prometheus text. */
    private static Map<String, Double> engineCounters(EdgeHarness edge) throws Exception {
        Map<String, Double> counters = new LinkedHashMap<>();
        try (Socket plain = new Socket("127.0.0.1", PLAIN)) {
            for (String line : Client.exchange(plain, "a.test", "/edge-status?format=prometheus").text().split("\n")) {
                if (line.startsWith("edge_static_")) {
                    String[] parts = line.split(" ");
                    counters.put(parts[0].replaceAll("\\{.*", ""), Double.parseDouble(parts[parts.length - 1]));
                }
            }
        }
        assertThat(counters).containsKeys("edge_static_sendfile_regions_total", "edge_static_resident_reads_total",
                "edge_static_async_reads_total");
        return counters;
    }

    private static double reads(Map<String, Double> counters) {
        return counters.get("edge_static_resident_reads_total") + counters.get("edge_static_async_reads_total");
    }

    /** Every answer that leaves as a file region on plain HTTP goes through the cipher on TLS. */
    @Test
    void answersOfScriptsTheCacheAndCompressedFilesGoThroughTheCipher() throws Exception {
        try (EdgeHarness edge = started("kinds");
             Client client = new Client("a.test")) {
            Answer handedOut = client.get("/dl.php");
            assertThat(handedOut.status()).isEqualTo(200);
            assertThat(handedOut.sha256()).isEqualTo(sha256(www.resolve("ten.bin")));
            Answer big = client.get("/big.php");
            assertThat(big.length()).isEqualTo(4L << 20);
            assertThat(big.sha256()).isEqualTo(sha256("0123456789abcdef".repeat(262144).getBytes(StandardCharsets.US_ASCII)));
            Answer first = client.get("/cached/page.php");
            Answer hit = client.get("/cached/page.php");
            assertThat(first.length()).isGreaterThan(100_000);
            assertThat(hit.sha256()).isEqualTo(first.sha256());
            Answer compressed = client.get("/assets/app.js", "Accept-Encoding: gzip");
            assertThat(compressed.headers().get("content-encoding")).isEqualTo("gzip");
            assertThat(compressed.body()).isEqualTo(Files.readAllBytes(www.resolve("assets/app.js.gz")));
        }
    }

    /** A handshake that fails (no version in common, garbage for a hello) closes that connection alone. */
    @Test
    void aFailedHandshakeClosesItsConnectionAlone() throws Exception {
        try (EdgeHarness edge = started("failed")) {
            try (SSLSocket old = (SSLSocket) trustingTheTestCa.getSocketFactory().createSocket("127.0.0.1", TLS)) {
                old.setEnabledProtocols(new String[] {"TLSv1.1"});
                assertThatThrownBy(old::startHandshake).isInstanceOf(IOException.class);
            }
            try (Socket garbage = new Socket("127.0.0.1", TLS)) {
                garbage.getOutputStream().write(new byte[] {0x16, 3, 1, 0, 5, 1, 2, 3, 4, 5});
                garbage.setSoTimeout(10_000);
                assertThat(garbage.getInputStream().readAllBytes()).as("closed, an alert at most").hasSizeLessThan(64);
            }
            try (Client client = new Client("a.test")) {
                assertThat(client.get("/small.txt").body()).isEqualTo(small);
            }
        }
    }

    @Test
    void phpAndTheVariablesSeeHttps() throws Exception {
        try (EdgeHarness edge = started("php");
             Client client = new Client("a.test")) {
            assertThat(client.get("/env.php").text()).isEqualTo("on https " + TLS);
            assertThat(client.get("/vars").text()).matches("on https TLSv1\\.[23] a\\.test " + TLS);
            Answer redirect = client.get("/dir");
            assertThat(redirect.status()).isEqualTo(301);
            assertThat(redirect.headers().get("location")).as("absolute-redirect: https, as nginx's on an ssl listener")
                    .isEqualTo("https://a.test:" + TLS + "/dir/");
            try (Socket plain = new Socket("127.0.0.1", PLAIN)) {
                Answer answer = Client.exchange(plain, "a.test", "/env.php");
                assertThat(answer.text()).isEqualTo("- http " + PLAIN);
            }
        }
    }

    @Test
    void sniChoosesTheSitesCertificate() throws Exception {
        try (EdgeHarness edge = started("sni")) {
            try (Client a = new Client("a.test"); Client b = new Client("b.test")) {
                assertThat(a.peer().getSubjectX500Principal().getName()).isEqualTo("CN=a.test");
                assertThat(b.peer().getSubjectX500Principal().getName()).isEqualTo("CN=b.test");
                assertThat(b.peer().getPublicKey().getAlgorithm()).isEqualTo("EC");
                assertThat(b.chain()).hasSize(2); // the chain file sent whole
                // the Host header routes, whatever the SNI name was, as nginx's
                assertThat(b.get("/vars", "Host: a.test").text()).contains(" b.test ");
            }
            try (Client unknown = new Client("c.test", false)) {
                assertThat(unknown.peer().getSubjectX500Principal().getName()).isEqualTo("CN=a.test"); // the default's
            }
        }
    }

    /** nginx's ssl_ciphers line as Mozilla's intermediate profile writes it, DHE's suites that BoringSSL lacks left out. */
    @Test
    void nginxsCipherLineIsTheOneOffered() throws Exception {
        Path tls = dir.resolve("tls");
        try (EdgeHarness edge = EdgeHarness.start(Files.createDirectories(dir.resolve("ciphers")), config()
                + "server.tls.ciphers = [\"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                + "DHE-RSA-AES128-GCM-SHA256\"]\n")) {
            assertThat(sClient(tls, "-tls1_2", "a.test")).contains("Cipher is ECDHE-RSA-AES128-GCM-SHA256");
            assertThat(sClient(tls, "-tls1_2", "a.test", "-cipher", "ECDHE-RSA-AES256-GCM-SHA384"))
                    .contains("Cipher is (NONE)");
            assertThat(sClient(tls, "-tls1_3", "a.test")).contains("New, TLSv1.3");
        }
    }

    /**
     * OpenSSL's cipher strings as nginx's ssl_ciphers takes them: nginx's default "HIGH:!aNULL:!MD5" starts and offers
     * what OpenSSL gives for it (ECDHE's AES-GCM, and plain RSA's CBC suites too); "ECDHE+AESGCM" leaves out the suites
     * it does not match, a client offering only one of those failing its handshake; TLSv1.3 on either way.
     */
    @Test
    void opensslCipherStringsOfferWhatOpensslGivesForThem() throws Exception {
        Path tls = dir.resolve("tls");
        try (EdgeHarness edge = EdgeHarness.start(Files.createDirectories(dir.resolve("high")), config()
                + "server.tls.ciphers = [\"HIGH:!aNULL:!MD5\"]\n")) {
            assertThat(sClient(tls, "-tls1_2", "a.test", "-cipher", "ECDHE-RSA-AES256-GCM-SHA384"))
                    .contains("Cipher is ECDHE-RSA-AES256-GCM-SHA384").contains("HTTP/1.1 200");
            assertThat(sClient(tls, "-tls1_2", "a.test", "-cipher", "AES128-SHA")).contains("Cipher is AES128-SHA");
            assertThat(sClient(tls, "-tls1_3", "a.test")).contains("New, TLSv1.3");
        }
        try (EdgeHarness edge = EdgeHarness.start(Files.createDirectories(dir.resolve("aesgcm")), config()
                + "server.tls.ciphers = [\"ECDHE+AESGCM\"]\n")) {
            assertThat(sClient(tls, "-tls1_2", "a.test", "-cipher", "AES128-SHA")).contains("Cipher is (NONE)");
            assertThat(sClient(tls, "-tls1_2", "a.test", "-cipher", "ECDHE-RSA-CHACHA20-POLY1305"))
                    .contains("Cipher is (NONE)");
            assertThat(sClient(tls, "-tls1_2", "a.test", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256"))
                    .contains("Cipher is ECDHE-RSA-AES128-GCM-SHA256");
            assertThat(sClient(tls, "-tls1_3", "a.test")).contains("New, TLSv1.3");
        }
    }

    /**
     * nginx's ssl_ecdh_curve: the group the client offers among those listed is the key exchange's ("Server Temp Key"),
     * in TLSv1.3 and TLSv1.2; a client offering only one not listed fails its handshake, X448 (BoringSSL has none) left
     * out.
     */
    @Test
    void ecdhCurveListsTheGroupsOfTheKeyExchange() throws Exception {
        Path tls = dir.resolve("tls");
        try (EdgeHarness edge = EdgeHarness.start(Files.createDirectories(dir.resolve("curves")), config()
                + "server.tls.ecdh-curve = \"X448:secp384r1:prime256v1\"\n")) {
            assertThat(sClient(tls, "-tls1_3", "a.test", "-groups", "X25519:P-384")).contains("New, TLSv1.3")
                    .contains("Server Temp Key: ECDH, secp384r1, 384 bits");
            assertThat(sClient(tls, "-tls1_2", "a.test", "-groups", "P-256", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256"))
                    .contains("New, TLSv1.2").contains("Server Temp Key: ECDH, prime256v1, 256 bits");
            assertThat(sClient(tls, "-tls1_3", "a.test", "-groups", "X25519")).contains("New, (NONE)")
                    .contains("alert handshake failure");
            assertThat(sClient(tls, "-tls1_3", "a.test", "-groups", "X448")).contains("New, (NONE)");
        }
    }

    /**
     * nginx's ssl_session_ticket_key: a session begun with one edge resumes by its ticket on another started after it
     * (a restart; so two behind one balancer) that has the same key among its keys, in TLSv1.2 and TLSv1.3, and not on
     * one without it; never with another site (SNI) than its own.
     */
    @Test
    void sessionTicketKeysResumeSessionsAcrossARestart() throws Exception {
        Path tls = dir.resolve("tls");
        Path keys = Files.createDirectories(dir.resolve("ticket-keys"));
        Random random = new Random(48);
        for (String name : List.of("old.key", "new.key")) {
            byte[] key = new byte[48];
            random.nextBytes(key);
            Files.write(keys.resolve(name), key);
        }
        String oldKey = "server.tls.session-ticket-keys = [\"" + keys.resolve("old.key") + "\"]\n";
        try (EdgeHarness edge = EdgeHarness.start(Files.createDirectories(dir.resolve("tickets-1")), config() + oldKey)) {
            assertThat(sClient(tls, "-tls1_2", "a.test", "-sess_out", "ticket12.pem")).contains("New, TLSv1.2")
                    .contains("TLS session ticket:");
            assertThat(sClient(tls, "-tls1_3", "a.test", "-sess_out", "ticket13.pem")).contains("New, TLSv1.3");
            assertThat(sClient(tls, "-tls1_2", "b.test", "-sess_in", "ticket12.pem")).contains("New, TLSv1.2");
        }
        try (EdgeHarness edge = EdgeHarness.start(Files.createDirectories(dir.resolve("tickets-2")), config()
                + "server.tls.session-ticket-keys = [\"" + keys.resolve("new.key") + "\", \"" + keys.resolve("old.key")
                + "\"]\n")) {
            assertThat(sClient(tls, "-tls1_2", "a.test", "-sess_in", "ticket12.pem")).contains("Reused, TLSv1.2");
            assertThat(sClient(tls, "-tls1_3", "a.test", "-sess_in", "ticket13.pem")).contains("Reused, TLSv1.3");
        }
        try (EdgeHarness edge = EdgeHarness.start(Files.createDirectories(dir.resolve("tickets-3")), config()
                + "server.tls.session-ticket-keys = [\"" + keys.resolve("new.key") + "\"]\n")) {
            assertThat(sClient(tls, "-tls1_2", "a.test", "-sess_in", "ticket12.pem")).contains("New, TLSv1.2");
            assertThat(sClient(tls, "-tls1_3", "a.test", "-sess_in", "ticket13.pem")).contains("New, TLSv1.3");
        }
    }

    /**
     * nginx's ssl_session_tickets on (the default) with ssl_protocols TLSv1.2 alone: a ticket is sent, and the session
     * resumes by it where the session cache keeps none (session-cache = 0), as nginx 1.22's; Netty's contexts sent none
     * without TLSv1.3.
     */
    @Test
    void sessionTicketsAreSentWithTlsV12Alone() throws Exception {
        Path tls = dir.resolve("tls");
        try (EdgeHarness edge = EdgeHarness.start(Files.createDirectories(dir.resolve("tickets-12")), config()
                + "server.tls { protocols = [TLSv1.2], session-cache = 0 }\n")) {
            assertThat(sClient(tls, "-tls1_2", "a.test", "-sess_out", "alone12.pem")).contains("New, TLSv1.2")
                    .contains("TLS session ticket:");
            assertThat(sClient(tls, "-tls1_2", "a.test", "-sess_in", "alone12.pem")).contains("Reused, TLSv1.2");
        }
    }

    /**
     * nginx's ssl_session_tickets off: no ticket, a TLSv1.2 session resumed by its id from the session cache (nothing to
     * resume by without one, session-cache = 0, which Netty's builder took for its default of 20480); TLSv1.3
     * (BoringSSL's tickets are stateless alone) not resumed.
     */
    @Test
    void sessionTicketsOffResumeTlsV12ByItsSessionId() throws Exception {
        Path tls = dir.resolve("tls");
        try (EdgeHarness edge = EdgeHarness.start(Files.createDirectories(dir.resolve("no-tickets")), config()
                + "server.tls.session-tickets = off\n")) {
            String first = sClient(tls, "-tls1_2", "a.test", "-sess_out", "by-id.pem");
            assertThat(first).contains("New, TLSv1.2").doesNotContain("TLS session ticket:");
            assertThat(sClient(tls, "-tls1_2", "a.test", "-sess_in", "by-id.pem")).contains("Reused, TLSv1.2");
            assertThat(sClient(tls, "-tls1_3", "a.test", "-sess_out", "none13.pem")).contains("New, TLSv1.3");
            assertThat(tls.resolve("none13.pem")).doesNotExist();
        }
        try (EdgeHarness edge = EdgeHarness.start(Files.createDirectories(dir.resolve("no-resumption")), config()
                + "server.tls { session-tickets = off, session-cache = 0 }\n")) {
            assertThat(sClient(tls, "-tls1_2", "a.test", "-sess_out", "uncached.pem")).contains("New, TLSv1.2");
            assertThat(tls.resolve("uncached.pem")).doesNotExist(); // neither a session id nor a ticket to resume by
        }
    }

    /**
     * nginx's ssl_prefer_server_ciphers: off (the default), the client's first suite that ciphers has; on, the first of
     * ciphers that the client offers (TLSv1.2).
     */
    @Test
    void preferServerCiphersChoosesWhoseOrderCounts() throws Exception {
        Path tls = dir.resolve("tls");
        String ciphers = "server.tls.ciphers = [\"ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384\"]\n";
        String clientOrder = "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256";
        try (EdgeHarness edge = EdgeHarness.start(Files.createDirectories(dir.resolve("client-order")), config()
                + ciphers)) {
            assertThat(sClient(tls, "-tls1_2", "a.test", "-cipher", clientOrder))
                    .contains("Cipher is ECDHE-RSA-AES256-GCM-SHA384");
        }
        try (EdgeHarness edge = EdgeHarness.start(Files.createDirectories(dir.resolve("server-order")), config()
                + ciphers + "server.tls.prefer-server-ciphers = on\n")) {
            assertThat(sClient(tls, "-tls1_2", "a.test", "-cipher", clientOrder))
                    .contains("Cipher is ECDHE-RSA-AES128-GCM-SHA256");
        }
    }

    /**
     * nginx's ssl_dhparam copied: edge starts, says the file is not used (BoringSSL has no DHE suites), and serves.
     */
    @Test
    void dhparamIsTakenAndSaidUnused() throws Exception {
        Path tls = dir.resolve("tls");
        openssl(tls, "dhparam", "-out", "dhparam.pem", "1024");
        try (CapturedLog log = CapturedLog.of(io.edge.core.tls.TlsContexts.class);
             EdgeHarness edge = EdgeHarness.start(Files.createDirectories(dir.resolve("dhparam")), config()
                     + "server.tls.dhparam = \"" + tls.resolve("dhparam.pem") + "\"\n")) {
            assertThat(log.warnings()).singleElement().asString().contains(tls.resolve("dhparam.pem") + " is not used")
                    .contains("has no DHE suites");
            assertThat(sClient(tls, "-tls1_2", "a.test")).contains("New, TLSv1.2");
        }
    }

    /**
     * What openssl s_client says of a GET of /small.txt through the TLS port, {@code args} added; it reads to the end
     * (-ign_eof), so a TLSv1.3 ticket sent after the handshake is read and kept with -sess_out.
     */
    private static String sClient(Path in, String version, String serverName, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("openssl", "s_client", "-connect", "127.0.0.1:" + TLS,
                "-servername", serverName, version, "-CAfile", "ca.pem", "-ign_eof"));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).directory(in.toFile()).redirectErrorStream(true).start();
        try (OutputStream request = process.getOutputStream()) {
            request.write(("GET /small.txt HTTP/1.1\r\nHost: " + serverName + "\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
        }
        String said = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return said;
    }

    /** As nginx: answered 400, and logged as its access.log logs it ("GET /small.txt HTTP/1.1" 400 255). */
    @Test
    void plainHttpToTheTlsPortIsAnswered400() throws Exception {
        try (CapturedLog access = CapturedLog.of("edge.access");
             EdgeHarness edge = EdgeHarness.start(Files.createDirectories(dir.resolve("plain")), config()
                + "server.access-log = \"-\"\n");
             Socket plain = new Socket("127.0.0.1", TLS)) {
            Answer answer = Client.exchange(plain, "a.test", "/small.txt");
            assertThat(answer.status()).isEqualTo(400);
            assertThat(answer.text()).contains("The plain HTTP request was sent to HTTPS port")
                    .endsWith("<hr><center>edge/" + ServerField.VERSION + "</center>\r\n</body>\r\n</html>\r\n");
            assertThat(answer.headers().get("server")).isEqualTo("edge/" + ServerField.VERSION);
            assertThat(plain.getInputStream().read()).isEqualTo(-1);
            await(() -> !access.lines().isEmpty(), "a line");
            assertThat(access.lines()).singleElement().asString()
                    .matches("127\\.0\\.0\\.1 - - \\[.*\\] \"GET /small\\.txt HTTP/1\\.1\" 400 "
                            + answer.body().length + " \"-\" \"-\".*");
        }
    }

    @Test
    void aReloadTakesARenewedCertificateForNewConnections() throws Exception {
        Path tls = dir.resolve("tls");
        byte[] before = Files.readAllBytes(tls.resolve("b.pem"));
        try (EdgeHarness edge = started("reload");
             Client open = new Client("b.test")) {
            assertThat(open.get("/small.txt").body()).isEqualTo(small);
            signed(tls, "b", "/CN=b.test/O=renewed");
            edge.reload(config());
            try (Client renewed = new Client("b.test")) {
                assertThat(renewed.peer().getSubjectX500Principal().getName()).isEqualTo("O=renewed,CN=b.test");
            }
            assertThat(open.get("/small.txt").body()).isEqualTo(small); // the open one keeps its session
            assertThat(open.peer().getSubjectX500Principal().getName()).isEqualTo("CN=b.test");
            Files.writeString(tls.resolve("b.pem"), "not a certificate\n");
            assertThatThrownBy(() -> edge.reload(config())).isInstanceOf(ConfigException.class)
                    .hasMessageContaining("edge.sites[1].tls.certificate");
            try (Client still = new Client("b.test")) {
                assertThat(still.peer().getSubjectX500Principal().getName()).isEqualTo("O=renewed,CN=b.test");
            }
        } finally {
            Files.write(tls.resolve("b.pem"), before);
        }
    }

    /** A client that never finishes its handshake is closed at the request-head timeout, as one that sends no head. */
    @Test
    void aHandshakeNeverFinishedEndsAtTheRequestHeadTimeout() throws Exception {
        try (EdgeHarness edge = EdgeHarness.start(Files.createDirectories(dir.resolve("stalled")),
                config() + "server.timeouts.request-head = 1s\n");
             Socket stalled = new Socket("127.0.0.1", TLS)) {
            stalled.getOutputStream().write(new byte[] {0x16, 3, 1, 0, 100, 1}); // a hello's first bytes, no more
            stalled.setSoTimeout(60_000);
            assertThat(stalled.getInputStream().readAllBytes()).as("closed, an alert at most").hasSizeLessThan(64);
        }
    }

    /** nginx's listen ... ssl moved from one port to another by a reload: connections accepted after it follow it. */
    @Test
    void aReloadMayTakeTheSslMarkOffAPortAndPutItOnAnother() throws Exception {
        try (EdgeHarness edge = started("switch")) {
            edge.reload(config("127.0.0.1:" + PLAIN + " ssl", "127.0.0.1:" + TLS));
            try (Socket plain = new Socket("127.0.0.1", TLS)) {
                assertThat(Client.exchange(plain, "a.test", "/env.php").text()).isEqualTo("- http " + TLS);
            }
            try (Socket tcp = new Socket("127.0.0.1", PLAIN);
                 SSLSocket tls = (SSLSocket) trustingTheTestCa.getSocketFactory().createSocket(tcp, "a.test", PLAIN,
                         true)) {
                tls.startHandshake();
                assertThat(Client.exchange(tls, "a.test", "/env.php").text()).isEqualTo("on https " + PLAIN);
            }
        }
    }

    private static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }

    private static String sha256(Path file) throws Exception {
        MessageDigest digest = MessageDigest.getInstance("SHA-256");
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buffer = new byte[1 << 16];
            for (int n; (n = in.read(buffer)) > 0; ) {
                digest.update(buffer, 0, n);
            }
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    /** An answer: its status, headers (names in lower case) and body (a large one's digest and length alone). */
    record Answer(int status, Map<String, String> headers, byte[] body, String sha256, long length) {
        String text() {
            return new String(body, StandardCharsets.UTF_8);
        }
    }

    /** A kept-alive TLS connection to the TLS port naming {@code host} in SNI, verifying the chain (and the name). */
    static final class Client implements AutoCloseable {
        private final SSLSocket socket;
        private final String host;

        Client(String host) throws IOException {
            this(host, true);
        }

        Client(String host, boolean verifyName) throws IOException {
            this.host = host;
            Socket tcp = new Socket("127.0.0.1", TLS);
            socket = (SSLSocket) trustingTheTestCa.getSocketFactory().createSocket(tcp, host, TLS, true);
            SSLParameters parameters = socket.getSSLParameters();
            parameters.setEndpointIdentificationAlgorithm(verifyName ? "HTTPS" : null);
            socket.setSSLParameters(parameters);
            socket.startHandshake();
        }

        X509Certificate peer() throws IOException {
            return (X509Certificate) socket.getSession().getPeerCertificates()[0];
        }

        java.security.cert.Certificate[] chain() throws IOException {
            return socket.getSession().getPeerCertificates();
        }

        Answer get(String target, String... headers) throws Exception {
            return exchange(socket, host, target, headers);
        }

        /** One GET on {@code socket}, kept alive; a body over 1 MiB is digested as it comes. */
        static Answer exchange(Socket socket, String host, String target, String... headers) throws Exception {
            StringBuilder request = new StringBuilder("GET " + target + " HTTP/1.1\r\n");
            boolean hostGiven = false;
            for (String header : headers) {
                request.append(header).append("\r\n");
                hostGiven |= header.toLowerCase().startsWith("host:");
            }
            if (!hostGiven) {
                request.append("Host: ").append(host).append("\r\n");
            }
            OutputStream out = socket.getOutputStream();
            out.write(request.append("\r\n").toString().getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = new BufferedInputStream(socket.getInputStream());
            String status = line(in);
            Map<String, String> fields = new LinkedHashMap<>();
            for (String line; !(line = line(in)).isEmpty(); ) {
                int colon = line.indexOf(':');
                fields.put(line.substring(0, colon).toLowerCase(), line.substring(colon + 1).strip());
            }
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            ByteArrayOutputStream kept = new ByteArrayOutputStream();
            long length = 0;
            if ("chunked".equals(fields.get("transfer-encoding"))) {
                for (long size; (size = Long.parseLong(line(in).split(";")[0], 16)) > 0; line(in)) {
                    body(in, size, digest, kept);
                    length += size;
                }
                line(in); // the empty trailer section
            } else {
                length = Long.parseLong(fields.getOrDefault("content-length", "0"));
                body(in, length, digest, kept);
            }
            return new Answer(Integer.parseInt(status.split(" ")[1]), fields,
                    length <= 1 << 20 ? kept.toByteArray() : new byte[0], HexFormat.of().formatHex(digest.digest()),
                    length);
        }

        /** Reads {@code length} bytes of a body into {@code digest}, and into {@code kept} while it holds 1 MiB or less. */
        private static void body(InputStream in, long length, MessageDigest digest, ByteArrayOutputStream kept)
                throws IOException {
            byte[] buffer = new byte[1 << 16];
            long left = length;
            while (left > 0) {
                int n = in.read(buffer, 0, (int) Math.min(buffer.length, left));
                if (n < 0) {
                    throw new IOException("the body ended " + left + " bytes short");
                }
                digest.update(buffer, 0, n);
                if (kept.size() <= 1 << 20) {
                    kept.write(buffer, 0, n);
                }
                left -= n;
            }
        }

        private static String line(InputStream in) throws IOException {
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            for (int b; (b = in.read()) != '\n'; ) {
                if (b < 0) {
                    throw new IOException("the connection closed mid-line: " + line);
                }
                line.write(b);
            }
            return line.toString(StandardCharsets.ISO_8859_1).stripTrailing();
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }
}
