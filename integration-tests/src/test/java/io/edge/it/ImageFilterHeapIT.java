package io.edge.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.core.image.TestImages;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The image filter's workers in an edge process of its own JVM options: an image under the default max-pixels made
 * in a heap a few times its decoded size (the decoded pixels and what is drawn from them, not a copy of them besides),
 * and a worker's Error answered, not left hanging.
 */
class ImageFilterHeapIT {

    @TempDir
    Path dir;

    /**
     * A real 6000 x 6000 RGBA PNG (36 million pixels, 144 MB decoded, 140 KB on disk) resized in a heap of 400 MB:
     * before, the decoded image was copied whole first, and the worker ran out of heap (500).
     */
    @Test
    void aLargeImageUnderMaxPixelsIsMadeInABoundedHeap() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.write(www.resolve("large.png"), TestImages.rgbaPng(6000, 6000));
        Path conf = dir.resolve("edge.conf");
        Files.writeString(conf, """
                edge {
                  server { listen = ["127.0.0.1:0"], access-log = off, image-filter.workers = 1 }
                  sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                    { match = "/", image-filter { filter = resize, width = 100, height = 100 } }] }]
                }
                """);
        try (EdgeProcess edge = EdgeProcess.startWithJvmOptions(List.of("-Xmx400m"), dir, "-c", conf.toString())) {
            edge.verify(() -> {
                int port = edge.awaitBoundPort();
                HttpResponse<byte[]> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + port + "/large.png")).build(),
                        HttpResponse.BodyHandlers.ofByteArray());
                assertThat(response.statusCode()).isEqualTo(200);
                assertThat(ImageIO.read(new ByteArrayInputStream(response.body())).getWidth()).isEqualTo(100);
            });
        }
    }

    /**
     * A JVM told it is not headless, with no X server: AWT throws an Error (AWTError: Can't connect to X11 window
     * server) on the worker drawing the image. The request is answered 500, and the connection serves the next; before,
     * only OutOfMemoryError and RuntimeException were answered, and this request hung for good.
     */
    @Test
    void aWorkersErrorIs500NotAHang() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.write(www.resolve("a.png"), TestImages.rgbaPng(400, 300));
        Files.writeString(www.resolve("t.txt"), "text");
        Path conf = dir.resolve("edge.conf");
        Files.writeString(conf, """
                edge {
                  server { listen = ["127.0.0.1:0"], access-log = off }
                  sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                    { match = "/", image-filter { filter = resize, width = 100, height = 100 } }
                    { match = "/t.txt" }] }]
                }
                """);
        try (EdgeProcess edge = EdgeProcess.startWithJvmOptions(List.of("-Djava.awt.headless=false"), dir, "-c",
                conf.toString())) {
            edge.verify(() -> {
                int port = edge.awaitBoundPort();
                HttpClient http = HttpClient.newHttpClient();
                // a bound for a hang, not a wait: the answer comes in milliseconds
                HttpResponse<String> image = http.send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + port + "/a.png")).timeout(Duration.ofSeconds(30)).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(image.statusCode()).isEqualTo(500);
                assertThat(image.body()).doesNotContain("Exception", "Error:", "at java");
                HttpResponse<String> text = http.send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + port + "/t.txt")).timeout(Duration.ofSeconds(30)).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(text.body()).isEqualTo("text");
            });
        }
    }
}
