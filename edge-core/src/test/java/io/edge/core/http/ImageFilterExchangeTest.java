package io.edge.core.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.conf.ConfigLoader;
import io.edge.conf.EdgeSettings;
import io.edge.conf.ServerSettings;
import io.edge.core.image.TestImages;
import io.edge.core.route.Router;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The exchange's image filter on an {@link EmbeddedChannel}: the workers held busy to see the 503, and an answer
 * written in parts held until its image came back from a worker, the connection then carrying the next request.
 */
class ImageFilterExchangeTest {

    @TempDir
    Path root;

    EmbeddedChannel client;
    HttpServerContext context;

    @AfterEach
    void close() {
        if (client != null) {
            client.finishAndReleaseAll();
        }
    }

    private static byte[] jpeg() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(TestImages.picture(BufferedImage.TYPE_INT_RGB), "jpeg", out);
        return out.toByteArray();
    }

    /**
     * A site whose "/" resizes to 100 x 100 ("/plain/" filters nothing), on workers of {@code workers};
     * {@code responder} answers.
     */
    private void open(Responder responder, ServerSettings.ImageWorkers workers) throws Exception {
        Files.writeString(root.resolve("edge.conf"), """
                edge.sites = [{ root = ".", locations = [
                  { match = "/", image-filter { filter = resize, width = 100, height = 100 } }
                  { match = "/plain/" }] }]
                """);
        ServerSettings base = TestServers.server(TestServers.limits(), TestServers.timeouts(Duration.ofSeconds(10)),
                10);
        ServerSettings server = new ServerSettings(base.listen(), base.ioThreads(), base.maxConnections(),
                base.limits(), base.timeouts(), base.accessLog(), base.runDir(), base.accessLogEnabled(),
                base.runDirTemporary(), base.listenWrittenAt(), base.tcpNotsentLowat(), base.realIp(), base.pidFile(),
                base.accessLogFormat(), base.tls(), base.clientBodyTempPath(), workers);
        EdgeSettings settings = TestServers.sites(server, root,
                new ConfigLoader().load(root.resolve("edge.conf")).sites());
        context = new HttpServerContext(new Router(settings.sites(), settings.defaultSite()), location -> responder,
                Map.of(), settings.server(), new AccessLog(false), new DefaultChannelGroup(GlobalEventExecutor.INSTANCE));
        client = new EmbeddedChannel(new HttpChannelInitializer(context));
    }

    /** What the connection wrote once the workers have nothing left (their answers queued to the loop, then run). */
    private String answerWhenMade() {
        while (context.images().admitted() > 0) {
            Thread.onSpinWait();
        }
        client.runPendingTasks();
        return EmbeddedClient.received(client);
    }

    /** Takes the one worker until {@code release} is counted down. */
    private void holdTheWorker(CountDownLatch release) {
        assertThat(context.images().submit(() -> {
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, () -> false)).isTrue();
    }

    /** Every worker busy and no room to wait (queue = 0): 503 with Retry-After at once, where nginx's worker blocks. */
    @Test
    void busyWorkersAnswer503() throws Exception {
        byte[] image = jpeg();
        open(exchange -> exchange.complete(exchange.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                HttpResponseStatus.OK, Unpooled.wrappedBuffer(image)))), new ServerSettings.ImageWorkers(1, 0, 1_000_000, Duration.ofSeconds(10)));
        CountDownLatch release = new CountDownLatch(1);
        holdTheWorker(release);
        try {
            String busy = EmbeddedClient.send(client, "GET /a.jpg HTTP/1.1\r\nHost: a\r\n\r\n");
            assertThat(busy).startsWith("HTTP/1.1 503 ").containsIgnoringCase("retry-after:");
        } finally {
            release.countDown();
        }
        while (context.images().admitted() > 0) { // the held job's slot is given back after it returned
            Thread.onSpinWait();
        }
        // once the worker is free, the next request's image is made (maybe before the send's own tasks ran)
        String early = EmbeddedClient.send(client, "GET /a.jpg HTTP/1.1\r\nHost: a\r\n\r\n");
        assertThat(early + answerWhenMade()).startsWith("HTTP/1.1 200 ");
    }

    /**
     * A chunked answer in three parts: nothing goes out until the image is made; then it goes with a length, and the
     * responder's last write (the exchange's end) completes with it, so a second request on the connection is answered.
     */
    @Test
    void anAnswerInPartsIsHeldUntilItsImageIsMade() throws Exception {
        byte[] image = jpeg();
        int third = image.length / 3;
        CountDownLatch lastWriteDone = new CountDownLatch(2);
        open(exchange -> {
            DefaultHttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
            head.headers().set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED)
                    .set(HttpHeaderNames.ETAG, "\"v1\"");
            assertThat(exchange.write(head).isSuccess()).as("a held head is written at once").isTrue();
            assertThat(exchange.write(new DefaultHttpContent(Unpooled.wrappedBuffer(image, 0, third))).isSuccess())
                    .isTrue();
            exchange.write(new DefaultHttpContent(Unpooled.wrappedBuffer(image, third, third)));
            ChannelFuture last = exchange.writeAndFlush(new DefaultLastHttpContent(
                    Unpooled.wrappedBuffer(image, 2 * third, image.length - 2 * third)));
            assertThat(last.isDone()).as("the last part's write ends with the image's").isFalse();
            last.addListener(f -> lastWriteDone.countDown());
            exchange.complete(last);
        }, new ServerSettings.ImageWorkers(1, 4, 1_000_000, Duration.ofSeconds(10)));
        // the made image may come back before the send's own tasks ran: it is in what the send returns then
        String first = EmbeddedClient.send(client, "GET /a.jpg HTTP/1.1\r\nHost: a\r\n\r\n") + answerWhenMade();
        assertThat(first).startsWith("HTTP/1.1 200 ").containsIgnoringCase("etag: W/\"v1\"")
                .containsIgnoringCase("content-type: image/jpeg").containsIgnoringCase("content-length: ")
                .doesNotContainIgnoringCase("transfer-encoding");
        assertThat(lastWriteDone.getCount()).isEqualTo(1);
        String second = EmbeddedClient.send(client, "GET /b.jpg HTTP/1.1\r\nHost: a\r\n\r\n");
        assertThat(second + answerWhenMade()).startsWith("HTTP/1.1 200 ");
        assertThat(lastWriteDone.getCount()).isZero();
    }

    /**
     * Two requests pipelined, an image to make and then a text no filter holds: the text's answer waits for the
     * image's, as HTTP/1.1 answers go in the order asked (it went first, and the client took it for the image's).
     */
    @Test
    void aPipelinedAnswerWaitsForTheImageBeforeIt() throws Exception {
        byte[] image = jpeg();
        open(exchange -> {
            boolean text = exchange.request().uri().startsWith("/plain/");
            DefaultFullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                    Unpooled.wrappedBuffer(text ? "plain text".getBytes(StandardCharsets.US_ASCII) : image));
            response.headers().set(HttpHeaderNames.CONTENT_TYPE, text ? "text/plain" : "image/jpeg");
            exchange.complete(exchange.writeAndFlush(response));
        }, new ServerSettings.ImageWorkers(1, 4, 1_000_000, Duration.ofSeconds(10)));
        String early = EmbeddedClient.send(client,
                "GET /a.jpg HTTP/1.1\r\nHost: a\r\n\r\nGET /plain/t.txt HTTP/1.1\r\nHost: a\r\n\r\n");
        String both = early + answerWhenMade();
        assertThat(both).startsWith("HTTP/1.1 200 ").containsIgnoringCase("content-type: text/plain");
        assertThat(both.toLowerCase(Locale.ROOT).indexOf("content-type: image/jpeg"))
                .as(both).isLessThan(both.toLowerCase(Locale.ROOT).indexOf("content-type: text/plain"));
    }

    /**
     * An image waiting in the queue whose client left is never made: the worker that comes to it skips it (counted in
     * the workers' abandoned), where it was decoded and scaled for nobody, holding the worker from images still wanted.
     */
    @Test
    void aQueuedImageWhoseClientLeftIsNotMade() throws Exception {
        byte[] image = jpeg();
        open(exchange -> exchange.complete(exchange.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                HttpResponseStatus.OK, Unpooled.wrappedBuffer(image)))),
                new ServerSettings.ImageWorkers(1, 1, 1_000_000, Duration.ofSeconds(10)));
        CountDownLatch release = new CountDownLatch(1);
        holdTheWorker(release);
        try {
            assertThat(EmbeddedClient.send(client, "GET /a.jpg HTTP/1.1\r\nHost: a\r\n\r\n")).as("held").isEmpty();
            assertThat(context.images().admitted()).as("the held worker's job and the queued image").isEqualTo(2);
            client.close();
        } finally {
            release.countDown();
        }
        while (context.images().admitted() > 0) {
            Thread.onSpinWait();
        }
        client.runPendingTasks();
        assertThat(context.images().abandoned()).isEqualTo(1);
        assertThat(context.imageStats().line()).as("the status page's line").isEqualTo("jobs=0 abandoned=1");
    }
}
