package io.edge.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.core.image.TestImages;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A location's image-filter on real JPEG, PNG and GIF files (made here with ImageIO), a PHP script's image and text,
 * asked by curl, as nginx 1.22's image_filter answers them (compared side by side with Debian's
 * libnginx-mod-http-image-filter): sizes read back from the images sent, the size JSON byte for byte, 415 for what is
 * no image or is over the buffer, the validators and lengths of each kind of answer.
 */
class ImageFilterIT {

    @TempDir
    static Path dir;

    static PhpFpm fpm;
    static JdkBackend backend;
    /** A backend that sends the head of a body over the buffer and a part of it, then stalls until this is counted down. */
    static JdkBackend stalling;
    static final CountDownLatch stalled = new CountDownLatch(1);
    static EdgeHarness edge;
    static Path www;

    @BeforeAll
    static void start() throws Exception {
        www = Files.createDirectories(dir.resolve("www"));
        Path img = Files.createDirectories(www.resolve("img"));
        for (String format : new String[] {"jpeg", "png", "gif"}) {
            ImageIO.write(TestImages.picture(format.equals("jpeg") ? BufferedImage.TYPE_INT_RGB : BufferedImage.TYPE_INT_ARGB),
                    format, img.resolve("a." + (format.equals("jpeg") ? "jpg" : format)).toFile());
        }
        Files.writeString(img.resolve("t.txt"), "hello text file here, no image at all\n");
        // a JPEG's first bytes, then 2 MB: over the 1 MiB buffer
        byte[] big = new byte[2_000_000];
        big[0] = (byte) 0xff;
        big[1] = (byte) 0xd8;
        Files.write(img.resolve("big.jpg"), big);
        // a JPEG's first bytes, then holes to 64 GiB (sparse: no disk taken), read from disk for as long as a client waits
        try (RandomAccessFile huge = new RandomAccessFile(img.resolve("huge.jpg").toFile(), "rw")) {
            huge.write(big, 0, 2);
            huge.setLength(64L << 30);
        }
        // a PNG that says it is 60000 x 60000 in 67 bytes
        Files.write(img.resolve("bomb.png"), TestImages.png(60_000, 60_000));
        Files.writeString(www.resolve("img.php"), """
                <?php
                header('Content-Type: image/png');
                echo file_get_contents(__DIR__ . '/img/a.png');
                """);
        Files.writeString(www.resolve("text.php"), "<?php echo 'not an image';\n");
        Files.writeString(www.resolve("415.html"), "<p>no such image</p>\n");
        // a proxied backend's image, cacheable a minute
        byte[] proxied = Files.readAllBytes(img.resolve("a.jpg"));
        backend = JdkBackend.start(exchange -> {
            exchange.getResponseHeaders().set("Content-Type", "image/jpeg");
            exchange.getResponseHeaders().set("Cache-Control", "max-age=60");
            exchange.sendResponseHeaders(200, proxied.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(proxied);
            }
        });
        stalling = JdkBackend.start(exchange -> {
            exchange.getResponseHeaders().set("Content-Type", "image/jpeg");
            exchange.sendResponseHeaders(200, 2_000_000);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(big, 0, 64 * 1024);
                out.flush();
                stalled.await(60, TimeUnit.SECONDS);
                out.write(big, 64 * 1024, big.length - 64 * 1024);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), """
                pm = static
                pm.max_children = 2
                """);
        edge = EdgeHarness.start(dir, """
                sites = [{
                  server-names = ["_"], default = true, root = "www"
                  error-pages { 415 = "/415.html" }
                  locations = [
                    { match = "~ \\\\.php$", fastcgi = php, image-filter { filter = resize, width = 50, height = 50 } }
                    { match = "/", image-filter { filter = resize, width = "$arg_w", height = "$arg_h" },
                      always-headers { X-Frame-Options = DENY } }
                    { match = "/size/", alias = "www/img/", image-filter.filter = size }
                    { match = "/test/", alias = "www/img/", image-filter.filter = test }
                    { match = "/crop/", alias = "www/img/", image-filter { filter = crop, width = 100, height = 100 } }
                    { match = "/rotate/", alias = "www/img/", image-filter { filter = rotate, rotate = 90 } }
                    { match = "/quality/", alias = "www/img/",
                      image-filter { filter = resize, width = 200, height = 200, jpeg-quality = "$arg_q" } }
                    { match = "^~ /pc/", proxy = app, proxy-uri = "/", cache = true,
                      headers { X-Cache = "$upstream_cache_status" },
                      image-filter { filter = resize, width = "$http_x_width", height = "-" } }
                    { match = "^~ /stalling/", proxy = stalling, proxy-uri = "/", image-filter.filter = test }
                  ]
                }]
                fastcgi.backends.php {
                  addresses = ["%s"]
                  max-connections = 2
                }
                proxy.backends.app { addresses = ["%s"] }
                proxy.backends.stalling { addresses = ["%s"] }
                """.formatted(fpm.address(), backend.address(), stalling.address()));
    }

    @AfterAll
    static void stop() {
        stalled.countDown();
        EdgeHarness.close(edge, fpm);
        backend.close();
        stalling.close();
    }

    /** An answer as curl got it: status, fields by lower-case name, body. */
    record Answer(int status, Map<String, String> fields, byte[] body) {
        String field(String name) {
            return fields.get(name);
        }

        String text() {
            return new String(body, StandardCharsets.UTF_8);
        }

        /** The body read back as an image: its format and size, "none" where it is none. */
        String image() throws IOException {
            BufferedImage image = ImageIO.read(new ByteArrayInputStream(body));
            if (image == null) {
                return "none";
            }
            return image.getWidth() + "x" + image.getHeight();
        }
    }

    private static String url(String path) {
        return "http://127.0.0.1:" + edge.address().getPort() + path;
    }

    private static Answer curl(String path, String... args) throws Exception {
        Path head = Files.createTempFile(dir, "head", ".txt");
        Path body = Files.createTempFile(dir, "body", ".bin");
        List<String> command = Curl.command("-D", head.toString(), "-o", body.toString());
        command.addAll(List.of(args));
        command.add(url(path));
        Process curl = new ProcessBuilder(command).redirectErrorStream(true).start();
        String said = new String(curl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(curl.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(curl.exitValue()).as(said).isZero();
        List<String> lines = Files.readAllLines(head, StandardCharsets.ISO_8859_1);
        Map<String, String> fields = new TreeMap<>();
        for (String line : lines.subList(1, lines.size())) {
            int colon = line.indexOf(':');
            if (colon > 0) {
                fields.put(line.substring(0, colon).toLowerCase(Locale.ROOT), line.substring(colon + 1).trim());
            }
        }
        return new Answer(Integer.parseInt(lines.get(0).split(" ")[1]), fields, Files.readAllBytes(body));
    }

    @Test
    void resizeKeepsTheRatioNeverEnlargesAndMakesTheETagWeak() throws Exception {
        Answer jpeg = curl("/img/a.jpg?w=100&h=-");
        assertThat(jpeg.status()).isEqualTo(200);
        assertThat(jpeg.image()).isEqualTo("100x75");
        assertThat(jpeg.field("content-type")).isEqualTo("image/jpeg");
        assertThat(jpeg.field("content-length")).isEqualTo(String.valueOf(jpeg.body().length));
        assertThat(jpeg.field("etag")).startsWith("W/\"");
        assertThat(jpeg.field("last-modified")).isNotNull();
        assertThat(jpeg.fields()).doesNotContainKey("accept-ranges");
        assertThat(curl("/img/a.png?w=1000&h=30").image()).isEqualTo("40x30");
        assertThat(curl("/img/a.gif?w=10&h=10").image()).isEqualTo("10x7");
        // one that fits goes as it came: its bytes, its strong ETag, its length
        Answer fits = curl("/img/a.png?w=1000&h=1000");
        assertThat(fits.body()).isEqualTo(Files.readAllBytes(www.resolve("img/a.png")));
        assertThat(fits.field("etag")).doesNotStartWith("W/");
        assertThat(fits.field("content-length")).isEqualTo(String.valueOf(fits.body().length));
        // a width that is no number: 415, as nginx's
        assertThat(curl("/img/a.png?w=abc&h=10").status()).isEqualTo(415);
        assertThat(curl("/img/a.png?w=0&h=10").status()).isEqualTo(415);
    }

    @Test
    void cropCutsTheMiddleOfWhatCoversTheBox() throws Exception {
        Answer crop = curl("/crop/a.png");
        assertThat(crop.image()).isEqualTo("100x100");
        assertThat(crop.field("content-type")).isEqualTo("image/png");
    }

    @Test
    void rotate90SwapsTheDimensions() throws Exception {
        assertThat(curl("/rotate/a.png").image()).isEqualTo("300x400");
        assertThat(curl("/rotate/a.jpg").image()).isEqualTo("300x400");
        BufferedImage turned = ImageIO.read(new ByteArrayInputStream(curl("/rotate/a.gif").body()));
        assertThat(turned.getWidth() + "x" + turned.getHeight()).isEqualTo("300x400");
        // counterclockwise, as nginx's GD: the white top left corner is at the bottom left
        assertThat(new Color(turned.getRGB(10, 390))).isEqualTo(Color.WHITE);
    }

    @Test
    void theJpegQualityOfTheRequestChangesTheSize() throws Exception {
        Answer low = curl("/quality/a.jpg?q=10");
        Answer high = curl("/quality/a.jpg?q=95");
        assertThat(low.image()).isEqualTo("200x150");
        assertThat(high.image()).isEqualTo("200x150");
        assertThat(low.body().length).isLessThan(high.body().length);
        assertThat(curl("/quality/a.jpg?q=none").status()).isEqualTo(415);
    }

    /** nginx's JSON byte for byte; {} for what is no image (a missing file's 404 page too, as nginx's). */
    @Test
    void sizeAnswersJson() throws Exception {
        Answer jpeg = curl("/size/a.jpg");
        assertThat(jpeg.status()).isEqualTo(200);
        assertThat(jpeg.field("content-type")).isEqualTo("application/json");
        assertThat(jpeg.text()).isEqualTo("{ \"img\" : { \"width\": 400, \"height\": 300, \"type\": \"jpeg\" } }\r\n");
        assertThat(jpeg.fields()).doesNotContainKeys("etag", "last-modified", "accept-ranges");
        assertThat(curl("/size/a.png").text())
                .isEqualTo("{ \"img\" : { \"width\": 400, \"height\": 300, \"type\": \"png\" } }\r\n");
        assertThat(curl("/size/a.gif").text())
                .isEqualTo("{ \"img\" : { \"width\": 400, \"height\": 300, \"type\": \"gif\" } }\r\n");
        assertThat(curl("/size/t.txt").text()).isEqualTo("{}\r\n");
        Answer missing = curl("/size/nope.jpg");
        assertThat(missing.status() + " " + missing.text()).isEqualTo("200 {}\r\n");
    }

    @Test
    void testPassesImagesOnly() throws Exception {
        Answer png = curl("/test/a.png");
        assertThat(png.status()).isEqualTo(200);
        assertThat(png.body()).isEqualTo(Files.readAllBytes(www.resolve("img/a.png")));
        assertThat(png.field("content-type")).isEqualTo("image/png");
        assertThat(curl("/test/t.txt").status()).isEqualTo(415);
    }

    @Test
    void aBodyOverTheBufferOrADecompressionBombIs415() throws Exception {
        assertThat(curl("/img/big.jpg?w=10&h=10").status()).isEqualTo(415);
        assertThat(curl("/size/big.jpg").status()).isEqualTo(415);
        assertThat(curl("/img/bomb.png?w=10&h=10").status()).isEqualTo(415);
        // what nginx reads from its head, unchecked: the JSON says it
        assertThat(curl("/size/bomb.png").text()).contains("\"width\": 60000");
    }

    /**
     * A file over the buffer is 415 at its head and read no further, as nginx's: the connection's next request is
     * answered at once (before, the file was read from disk to its end first, 64 GiB here, past curl's patience).
     */
    @Test
    void aFileOverTheBufferIsReadNoFurther() throws Exception {
        // curl asks the URLs in its arguments' order on one connection: the huge file first, the heads in one file
        Answer both = curl("/img/a.jpg?w=10&h=10", "--max-time", "30", url("/img/huge.jpg?w=10&h=10"));
        assertThat(both.status()).as("the first answer's").isEqualTo(415);
        assertThat(both.field("content-type")).as("the second answer's, read after the first's").isEqualTo("image/jpeg");
    }

    /**
     * The 415 of an image the workers could not make (a decompression bomb) is the site's page for it, as one refused
     * before any worker (no image at all), with the always-headers of the page's location (nginx's special response
     * goes through its header filters again): the workers' had edge's own page, and neither had those headers.
     */
    @Test
    void a415IsTheSitesPageWithItsAlwaysHeaders() throws Exception {
        for (String path : List.of("/img/bomb.png?w=10&h=10", "/img/t.txt?w=10&h=10")) {
            Answer refused = curl(path);
            assertThat(refused.status()).as(path).isEqualTo(415);
            assertThat(refused.text()).as(path).isEqualTo("<p>no such image</p>\n");
            assertThat(refused.field("x-frame-options")).as(path).isEqualTo("DENY");
        }
    }

    /**
     * A backend's answer whose Content-Length is over the buffer is 415 at its head, as nginx's, not once its body
     * ended: here the backend stalls after a part of it (before, the client waited for the rest, for good with an
     * endless stream).
     */
    @Test
    void aBodyDeclaredOverTheBufferIs415AtOnce() throws Exception {
        Answer refused = curl("/stalling/big.jpg", "--max-time", "30");
        assertThat(refused.status()).isEqualTo(415);
        assertThat(refused.text()).isEqualTo("<p>no such image</p>\n");
    }

    /** A HEAD gets the head its GET gets (the image made for it), as nginx's; a Range the whole 200. */
    @Test
    void headAndRangeGetTheMadeImagesHead() throws Exception {
        Answer get = curl("/img/a.jpg?w=100&h=100");
        // two HEADs on one connection: a body sent after the first would be read as the second's head, and fail curl
        Answer head = curl("/img/a.jpg?w=100&h=100", "-I", url("/img/a.jpg?w=100&h=100"));
        assertThat(head.status()).isEqualTo(200);
        assertThat(head.field("content-length")).isEqualTo(String.valueOf(get.body().length));
        assertThat(head.field("etag")).isEqualTo(get.field("etag"));
        Answer range = curl("/img/a.jpg?w=100&h=100", "-r", "0-9");
        assertThat(range.status()).isEqualTo(200);
        assertThat(range.body()).isEqualTo(get.body());
        // the file's own ETag (the weak one stands for it): a 304, untouched, as nginx's
        String etag = get.field("etag").substring(2);
        Answer notModified = curl("/img/a.jpg?w=100&h=100", "-H", "If-None-Match: " + etag);
        assertThat(notModified.status()).isEqualTo(304);
        assertThat(notModified.field("etag")).isEqualTo(etag);
    }

    /** A script's answer (chunked, no length) is filtered as a file's. */
    @Test
    void aScriptsImageIsResizedAndItsTextRefused() throws Exception {
        Answer image = curl("/img.php");
        assertThat(image.status()).isEqualTo(200);
        assertThat(image.image()).isEqualTo("50x37");
        assertThat(image.field("content-length")).isEqualTo(String.valueOf(image.body().length));
        assertThat(curl("/text.php").status()).isEqualTo(415);
    }

    /**
     * The response cache keeps the backend's answer, not the filter's: a hit is filtered again with the request's
     * own variables, so the width a header asks for is not in the key and no answer is given another's size.
     */
    @Test
    void aCachedProxiedImageIsFilteredForEachRequest() throws Exception {
        Answer first = curl("/pc/a.jpg", "-H", "X-Width: 100");
        assertThat(first.field("x-cache")).isEqualTo("MISS");
        assertThat(first.image()).isEqualTo("100x75");
        Answer hit = curl("/pc/a.jpg", "-H", "X-Width: 50");
        assertThat(hit.field("x-cache")).isEqualTo("HIT");
        assertThat(hit.image()).isEqualTo("50x37");
        Answer whole = curl("/pc/a.jpg", "-H", "X-Width: 1000");
        assertThat(whole.field("x-cache")).isEqualTo("HIT");
        assertThat(whole.body()).isEqualTo(Files.readAllBytes(www.resolve("img/a.jpg")));
    }
}
