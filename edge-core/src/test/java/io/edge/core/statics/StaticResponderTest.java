package io.edge.core.statics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.edge.aio.PathPolicy;
import io.edge.cache.ContentCacheSettings;
import io.edge.cache.http.HttpDates;
import io.edge.cache.content.ContentCache;
import io.edge.aio.file.DirectMemoryExhaustedException;
import io.edge.aio.file.FileEngine;
import io.edge.aio.file.FileEngine.WhenFull;
import io.edge.aio.file.FileEngineStats;
import io.edge.aio.file.OpenFile;
import io.edge.aio.file.OpenFileCache;
import io.edge.aio.file.PathStatus;
import io.edge.aio.path.Resolution;
import io.edge.aio.file.SendfileEngine;
import io.edge.conf.LimitRate;
import io.edge.conf.LocationSettings;
import io.edge.conf.SiteSettings;
import io.edge.core.http.Exchange;
import io.edge.aio.path.PathResolver;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.DefaultFileRegion;
import io.netty.channel.FileRegion;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DateFormatter;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StaticResponderTest {

    static final String BIG = "0123456789abcdefghijklmnopqrstuvwxyz"; // 36 bytes, above the inline limit below

    @TempDir
    Path root;
    SendfileEngine engine;
    StaticResponder responder;
    SiteSettings site;
    /** The fake exchanges' connections end TLS. */
    boolean tls;

    @BeforeEach
    void setUp() throws IOException {
        Files.writeString(root.resolve("small.txt"), "hello");
        Files.writeString(root.resolve("big.txt"), BIG);
        Files.writeString(root.resolve("empty.txt"), "");
        Files.writeString(root.resolve(".htpasswd"), "secret");
        Files.createDirectories(root.resolve("dir"));
        Files.writeString(root.resolve("dir/index.html"), "<p>index</p>");
        Files.createDirectories(root.resolve("noindex"));
        // a tree deployed a while ago: the open-file cache trusts only files modified at least its period ago
        for (String name : List.of("small.txt", "big.txt", "empty.txt", ".htpasswd", "dir/index.html")) {
            Files.setLastModifiedTime(root.resolve(name), FileTime.from(Instant.now().minus(Duration.ofHours(1))));
        }
        engine = new SendfileEngine(new OpenFileCache(16, Duration.ofSeconds(5), 32, () -> 0L), 10, 16);
        responder = new StaticResponder(engine, new MimeTypes(Map.of("txt", "text/plain", "html", "text/html")));
        site = new SiteSettings(List.of("example.org"), true, root, List.of("index.htm", "index.html"),
                PathPolicy.DEFAULT, List.of());
    }

    @AfterEach
    void noDescriptorLeft() {
        engine.close();
        assertThat(engine.cache().descriptorsInUse()).isZero();
    }

    @Test
    void smallFileLeavesInOneWrite() {
        FakeExchange ex = run(HttpMethod.GET, "/small.txt");
        FullHttpResponse response = (FullHttpResponse) ex.messages.get(0);
        try {
            assertThat(response.status()).isEqualTo(HttpResponseStatus.OK);
            assertThat(response.content().toString(StandardCharsets.US_ASCII)).isEqualTo("hello");
            assertThat(response.headers().get("Content-Type")).isEqualTo("text/plain");
            assertThat(response.headers().get("Content-Length")).isEqualTo("5");
            assertThat(response.headers().get("Accept-Ranges")).isEqualTo("bytes");
            assertThat(response.headers().get("ETag")).startsWith("\"");
            assertThat(response.headers().get("Last-Modified")).endsWith("GMT");
        } finally {
            ex.releaseAll();
        }
        assertThat(ex.completed).isTrue();
    }

    @Test
    void bigFileLeavesAsChunkedRegions() throws IOException {
        FakeExchange ex = run(HttpMethod.GET, "/big.txt");
        try {
            HttpResponse head = (HttpResponse) ex.messages.get(0);
            assertThat(head).isNotInstanceOf(FullHttpResponse.class);
            assertThat(head.headers().get("Content-Length")).isEqualTo("36");
            assertThat(ex.messages.subList(1, 5)).allMatch(m -> m instanceof FileRegion);
            assertThat(ex.messages.get(5)).isSameAs(LastHttpContent.EMPTY_LAST_CONTENT);
            assertThat(ex.body()).isEqualTo(BIG);
        } finally {
            ex.releaseAll();
        }
        assertThat(ex.completed).isTrue();
    }

    /**
     * An answer whose body is no longer wanted once its head went (the image filter's 415 for a file over its buffer):
     * the file is read no further, its last part written at once, so the connection's next request is not held
     * behind the rest of it.
     */
    @Test
    void aBodyDroppedAfterItsHeadIsReadNoFurther() throws IOException {
        FakeExchange ex = new FakeExchange(HttpMethod.GET, "/big.txt", ""); // 36 bytes in chunks of 10
        ex.dropBodyAfterHead = true;
        try {
            responder.respond(ex);
            ex.channel.runPendingTasks();
            assertThat(ex.messages).as("the head, the first piece, the last part").hasSize(3);
            assertThat(ex.messages.get(2)).isSameAs(LastHttpContent.EMPTY_LAST_CONTENT);
            assertThat(ex.body()).isEqualTo(BIG.substring(0, 10));
        } finally {
            ex.releaseAll();
        }
        assertThat(ex.completed).isTrue();
    }

    /**
     * On a connection that ends TLS no sendfile goes through the cipher: a file above the inline limit, and a range of
     * it, are read by the engine into buffers, chunk by chunk, and written as such; no FileRegion is left for
     * FileRegionReader's threads to read past the engine.
     */
    @Test
    void onAConnectionEndingTlsAFileAndARangeAreReadByTheEngineIntoBuffers() throws IOException {
        tls = true;
        FakeExchange whole = run(HttpMethod.GET, "/big.txt");
        FakeExchange range = run(HttpMethod.GET, "/big.txt", "Range", "bytes=5-24");
        try {
            assertThat(whole.messages).noneMatch(m -> m instanceof FileRegion);
            assertThat(whole.messages.subList(1, 5)).allMatch(m -> m instanceof HttpContent);
            assertThat(whole.body()).isEqualTo(BIG);
            assertThat(((HttpResponse) range.messages.get(0)).status()).isEqualTo(HttpResponseStatus.PARTIAL_CONTENT);
            assertThat(range.messages).noneMatch(m -> m instanceof FileRegion);
            assertThat(range.body()).isEqualTo(BIG.substring(5, 25));
        } finally {
            whole.releaseAll();
            range.releaseAll();
        }
        assertThat(whole.completed).isTrue();
        assertThat(range.completed).isTrue();
    }

    @Test
    void aBodyOfSeveralChunksGoesOutCorkedAndIsUncorkedAfterItsLastWrite() {
        FakeExchange ex = run(HttpMethod.GET, "/big.txt"); // 36 bytes in chunks of 10
        try {
            // corked before the head, so the head and the first chunk share a segment; uncorked after the last
            assertThat(ex.corks).containsExactly("on before message 0", "off before message 6");
            assertThat(ex.messages.get(5)).isSameAs(LastHttpContent.EMPTY_LAST_CONTENT);
        } finally {
            ex.releaseAll();
        }
    }

    /**
     * A location's limit-rate, nginx's limit_rate: the body goes out piece by piece no faster than the rate allows for
     * the time since it started plus one second, on the loop's clock (frozen here, and moved by hand), uncorked; the
     * first piece goes with the head.
     */
    @Test
    void aLimitRatePacesTheBodyByTheLoopsClock() throws IOException {
        FakeExchange ex = new FakeExchange(HttpMethod.GET, "/big.txt", "");
        ex.location = LocationSettings.builder("/", LocationSettings.Kind.PREFIX, "/", null, null,
                LocationSettings.Handler.STATIC, null).limitRate(new LimitRate(8, 0)).build(); // 8 bytes a second; the engine's pieces are 10
        ex.channel.freezeTime();
        try {
            responder.respond(ex);
            ex.channel.runPendingTasks();
            assertThat(ex.messages).as("the head and the first piece, 10 bytes").hasSize(2);
            // 10 bytes sent, 8 a second with the first second free: the next piece at 0.25 s
            ex.channel.advanceTimeBy(249, TimeUnit.MILLISECONDS);
            ex.channel.runScheduledPendingTasks();
            assertThat(ex.messages).hasSize(2);
            ex.channel.advanceTimeBy(1, TimeUnit.MILLISECONDS);
            ex.channel.runScheduledPendingTasks();
            assertThat(ex.messages).as("20 bytes: the next at 1.5 s").hasSize(3);
            ex.channel.advanceTimeBy(1249, TimeUnit.MILLISECONDS);
            ex.channel.runScheduledPendingTasks();
            assertThat(ex.messages).hasSize(3);
            assertThat(ex.completed).isFalse();
            ex.channel.advanceTimeBy(10, TimeUnit.SECONDS);
            ex.channel.runScheduledPendingTasks();
            ex.channel.runScheduledPendingTasks();
            assertThat(ex.completed).isTrue();
            assertThat(ex.body()).isEqualTo(BIG);
            assertThat(ex.corks).as("a paced body's tail would wait for the next piece").isEmpty();
        } finally {
            ex.releaseAll();
        }
    }

    /** Before limit-rate's "after", the body goes in full chunks, up to "after" exactly, and only then is paced. */
    @Test
    void aLimitRatesAfterGoesInFullChunksUpToItThenPaced() throws IOException {
        FakeExchange ex = new FakeExchange(HttpMethod.GET, "/big.txt", "");
        ex.location = LocationSettings.builder("/", LocationSettings.Kind.PREFIX, "/", null, null,
                LocationSettings.Handler.STATIC, null).limitRate(new LimitRate(1, 15)).build(); // 1 byte a second after 15 bytes
        ex.channel.freezeTime();
        try {
            responder.respond(ex);
            ex.channel.runPendingTasks();
            // the head, 10 bytes, the 5 up to after; then a piece within the first second's allowance, the next at 9 s
            assertThat(ex.messages).hasSize(4);
            assertThat(((FileRegion) ex.messages.get(1)).count()).isEqualTo(10);
            assertThat(((FileRegion) ex.messages.get(2)).count()).as("up to after exactly").isEqualTo(5);
            assertThat(((FileRegion) ex.messages.get(3)).count()).isEqualTo(10);
            ex.channel.advanceTimeBy(8999, TimeUnit.MILLISECONDS);
            ex.channel.runScheduledPendingTasks();
            assertThat(ex.messages).hasSize(4);
            ex.leave();
            ex.channel.runPendingTasks();
            assertThat(ex.channel.runScheduledPendingTasks()).as("its client gone: the pace's timer cancelled, none left")
                    .isEqualTo(-1);
        } finally {
            ex.releaseAll();
        }
    }

    @Test
    void aBodyOfOneChunkIsNeverCorked() throws IOException {
        FakeExchange ex = run(HttpMethod.GET, "/small.txt");
        FakeExchange range = run(HttpMethod.GET, "/big.txt", "Range", "bytes=0-9");
        try {
            assertThat(((FullHttpResponse) ex.messages.get(0)).content().toString(StandardCharsets.US_ASCII))
                    .as("sent, in its one write").isEqualTo("hello");
            assertThat(((HttpResponse) range.messages.get(0)).status()).isEqualTo(HttpResponseStatus.PARTIAL_CONTENT);
            assertThat(range.body()).hasSize(10);
            assertThat(ex.corks).isEmpty();
            assertThat(range.corks).isEmpty();
        } finally {
            ex.releaseAll();
            range.releaseAll();
        }
    }

    @Test
    void aCorkedBodyWhoseClientLeavesIsUncorked() {
        FakeExchange ex = new FakeExchange(HttpMethod.GET, "/big.txt", "");
        ex.stallWrites = true;
        responder.respond(ex);
        ex.channel.runPendingTasks();
        ex.leave();
        try {
            assertThat(ex.corks).containsExactly("on before message 0", "off before message 3");
        } finally {
            ex.stalled.forEach(p -> p.trySuccess());
            ex.releaseAll();
        }
    }

    @Test
    void headHasTheHeadersOnly() {
        FakeExchange ex = run(HttpMethod.HEAD, "/big.txt");
        FullHttpResponse response = (FullHttpResponse) ex.messages.get(0);
        assertThat(response.content().readableBytes()).isZero();
        assertThat(response.headers().get("Content-Length")).isEqualTo("36");
        ex.releaseAll();
    }

    @Test
    void anHttp10RequestIsAnsweredInHttp11() {
        for (String path : List.of("/small.txt", "/big.txt", "/dir")) {
            FakeExchange ex = new FakeExchange(HttpMethod.GET, path, "");
            ex.request.setProtocolVersion(HttpVersion.HTTP_1_0);
            responder.respond(ex);
            ex.channel.runPendingTasks();
            try {
                assertThat(((HttpResponse) ex.messages.get(0)).protocolVersion()).as(path).isEqualTo(HttpVersion.HTTP_1_1);
            } finally {
                ex.releaseAll();
            }
        }
    }

    @Test
    void emptyFile() {
        FakeExchange ex = run(HttpMethod.GET, "/empty.txt");
        FullHttpResponse response = (FullHttpResponse) ex.messages.get(0);
        assertThat(response.status()).isEqualTo(HttpResponseStatus.OK);
        assertThat(response.headers().get("Content-Length")).isEqualTo("0");
        ex.releaseAll();
    }

    @Test
    void notModified() {
        FakeExchange first = run(HttpMethod.GET, "/small.txt");
        String etag = ((HttpResponse) first.messages.get(0)).headers().get("ETag");
        first.releaseAll();
        FakeExchange ex = run(HttpMethod.GET, "/small.txt", "If-None-Match", etag);
        FullHttpResponse response = (FullHttpResponse) ex.messages.get(0);
        assertThat(response.status()).isEqualTo(HttpResponseStatus.NOT_MODIFIED);
        assertThat(response.headers().get("ETag")).isEqualTo(etag);
        ex.releaseAll();
        FakeExchange failed = run(HttpMethod.GET, "/small.txt", "If-Match", "\"nope\"");
        assertThat(failed.error).isEqualTo(HttpResponseStatus.PRECONDITION_FAILED);
    }

    /**
     * A file whose mtime is ahead of the clock (made on a machine whose clock is): its Last-Modified is the time of
     * the answer instead (RFC 9110 8.8.2.1: never later than Date), and an If-Modified-Since of that gets the file until
     * the mtime has passed; its ETag still revalidates it (304), which browsers send along.
     */
    @Test
    void aFileModifiedInTheFutureIsLastModifiedNow() throws IOException {
        long before = System.currentTimeMillis() / 1000 * 1000;
        Files.setLastModifiedTime(root.resolve("small.txt"),
                FileTime.fromMillis(System.currentTimeMillis() + Duration.ofDays(365).toMillis()));
        FakeExchange first = run(HttpMethod.GET, "/small.txt");
        HttpHeaders headers = ((HttpResponse) first.messages.get(0)).headers();
        String lastModified = headers.get("Last-Modified");
        String etag = headers.get("ETag");
        first.releaseAll();
        assertThat(HttpDates.parse(lastModified).getTime()).isBetween(before, System.currentTimeMillis());
        FakeExchange revalidation = run(HttpMethod.GET, "/small.txt", "If-Modified-Since", lastModified);
        assertThat(((HttpResponse) revalidation.messages.get(0)).status()).isEqualTo(HttpResponseStatus.OK);
        revalidation.releaseAll();
        FakeExchange byTag = run(HttpMethod.GET, "/small.txt", "If-None-Match", etag, "If-Modified-Since", lastModified);
        assertThat(((HttpResponse) byTag.messages.get(0)).status()).isEqualTo(HttpResponseStatus.NOT_MODIFIED);
        byTag.releaseAll();
    }

    @Test
    void singleRange() throws IOException {
        FakeExchange ex = run(HttpMethod.GET, "/big.txt", "Range", "bytes=5-24");
        try {
            HttpResponse head = (HttpResponse) ex.messages.get(0);
            assertThat(head.status()).isEqualTo(HttpResponseStatus.PARTIAL_CONTENT);
            assertThat(head.headers().get("Content-Range")).isEqualTo("bytes 5-24/36");
            assertThat(head.headers().get("Content-Length")).isEqualTo("20");
            // as nginx 1.22's 206 of a file (measured): its range filter clears the 200's Accept-Ranges
            assertThat(head.headers().contains("Accept-Ranges")).isFalse();
            assertThat(ex.body()).isEqualTo(BIG.substring(5, 25));
        } finally {
            ex.releaseAll();
        }
    }

    @Test
    void ifRangeMismatchSendsTheWholeFile() throws IOException {
        FakeExchange ex = run(HttpMethod.GET, "/big.txt", "Range", "bytes=5-24", "If-Range", "\"stale\"");
        try {
            assertThat(((HttpResponse) ex.messages.get(0)).status()).isEqualTo(HttpResponseStatus.OK);
            assertThat(ex.body()).isEqualTo(BIG);
        } finally {
            ex.releaseAll();
        }
    }

    /**
     * If-Range naming the file, by its strong ETag or its exact Last-Modified, ranges it; the same tag made weak (W/)
     * has the whole file, as RFC 9110 13.1.5 compares strongly, and a second later than the date too. As nginx 1.22
     * answers a file (measured: 206, 206, 200, 200). Pins what edge did.
     */
    @Test
    void ifRangeOfTheFilesStrongTagOrExactDateRangesAndItsWeakTagDoesNot() throws IOException {
        FakeExchange first = run(HttpMethod.GET, "/big.txt");
        HttpHeaders headers = ((HttpResponse) first.messages.get(0)).headers();
        String etag = headers.get("ETag");
        String lastModified = headers.get("Last-Modified");
        first.releaseAll();
        String later = DateFormatter.format(new Date(HttpDates.parse(lastModified).getTime() + 1000));
        for (String[] ifRange : new String[][] {{etag, "206"}, {lastModified, "206"}, {"W/" + etag, "200"},
                {later, "200"}}) {
            FakeExchange ex = run(HttpMethod.GET, "/big.txt", "Range", "bytes=5-24", "If-Range", ifRange[0]);
            try {
                assertThat(((HttpResponse) ex.messages.get(0)).status().code()).as(ifRange[0])
                        .isEqualTo(Integer.parseInt(ifRange[1]));
                assertThat(ex.body()).as(ifRange[0]).isEqualTo(ifRange[1].equals("206") ? BIG.substring(5, 25) : BIG);
            } finally {
                ex.releaseAll();
            }
        }
    }

    @Test
    void multipleRanges() throws IOException {
        multipleRanges(false);
    }

    /** The same on a connection that ends TLS: the parts' bytes read by the engine into buffers between the texts. */
    @Test
    void multipleRangesOnAConnectionEndingTls() throws IOException {
        tls = true;
        multipleRanges(true);
    }

    private void multipleRanges(boolean buffersOnly) throws IOException {
        FakeExchange ex = run(HttpMethod.GET, "/big.txt", "Range", "bytes=0-1,30-");
        try {
            if (buffersOnly) {
                assertThat(ex.messages).noneMatch(m -> m instanceof FileRegion);
            }
            HttpResponse head = (HttpResponse) ex.messages.get(0);
            assertThat(head.status()).isEqualTo(HttpResponseStatus.PARTIAL_CONTENT);
            String type = head.headers().get("Content-Type");
            assertThat(type).startsWith("multipart/byteranges; boundary=");
            assertThat(head.headers().contains("Accept-Ranges")).isFalse();
            String boundary = type.substring(type.indexOf('=') + 1);
            String body = ex.body();
            assertThat(body).isEqualTo("\r\n--" + boundary + "\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-1/36\r\n\r\n01"
                    + "\r\n--" + boundary + "\r\nContent-Type: text/plain\r\nContent-Range: bytes 30-35/36\r\n\r\nuvwxyz"
                    + "\r\n--" + boundary + "--\r\n");
            assertThat(head.headers().get("Content-Length")).isEqualTo(String.valueOf(body.length()));
        } finally {
            ex.releaseAll();
        }
    }

    /** X-Sendfile / X-Accel-Redirect: the backend's Content-Type is the file's, as nginx carries it over. */
    @Test
    void aFileSentForABackendHasTheBackendsContentType() throws IOException {
        FakeExchange whole = sendFor("/small.txt", "application/pdf");
        try {
            FullHttpResponse response = (FullHttpResponse) whole.messages.get(0);
            assertThat(response.headers().getAll("Content-Type")).containsExactly("application/pdf");
            assertThat(response.content().toString(StandardCharsets.US_ASCII)).isEqualTo("hello");
        } finally {
            whole.releaseAll();
        }
        FakeExchange big = sendFor("/big.txt", "application/pdf");
        try {
            assertThat(((HttpResponse) big.messages.get(0)).headers().getAll("Content-Type"))
                    .containsExactly("application/pdf");
            assertThat(big.body()).isEqualTo(BIG);
        } finally {
            big.releaseAll();
        }
        FakeExchange parts = sendFor("/big.txt", "application/pdf", "Range", "bytes=0-1,30-");
        try {
            HttpResponse head = (HttpResponse) parts.messages.get(0);
            assertThat(head.headers().get("Content-Type")).startsWith("multipart/byteranges; boundary=");
            assertThat(parts.body()).contains("Content-Type: application/pdf\r\nContent-Range: bytes 0-1/36")
                    .doesNotContain("text/plain");
        } finally {
            parts.releaseAll();
        }
    }

    /** A backend that sent no Content-Type, or an empty one, leaves the file name's. */
    @Test
    void aFileSentForABackendWithoutATypeHasItsOwn() {
        for (String type : new String[] {null, ""}) {
            FakeExchange ex = sendFor("/small.txt", type);
            try {
                assertThat(((HttpResponse) ex.messages.get(0)).headers().getAll("Content-Type"))
                        .containsExactly("text/plain");
            } finally {
                ex.releaseAll();
            }
        }
    }

    /** The content cache keeps a file sent for a backend with its own type, not the backend's. */
    @Test
    void aFileSentForABackendIsCachedWithItsOwnType() throws IOException {
        try (ContentCache contents = new ContentCache(new ContentCacheSettings(1 << 20, 1024, Duration.ofSeconds(5)))) {
            responder = new StaticResponder(engine, new MimeTypes(Map.of("txt", "text/plain")), contents, Runnable::run);
            sendFor("/small.txt", "application/pdf").releaseAll();
            FakeExchange direct = run(HttpMethod.GET, "/small.txt");
            try {
                assertThat(((HttpResponse) direct.messages.get(0)).headers().getAll("Content-Type"))
                        .containsExactly("text/plain");
            } finally {
                direct.releaseAll();
            }
        }
    }

    /** {@code path} as the FastCGI responder sends an X-Sendfile file, the backend having sent {@code type}. */
    private FakeExchange sendFor(String path, String type, String... requestHeaders) {
        FakeExchange ex = new FakeExchange(HttpMethod.GET, path, "");
        for (int i = 0; i < requestHeaders.length; i += 2) {
            ex.request.headers().add(requestHeaders[i], requestHeaders[i + 1]);
        }
        HttpHeaders passThrough = new DefaultHttpHeaders();
        if (type != null) {
            passThrough.add("Content-Type", type);
        }
        responder.sendFileWithin(ex, root.resolve(path.substring(1)), passThrough, real -> true);
        ex.channel.runPendingTasks();
        return ex;
    }

    /**
     * A range past the file's end is nginx 1.22.1's 416 (measured): its own HTML page for the status with the
     * Content-Range of the file's length and no ETag (its special response clears the file's), a HEAD's the page's
     * length without its body.
     */
    @Test
    void unsatisfiableRange() {
        for (HttpMethod method : new HttpMethod[] {HttpMethod.GET, HttpMethod.HEAD}) {
            FakeExchange ex = run(method, "/big.txt", "Range", "bytes=100-");
            FullHttpResponse response = (FullHttpResponse) ex.messages.get(0);
            assertThat(response.status()).isEqualTo(HttpResponseStatus.REQUESTED_RANGE_NOT_SATISFIABLE);
            assertThat(response.headers().get("Content-Range")).isEqualTo("bytes */36");
            assertThat(response.headers().contains(HttpHeaderNames.ETAG)).as("%s", method).isFalse();
            assertThat(response.headers().get(HttpHeaderNames.CONTENT_TYPE)).startsWith("text/html");
            String page = response.content().toString(StandardCharsets.UTF_8);
            if (method.equals(HttpMethod.GET)) {
                assertThat(page).startsWith("<html><head><title>416 Requested Range Not Satisfiable</title>");
                assertThat(response.headers().getInt(HttpHeaderNames.CONTENT_LENGTH)).isEqualTo(page.length());
            } else {
                assertThat(page).isEmpty();
                assertThat(response.headers().getInt(HttpHeaderNames.CONTENT_LENGTH)).isPositive();
            }
            ex.releaseAll();
        }
    }

    @Test
    void onlyGetAndHead() {
        FakeExchange ex = run(HttpMethod.POST, "/small.txt");
        FullHttpResponse response = (FullHttpResponse) ex.messages.get(0);
        assertThat(response.status()).isEqualTo(HttpResponseStatus.METHOD_NOT_ALLOWED);
        assertThat(response.headers().get("Allow")).isEqualTo("GET, HEAD");
        ex.releaseAll();
    }

    @Test
    void directories() {
        FakeExchange redirect = run(HttpMethod.GET, "/dir", "?a=1", "Host", "Files.Example");
        FullHttpResponse response = (FullHttpResponse) redirect.messages.get(0);
        assertThat(response.status()).isEqualTo(HttpResponseStatus.MOVED_PERMANENTLY);
        assertThat(response.headers().get("Location")).as("absolute-redirect, nginx's default: the Host's name and the"
                + " port the connection came to (the fake's 0)").isEqualTo("http://files.example:0/dir/?a=1");
        redirect.releaseAll();

        FakeExchange index = run(HttpMethod.GET, "/dir/");
        FullHttpResponse page = (FullHttpResponse) index.messages.get(0);
        assertThat(page.content().toString(StandardCharsets.US_ASCII)).isEqualTo("<p>index</p>");
        assertThat(page.headers().get("Content-Type")).isEqualTo("text/html");
        index.releaseAll();

        assertThat(run(HttpMethod.GET, "/noindex/").error).isEqualTo(HttpResponseStatus.FORBIDDEN);
        assertThat(run(HttpMethod.GET, "/small.txt/").error).isEqualTo(HttpResponseStatus.NOT_FOUND);
    }

    /**
     * A method other than GET, HEAD and POST on a directory's path is 405 when no index file answers it, as nginx
     * 1.22 answers it (and a TRACE there); a POST keeps the 403 or 404 nginx gives it.
     */
    @Test
    void otherMethodsOnADirectoryWithoutAnIndexAre405() {
        for (String path : List.of("/noindex/", "/missing/", "/missing/deeper/", "/small.txt/")) {
            FakeExchange ex = run(HttpMethod.DELETE, path);
            assertThat(ex.error).as(path).isNull();
            FullHttpResponse response = (FullHttpResponse) ex.messages.get(0);
            assertThat(response.status()).as(path).isEqualTo(HttpResponseStatus.METHOD_NOT_ALLOWED);
            assertThat(response.headers().get("Allow")).as(path).isEqualTo("GET, HEAD");
            ex.releaseAll();
        }
        assertThat(run(HttpMethod.POST, "/noindex/").error).isEqualTo(HttpResponseStatus.FORBIDDEN);
        assertThat(run(HttpMethod.POST, "/missing/").error).isEqualTo(HttpResponseStatus.NOT_FOUND);
    }

    @Test
    void refusals() {
        assertThat(run(HttpMethod.GET, "/missing.txt").error).isEqualTo(HttpResponseStatus.NOT_FOUND);
        assertThat(run(HttpMethod.GET, "/.htpasswd").error).isEqualTo(HttpResponseStatus.FORBIDDEN);
        assertThat(run(HttpMethod.GET, "/../etc/passwd").error).isEqualTo(HttpResponseStatus.BAD_REQUEST);
    }

    @Test
    void locationEncodesThePath() {
        assertThat(io.edge.core.http.RequestTarget.encodePath("/a b/\u00e9\r\n")).isEqualTo("/a%20b/%C3%A9%0D%0A");
    }

    @Test
    void perRootResolversAreShared() {
        var resolvers = StaticResponder.perRoot();
        FakeExchange a = new FakeExchange(HttpMethod.GET, "/x", "");
        FakeExchange b = new FakeExchange(HttpMethod.GET, "/y", "");
        PathResolver first = resolvers.apply(a);
        assertThat(resolvers.apply(b)).isSameAs(first);
        a.channel.finishAndReleaseAll();
        b.channel.finishAndReleaseAll();
    }

    /**
     * A configuration's resolvers are made where it is built (each takes its root's real path and opens it, which on a
     * file server waits for the server): a request gets the one made for its root and makes none on its loop.
     */
    @Test
    void preparedResolversAreTheOnesRequestsGet(@TempDir Path other) throws Exception {
        LocationSettings images = new LocationSettings("^~ /images/", LocationSettings.Kind.PREFIX_NO_REGEX, "/images/",
                null, other, LocationSettings.Handler.STATIC, null);
        SiteSettings withImages = new SiteSettings(List.of("example.org"), true, root, List.of(), PathPolicy.DEFAULT,
                List.of(images));
        try (StaticResponder.Resolvers resolvers = StaticResponder.perRoot(System::nanoTime)) {
            resolvers.prepare(List.of(withImages));
            assertThat(resolvers.size()).as("the site's root and the location's").isEqualTo(2);
            FakeExchange a = new FakeExchange(HttpMethod.GET, "/x", "");
            resolvers.apply(a);
            assertThat(resolvers.size()).isEqualTo(2);
            a.channel.finishAndReleaseAll();
        }
    }

    @Test
    void clientGoneMidBodyReleasesTheFile() {
        FakeExchange ex = new FakeExchange(HttpMethod.GET, "/big.txt", "");
        ex.stallWrites = true;
        responder.respond(ex);
        assertThat(ex.messages).hasSize(3); // head, two regions in flight; waiting for the first one's write
        assertThat(engine.cache().descriptorsInUse()).isEqualTo(1);
        ex.goneTasks.forEach(Runnable::run);
        ex.stalled.forEach(p -> p.setFailure(new java.nio.channels.ClosedChannelException()));
        assertThat(ex.messages).hasSize(3);
        assertThat(ex.completed).isFalse();
        ex.releaseAll();
        assertEveryFileGivenBack();
    }

    @Test
    void twoRegionsAreInFlightAndEachCompletedWriteLetsOneMoreGo() {
        FakeExchange ex = new FakeExchange(HttpMethod.GET, "/big.txt", "");
        ex.stallWrites = true;
        responder.respond(ex);
        assertThat(ex.messages).hasSize(3); // head, regions 0-9 and 10-19
        ex.stalled.get(2).setSuccess(); // the second region first: still waiting for the oldest
        assertThat(ex.messages).hasSize(3);
        ex.stalled.get(1).setSuccess();
        assertThat(ex.messages).hasSize(5); // regions 20-29 and 30-35
        ex.stalled.get(3).setSuccess();
        ex.stalled.get(4).setSuccess();
        assertThat(ex.messages).hasSize(6);
        assertThat(ex.messages.get(5)).isInstanceOf(LastHttpContent.class);
        ex.stalled.get(5).setSuccess();
        assertThat(ex.completed).isTrue();
        ex.releaseAll();
        assertEveryFileGivenBack();
    }

    @Test
    void failedWriteFailsTheExchangeAndReleasesTheFile() {
        FakeExchange ex = new FakeExchange(HttpMethod.GET, "/big.txt", "");
        ex.stallWrites = true;
        responder.respond(ex);
        assertThat(ex.messages).hasSize(3); // head, two regions in flight
        ex.stalled.get(1).setFailure(new java.io.IOException("reset")); // writes complete in order: the first region's
        assertThat(ex.failure).hasMessage("reset");
        ex.releaseAll();
        assertEveryFileGivenBack();
    }

    @Test
    void requestsForAFileBeingReadShareThatRead() {
        HeldReads held = holdReads();
        FakeExchange a = new FakeExchange(HttpMethod.GET, "/small.txt", "");
        FakeExchange b = new FakeExchange(HttpMethod.GET, "/small.txt", "");
        FakeExchange other = new FakeExchange(HttpMethod.GET, "/dir/index.html", "");
        responder.respond(a);
        responder.respond(b);
        responder.respond(other);
        assertThat(held.pending).hasSize(2); // one read for small.txt, one for index.html
        assertThat(a.messages).isEmpty();
        assertThat(b.messages).isEmpty();

        held.completeAll();
        try {
            for (FakeExchange ex : List.of(a, b)) {
                FullHttpResponse response = (FullHttpResponse) ex.messages.get(0);
                assertThat(response.status()).isEqualTo(HttpResponseStatus.OK);
                assertThat(response.content().toString(StandardCharsets.US_ASCII)).isEqualTo("hello");
                assertThat(ex.completed).isTrue();
            }
            assertThat(((FullHttpResponse) other.messages.get(0)).content().toString(StandardCharsets.US_ASCII))
                    .isEqualTo("<p>index</p>");
        } finally {
            a.releaseAll();
            b.releaseAll();
            other.releaseAll();
        }

        // Once the read is done, the next request reads again: nothing is left waiting on it.
        FakeExchange c = new FakeExchange(HttpMethod.GET, "/small.txt", "");
        responder.respond(c);
        assertThat(held.pending).hasSize(1);
        held.completeAll();
        assertThat(c.completed).isTrue();
        c.releaseAll();
    }

    @Test
    void theEngineIsToldWhenNoBodyIsExpected() {
        HeldReads held = holdReads();
        FakeExchange get = run(HttpMethod.GET, "/small.txt");
        FakeExchange head = run(HttpMethod.HEAD, "/small.txt");
        FakeExchange revalidation = run(HttpMethod.GET, "/small.txt", "If-None-Match", "\"x\"");
        FakeExchange sinceDate = run(HttpMethod.GET, "/small.txt", "If-Modified-Since", "Sat, 01 Jan 2000 00:00:00 GMT");
        FakeExchange range = run(HttpMethod.GET, "/small.txt", "Range", "bytes=1-2");
        FakeExchange ifMatch = run(HttpMethod.GET, "/small.txt", "If-Match", "\"x\"");
        FakeExchange unmodifiedSince = run(HttpMethod.GET, "/small.txt", "If-Unmodified-Since",
                "Sat, 01 Jan 2000 00:00:00 GMT");
        FakeExchange fileAsDirectory = run(HttpMethod.GET, "/small.txt/");
        FakeExchange index = run(HttpMethod.HEAD, "/dir/");
        held.completeAll();
        assertThat(held.bodiesExpected.subList(0, 8))
                .as("GET; HEAD, revalidations, a range, maybe a 412, a file asked for as a directory: no whole body")
                .containsExactly(true, false, false, false, false, false, false, false);
        assertThat(fileAsDirectory.error).isEqualTo(HttpResponseStatus.NOT_FOUND);
        fileAsDirectory.releaseAll();
        assertThat(held.bodiesExpected.subList(8, held.bodiesExpected.size())).as("the directory, then its index")
                .hasSizeGreaterThan(1).containsOnly(false);
        for (FakeExchange ex : List.of(get, head, revalidation, sinceDate, range, index)) {
            assertThat(ex.completed).isTrue();
            ex.releaseAll();
        }
        for (FakeExchange ex : List.of(ifMatch, unmodifiedSince)) {
            assertThat(ex.error).isEqualTo(HttpResponseStatus.PRECONDITION_FAILED);
            ex.releaseAll();
        }
    }

    @Test
    void aFailedSharedReadFailsEverySharer() {
        HeldReads held = holdReads();
        FakeExchange a = new FakeExchange(HttpMethod.GET, "/small.txt", "");
        FakeExchange b = new FakeExchange(HttpMethod.GET, "/small.txt", "");
        responder.respond(a);
        responder.respond(b);
        assertThat(held.pending).hasSize(1);
        held.pending.remove(0).future.completeExceptionally(new IOException("disk gone"));
        assertThat(a.failure).hasMessage("disk gone");
        assertThat(b.failure).hasMessage("disk gone");
        assertThat(a.messages).isEmpty();
        assertThat(b.messages).isEmpty();
        a.releaseAll();
        b.releaseAll();
    }

    @Test
    void aFileOpenedAfterTheExchangeEndedIsGivenBack() {
        HeldReads held = holdReads();
        held.heldOpens = new ArrayList<>();
        FakeExchange big = new FakeExchange(HttpMethod.GET, "/big.txt", ""); // sent in regions
        FakeExchange revalidation = new FakeExchange(HttpMethod.GET, "/small.txt", "");
        revalidation.request.headers().set("If-None-Match", "*"); // answered 304
        FakeExchange failed = new FakeExchange(HttpMethod.GET, "/big.txt", "");
        responder.respond(big);
        responder.respond(revalidation);
        responder.respond(failed);
        assertThat(held.heldOpens).hasSize(3);
        big.leave();
        revalidation.leave();
        failed.fail(new IOException("body over the limit")); // ended with its client still there
        held.heldOpens.forEach(Runnable::run);
        assertThat(big.messages).isEmpty();
        assertThat(revalidation.messages).isEmpty();
        assertThat(failed.messages).isEmpty();
        big.releaseAll();
        revalidation.releaseAll();
        failed.releaseAll();
        assertEveryFileGivenBack();
    }

    /**
     * An engine whose read or region load throws at once on the event loop (no direct memory left for the buffer of a
     * page-cache hit read there): the exchange fails with it and gives its file back, and a later request for the
     * same file is answered. The error went nowhere: the exchange hung with its descriptor held, and a small file's
     * shared read stayed registered, never to complete, so every later request for it on that loop hung too.
     */
    @Test
    void anEngineThatThrowsAtOnceFailsTheExchangeAndTheNextRequestIsAnswered() throws IOException {
        OutOfMemoryError noMemory = new OutOfMemoryError("Cannot reserve 5 bytes of direct buffer memory");
        boolean[] thrown = {false, false}; // by read, by loadRegion: once each
        responder = new StaticResponder(new HeldReads(engine) {
            @Override
            public CompletionStage<ByteBuf> read(OpenFile file, long offset, int length, ByteBufAllocator alloc) {
                if (!thrown[0]) {
                    thrown[0] = true;
                    throw noMemory;
                }
                return delegate.read(file, offset, length, alloc);
            }

            @Override
            public CompletionStage<Object> loadRegion(OpenFile file, long offset, long length) {
                if (!thrown[1]) {
                    thrown[1] = true;
                    throw noMemory;
                }
                return delegate.loadRegion(file, offset, length);
            }
        }, new MimeTypes(Map.of("txt", "text/plain")));
        for (String path : List.of("/small.txt", "/big.txt")) {
            FakeExchange failed = run(HttpMethod.GET, path);
            assertThat(failed.failure).as(path).isSameAs(noMemory);
            failed.releaseAll();
            FakeExchange next = run(HttpMethod.GET, path);
            try {
                assertThat(next.failure).as(path).isNull();
                assertThat(next.completed).as(path).isTrue();
                assertThat(path.equals("/big.txt") ? next.body()
                        : ((FullHttpResponse) next.messages.get(0)).content().toString(StandardCharsets.US_ASCII))
                        .isEqualTo(path.equals("/big.txt") ? BIG : "hello");
            } finally {
                next.releaseAll();
            }
        }
        assertEveryFileGivenBack();
    }

    @Test
    void aRegionThatFailsAtOnceFailsTheExchangeAndReleasesTheFile() {
        HeldReads held = holdReads();
        held.failLoadNumber = 2; // the second of four regions (36 bytes in chunks of 10)
        FakeExchange ex = new FakeExchange(HttpMethod.GET, "/big.txt", "");
        responder.respond(ex);
        assertThat(ex.failure).hasMessage("read queue full");
        assertThat(ex.completed).isFalse();
        assertThat(ex.messages).hasSize(2); // the head and the first region
        ex.releaseAll();
        assertEveryFileGivenBack();
    }

    /**
     * Under overload (every pool thread busy, its queue full) a body's first piece may be refused, the client then
     * getting 503 with nothing sent, but each piece after the head went out waits its turn instead: refused, it could
     * only cut the response short. Before, a download was cut in the middle while new requests got their 503s. A
     * multipart body's head waits with its first boundary for the first file bytes, so its first piece may be refused
     * too, and none after.
     */
    @Test
    void theBodysPiecesAfterTheHeadWaitForAFullReadQueueOnlyTheFirstMayBeRefused() throws IOException {
        List<WhenFull> asked = new ArrayList<>();
        responder = new StaticResponder(new HeldReads(engine) {
            @Override
            public CompletionStage<Object> loadRegion(OpenFile file, long offset, long length, WhenFull whenFull) {
                asked.add(whenFull);
                return delegate.loadRegion(file, offset, length, whenFull);
            }
        }, new MimeTypes(Map.of("txt", "text/plain")));
        FakeExchange whole = run(HttpMethod.GET, "/big.txt"); // 36 bytes in chunks of 10
        try {
            assertThat(whole.body()).isEqualTo(BIG);
            assertThat(asked).containsExactly(WhenFull.REFUSE, WhenFull.WAIT, WhenFull.WAIT, WhenFull.WAIT);
        } finally {
            whole.releaseAll();
        }
        asked.clear();
        FakeExchange multipart = run(HttpMethod.GET, "/big.txt", "Range", "bytes=0-14,20-25");
        try {
            assertThat(multipart.completed).isTrue();
            assertThat(multipart.body()).contains("0123456789abcde").contains("klmnop");
            assertThat(asked).containsExactly(WhenFull.REFUSE, WhenFull.WAIT, WhenFull.WAIT);
        } finally {
            multipart.releaseAll();
        }
        assertEveryFileGivenBack();
    }

    /**
     * A piece of a body whose head went out that meets the direct memory limit (at once, or as its read's failure) is
     * loaded again a moment later rather than the download cut midway (the resource audit: downloads cut under
     * -XX:MaxDirectMemorySize=32m and 60 slow clients); after 10 s without memory the response is cut. The first piece
     * is refused at once: 503, nothing sent.
     */
    @Test
    void aLaterPieceWaitsForDirectMemoryThenTheDownloadGoesOnWhole() throws IOException {
        int[] loads = {0};
        int[] failing = {2, 3};
        responder = new StaticResponder(new HeldReads(engine) {
            @Override
            public CompletionStage<Object> loadRegion(OpenFile file, long offset, long length, WhenFull whenFull) {
                int load = ++loads[0];
                if (load >= failing[0] && load <= failing[1]) {
                    if (load % 2 == 0) { // the JDK's own, an allocation racing another past the check for room
                        throw new OutOfMemoryError("Cannot reserve 10 bytes of direct buffer memory");
                    }
                    return CompletableFuture.failedFuture(new DirectMemoryExhaustedException("read buffer of 10 bytes"));
                }
                return delegate.loadRegion(file, offset, length, whenFull);
            }
        }, new MimeTypes(Map.of("txt", "text/plain")));
        FakeExchange ex = new FakeExchange(HttpMethod.GET, "/big.txt", ""); // 36 bytes in pieces of 10
        ex.channel.freezeTime();
        try {
            responder.respond(ex);
            ex.channel.runPendingTasks();
            assertThat(ex.messages).as("the head and the first piece").hasSize(2);
            assertThat(ex.failure).isNull();
            ex.channel.advanceTimeBy(5, TimeUnit.MILLISECONDS);
            ex.channel.runScheduledPendingTasks();
            ex.channel.runPendingTasks();
            assertThat(ex.completed).as("the second try met the limit too").isFalse();
            ex.channel.advanceTimeBy(10, TimeUnit.MILLISECONDS);
            ex.channel.runScheduledPendingTasks();
            ex.channel.runPendingTasks();
            assertThat(ex.failure).isNull();
            assertThat(ex.completed).isTrue();
            assertThat(ex.body()).isEqualTo(BIG);
        } finally {
            ex.releaseAll();
        }

        loads[0] = 0;
        failing[1] = Integer.MAX_VALUE; // from the second piece on, never memory again
        FakeExchange cut = new FakeExchange(HttpMethod.GET, "/big.txt", "");
        cut.channel.freezeTime();
        try {
            responder.respond(cut);
            cut.channel.runPendingTasks();
            for (int i = 0; i < 60 && cut.failure == null; i++) {
                cut.channel.advanceTimeBy(200, TimeUnit.MILLISECONDS);
                cut.channel.runScheduledPendingTasks();
                cut.channel.runPendingTasks();
            }
            assertThat(cut.failure).isInstanceOfAny(DirectMemoryExhaustedException.class, OutOfMemoryError.class);
            assertThat(cut.messages).as("the head and the first piece only").hasSize(2);
        } finally {
            cut.releaseAll();
        }

        loads[0] = 0;
        failing[0] = 1;
        FakeExchange refused = run(HttpMethod.GET, "/big.txt");
        assertThat(refused.failure).as("the first piece: 503 at once").isInstanceOf(DirectMemoryExhaustedException.class);
        assertThat(refused.messages).isEmpty();
        refused.releaseAll();
        assertEveryFileGivenBack();
    }

    /** The same for a body read into buffers for the gzip filter rather than sent by {@code sendfile}. */
    @Test
    void aBodyReadForGzipWaitsForAFullReadQueueAfterItsHeadOnlyTheFirstPieceMayBeRefused() throws IOException {
        List<WhenFull> asked = new ArrayList<>();
        responder = new StaticResponder(new HeldReads(engine) {
            @Override
            public CompletionStage<ByteBuf> read(OpenFile file, long offset, int length, ByteBufAllocator alloc,
                    WhenFull whenFull) {
                asked.add(whenFull);
                return delegate.read(file, offset, length, alloc, whenFull);
            }
        }, new MimeTypes(Map.of("txt", "text/plain")));
        FakeExchange ex = new FakeExchange(HttpMethod.GET, "/big.txt", "");
        ex.location = LocationSettings.builder("/", LocationSettings.Kind.PREFIX, "/", null, null,
                LocationSettings.Handler.STATIC, null).gzip(new LocationSettings.Gzip(1, 1, Set.of("text/plain")))
                .build();
        ex.request.headers().set("Accept-Encoding", "gzip");
        responder.respond(ex);
        try {
            assertThat(ex.completed).isTrue();
            assertThat(ex.messages.subList(1, ex.messages.size())).as("read into buffers, not regions")
                    .allMatch(message -> message instanceof HttpContent);
            assertThat(ex.body()).isEqualTo(BIG); // the connection compresses it on its way out; this fake does not
            assertThat(asked).containsExactly(WhenFull.REFUSE, WhenFull.WAIT, WhenFull.WAIT, WhenFull.WAIT);
        } finally {
            ex.releaseAll();
        }
        assertEveryFileGivenBack();
    }

    /**
     * A file truncated while its body goes out, as Netty's {@code sendfile} of a region past its end says it: the
     * connection ends (the head is out), the file is dropped from the open-file cache, and the failure names the file
     * in one line (an {@link java.io.EOFException}, logged without a stack trace, as nginx's "was truncated").
     */
    @Test
    void aFileTruncatedWhileItsBodyGoesOutFailsAsTruncatedNamingIt() {
        HeldReads held = holdReads();
        held.failLoadNumber = 2;
        held.failLoadMessage = "Underlying file size 12 smaller then requested count 10";
        FakeExchange ex = new FakeExchange(HttpMethod.GET, "/big.txt", "");
        responder.respond(ex);
        assertThat(ex.failure).isInstanceOf(java.io.EOFException.class)
                .hasMessage(root.resolve("big.txt") + " was truncated while it was sent: "
                        + "Underlying file size 12 smaller then requested count 10");
        assertThat(ex.messages).hasSize(2); // the head and the first region
        ex.releaseAll();
        assertEveryFileGivenBack();
    }

    /**
     * The first region failing (a file truncated under its cached descriptor, a read timeout): nothing was written,
     * so the exchange answers the error itself. The head used to be written unflushed before it, and the close after
     * the failure left the client an empty reply and the access log a 200.
     */
    @Test
    void aFirstRegionThatFailsLeavesNothingWrittenForTheErrorAnswer() {
        HeldReads held = holdReads();
        held.failLoadNumber = 1;
        FakeExchange ex = new FakeExchange(HttpMethod.GET, "/big.txt", "");
        responder.respond(ex);
        assertThat(ex.failure).hasMessage("read queue full");
        assertThat(ex.messages).as("no head: the failure is answered with its own status").isEmpty();
        ex.releaseAll();
        assertEveryFileGivenBack();
    }

    /**
     * The same for several ranges: the multipart body's first boundary waits with the head for the first file bytes.
     * It went out before any file byte was read, so a failing first read (a file truncated under its cached
     * descriptor, a full read queue) cut a 206 short where one range gets its own status.
     */
    @Test
    void aMultipartAnswersFirstRegionThatFailsLeavesNothingWrittenEither() {
        HeldReads held = holdReads();
        held.failLoadNumber = 1;
        FakeExchange ex = new FakeExchange(HttpMethod.GET, "/big.txt", "");
        ex.request.headers().add("Range", "bytes=0-1,30-");
        responder.respond(ex);
        assertThat(ex.failure).hasMessage("read queue full");
        assertThat(ex.messages).as("no head, no boundary: the failure is answered with its own status").isEmpty();
        ex.releaseAll();
        assertEveryFileGivenBack();
    }

    /**
     * The exchange fails while its first region is read (a chunked GET's bad chunk, a body over the limit: the
     * connection answers 400 or 413 while the head is still held): the region read afterwards is given back with the
     * file. The descriptor stayed held for good, and the region with it.
     */
    @Test
    void anExchangeThatFailsWhileItsFirstRegionIsReadGivesTheRegionAndTheFileBack() {
        HeldRegions held = new HeldRegions(engine);
        responder = new StaticResponder(held, new MimeTypes(Map.of("txt", "text/plain")));
        FakeExchange ex = new FakeExchange(HttpMethod.GET, "/big.txt", "");
        responder.respond(ex);
        assertThat(held.loads).as("the first region is being read").hasSize(1);
        ex.sendError(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE); // what the connection does
        held.completeLoads();
        ex.channel.runPendingTasks();
        assertThat(ex.messages).isEmpty();
        ex.releaseAll();
        assertEveryFileGivenBack();
    }

    /**
     * The client leaves while a later piece of its body is being read: the sender cancels that read, so one still
     * waiting behind a full pool queue is skipped rather than done for nobody. Pieces under way wait past the queue's
     * bound; those of clients that left (a video player seeking: a new request each time) piled up there.
     */
    @Test
    void aPieceStillBeingLoadedWhenTheClientLeavesIsCancelled() {
        HeldRegions held = new HeldRegions(engine);
        responder = new StaticResponder(held, new MimeTypes(Map.of("txt", "text/plain")));
        FakeExchange ex = new FakeExchange(HttpMethod.GET, "/big.txt", "");
        responder.respond(ex);
        held.completeLoads(); // the first piece: it goes out with the head, and the second is asked for
        ex.channel.runPendingTasks();
        assertThat(ex.messages).hasSize(2);
        assertThat(held.stages).hasSize(2);
        assertThat(held.stages.get(0)).isCompleted();
        assertThat(held.stages.get(1)).isNotDone();
        ex.leave();
        assertThat(held.stages.get(1)).isCancelled();
        held.completeLoads(); // the engine's read ends after all: what it read is given back
        ex.channel.runPendingTasks();
        assertThat(ex.messages).hasSize(2);
        ex.releaseAll();
        assertEveryFileGivenBack();
    }

    /**
     * A region already queued fails as the file was truncated under it, while the next piece is still being read (an
     * engine that reads what is not in the page cache: past the new end, nothing is): the failed write closes the
     * connection, and that close was taken for a client that left, the truncation unsaid (no log line) and the
     * descriptor left in the open-file cache with its old size (seen with io_uring and linux-aio-sendfile, a 50 MB
     * file truncated to 20 MB mid-send). The failed write now fails the exchange as the truncation it is, at once.
     */
    @Test
    void aQueuedRegionThatFindsItsFileTruncatedWhileTheNextPieceIsReadFailsAsTruncated() {
        HeldRegions held = new HeldRegions(engine);
        responder = new StaticResponder(held, new MimeTypes(Map.of("txt", "text/plain")));
        FakeExchange ex = new FakeExchange(HttpMethod.GET, "/big.txt", "");
        ex.stallWrites = true;
        responder.respond(ex);
        held.completeLoads(); // the first piece goes out with the head, and the second is asked for
        ex.channel.runPendingTasks();
        assertThat(ex.messages).hasSize(2);
        assertThat(held.stages).hasSize(2);
        assertThat(held.stages.get(1)).isNotDone();
        ex.stalled.get(1).setFailure(new IOException("Underlying file size 12 smaller then requested count 10"));
        ex.leave(); // the close the failed write brought about
        ex.channel.runPendingTasks();
        assertThat(held.stages.get(1)).isCancelled();
        held.completeLoads();
        ex.channel.runPendingTasks();
        // once: the cancelled read is not a second failure (logged as the first, with a stack trace, in its place)
        assertThat(ex.failures).singleElement().isInstanceOf(EOFException.class).extracting(Throwable::getMessage)
                .isEqualTo(root.resolve("big.txt") + " was truncated while it was sent: "
                        + "Underlying file size 12 smaller then requested count 10");
        assertThat(ex.messages).hasSize(2);
        ex.releaseAll();
        assertEveryFileGivenBack();
    }

    /**
     * A file truncated under its cached descriptor (the open-file cache trusts it for its revalidation period): the
     * engines that read a range before they send it found it short before the head went out and answered 500, every
     * request alike until the descriptor was stat'ed again (a second by default, for ever on this test's frozen
     * clock); nginx sends such a client the old Content-Length and closes early. Now the file is dropped from the
     * open-file cache and opened again: this very request gets the file as it is now, and so does the next.
     */
    @Test
    void aFileThatShrankUnderItsCachedDescriptorIsOpenedAgainBeforeAnythingWentOut() throws IOException {
        ReadRegions reads = new ReadRegions(engine);
        responder = new StaticResponder(reads, new MimeTypes(Map.of("txt", "text/plain")));
        FakeExchange first = run(HttpMethod.GET, "/big.txt");
        assertThat(first.body()).isEqualTo(BIG);
        first.releaseAll();

        // in place (same inode), shorter than the first region: now read whole and sent with the head
        Files.writeString(root.resolve("big.txt"), "shorter", StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE);
        for (int i = 0; i < 2; i++) {
            FakeExchange ex = run(HttpMethod.GET, "/big.txt");
            try {
                assertThat(ex.failure).as("request %d", i).isNull();
                FullHttpResponse response = (FullHttpResponse) ex.messages.get(0);
                assertThat(response.status()).isEqualTo(HttpResponseStatus.OK);
                assertThat(response.content().toString(StandardCharsets.US_ASCII)).isEqualTo("shorter");
                assertThat(ex.completed).isTrue();
            } finally {
                ex.releaseAll();
            }
        }
        assertThat(reads.invalidated).containsExactly(root.resolve("big.txt"));
        assertEveryFileGivenBack();
    }

    /** The same for a small file, read whole and sent with its head. */
    @Test
    void aSmallFileThatShrankUnderItsCachedDescriptorIsOpenedAgain() throws IOException {
        run(HttpMethod.GET, "/small.txt").releaseAll(); // cached
        Files.writeString(root.resolve("small.txt"), "hi", StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE);
        FakeExchange ex = run(HttpMethod.GET, "/small.txt");
        try {
            assertThat(ex.failure).isNull();
            FullHttpResponse response = (FullHttpResponse) ex.messages.get(0);
            assertThat(response.status()).isEqualTo(HttpResponseStatus.OK);
            assertThat(response.content().toString(StandardCharsets.US_ASCII)).isEqualTo("hi");
        } finally {
            ex.releaseAll();
        }
        assertEveryFileGivenBack();
    }

    /** A file found short again after its second open (shrinking on and on) is answered with the failure: one retry. */
    @Test
    void aFileFoundShortTwiceFailsTheExchange() {
        ReadRegions reads = new ReadRegions(engine);
        reads.alwaysShort = true;
        responder = new StaticResponder(reads, new MimeTypes(Map.of("txt", "text/plain")));
        FakeExchange ex = run(HttpMethod.GET, "/big.txt");
        assertThat(ex.failure).isInstanceOf(EOFException.class);
        assertThat(ex.messages).isEmpty();
        assertThat(reads.invalidated).hasSize(2);
        ex.releaseAll();
        assertEveryFileGivenBack();
    }

    /**
     * A file found short once its head is out (a later region; the sendfile engine's regions fail as they are
     * written): the connection closes as before, and the file is dropped from the open-file cache so that the next
     * request opens it anew instead of meeting the same short descriptor.
     */
    @Test
    void aFileFoundShortAfterItsHeadWentOutIsDroppedFromTheOpenFileCache() {
        ReadRegions reads = new ReadRegions(engine);
        reads.shortFromLoad = 2;
        responder = new StaticResponder(reads, new MimeTypes(Map.of("txt", "text/plain")));
        FakeExchange ex = run(HttpMethod.GET, "/big.txt");
        assertThat(ex.failure).isInstanceOf(EOFException.class);
        assertThat(ex.messages).hasSize(2); // the head and the first region
        assertThat(reads.invalidated).containsExactly(root.resolve("big.txt"));
        ex.releaseAll();
        assertEveryFileGivenBack();
    }

    /** Netty's sendfile of a region past its file's end fails as its transferTo does (DefaultFileRegion.validate). */
    @Test
    void nettysSendfileOfARegionPastTheEndOfItsFileCountsAsAFileThatShrank() throws IOException {
        Path file = Files.writeString(root.resolve("short.txt"), "0123456789");
        try (FileChannel channel = FileChannel.open(file)) {
            DefaultFileRegion region = new DefaultFileRegion(channel, 0, 20);
            IOException thrown = assertThrows(IOException.class,
                    () -> region.transferTo(Channels.newChannel(new ByteArrayOutputStream()), 10));
            assertThat(StaticResponder.shrank(thrown)).as(thrown.getMessage()).isTrue();
        }
        assertThat(StaticResponder.shrank(new IOException("Connection reset by peer"))).isFalse();
    }

    /**
     * An engine that reads each region before it is sent, as the asynchronous engines do with a range not in the page
     * cache: a file shorter than it was opened fails the region with {@link EOFException}. Records what it was told
     * to forget.
     */
    static final class ReadRegions extends HeldReads {
        final List<Path> invalidated = new ArrayList<>();
        /** Every region is found short. */
        boolean alwaysShort;
        /** When positive, the region load with this number (1 = the first) and every later one is found short. */
        int shortFromLoad;
        private int regionLoads;

        ReadRegions(FileEngine delegate) {
            super(delegate);
        }

        @Override
        public CompletionStage<ByteBuf> read(OpenFile file, long offset, int length, ByteBufAllocator alloc) {
            return delegate.read(file, offset, length, alloc);
        }

        @Override
        public CompletionStage<Object> loadRegion(OpenFile file, long offset, long length) {
            if (alwaysShort || (shortFromLoad > 0 && ++regionLoads >= shortFromLoad)) {
                return CompletableFuture.failedFuture(new EOFException("file shrank below " + (offset + length)));
            }
            return delegate.read(file, offset, (int) length, ByteBufAllocator.DEFAULT).thenApply(buffer -> buffer);
        }

        @Override
        public void invalidate(Path file) {
            invalidated.add(file);
            delegate.invalidate(file);
        }
    }

    /** An engine whose region loads wait until the test lets them go. */
    static final class HeldRegions extends HeldReads {
        final List<Runnable> loads = new ArrayList<>();
        /** The stage each load returned, in order. */
        final List<CompletableFuture<Object>> stages = new ArrayList<>();

        HeldRegions(FileEngine delegate) {
            super(delegate);
        }

        void completeLoads() {
            List<Runnable> now = new ArrayList<>(loads);
            loads.clear();
            now.forEach(Runnable::run);
        }

        @Override
        public CompletionStage<Object> loadRegion(OpenFile file, long offset, long length) {
            CompletableFuture<Object> later = new CompletableFuture<>();
            stages.add(later);
            loads.add(() -> delegate.loadRegion(file, offset, length).whenComplete((region, error) -> {
                if (error != null) {
                    later.completeExceptionally(error);
                } else if (!later.complete(region)) {
                    ReferenceCountUtil.release(region); // cancelled: as an engine does, nobody is left to take it
                }
            }));
            return later;
        }
    }

    @Test
    void aLinkOutOfTheRootFollowedForOneSiteIsRefusedToASiteOfTheSameRootThatKeepsWithin(@TempDir Path outside)
            throws IOException {
        leakThroughALink(outside);
    }

    @Test
    void theContentCacheKeepsALinkFollowedForOneSiteFromASiteThatKeepsWithin(@TempDir Path outside) throws IOException {
        try (ContentCache contents = new ContentCache(new ContentCacheSettings(1 << 20, 1024, Duration.ofSeconds(5)))) {
            responder = new StaticResponder(engine, new MimeTypes(Map.of("txt", "text/plain")), contents, Runnable::run);
            leakThroughALink(outside);
        }
    }

    /**
     * Where no root is held open (no openat2), the links of a path are checked by the engine's open, after the content
     * cache is asked: only content read from a file reached with no link on the way answers before that check. A link
     * out of the root kept for a site that follows links anywhere is refused to one that keeps within; a plain file
     * is kept and answered from memory.
     */
    @Test
    void withoutARootHeldOpenTheContentCacheAnswersOnlyWhatNoLinkLedTo(@TempDir Path outside) throws IOException {
        try (ContentCache contents = new ContentCache(new ContentCacheSettings(1 << 20, 1024, Duration.ofSeconds(5)))) {
            responder = new StaticResponder(engine, new MimeTypes(Map.of("txt", "text/plain")),
                    exchange -> PathResolver.forChecksOnly(exchange.site().root(), exchange.site().pathPolicy(),
                            System::nanoTime, Duration.ofSeconds(1)), contents, Runnable::run);
            leakThroughALink(outside);
            HeldReads opens = new HeldReads(engine); // counts the opens; its reads are let go at once below
            responder = new StaticResponder(opens, new MimeTypes(Map.of("txt", "text/plain")),
                    exchange -> PathResolver.forChecksOnly(exchange.site().root(), exchange.site().pathPolicy(),
                            System::nanoTime, Duration.ofSeconds(1)), contents, Runnable::run);
            int opened = 0;
            for (int i = 0; i < 5; i++) { // often enough to be admitted, then answered from memory
                opened = opens.bodiesExpected.size();
                FakeExchange plain = new FakeExchange(HttpMethod.GET, "/small.txt", "");
                responder.respond(plain);
                opens.completeAll();
                plain.channel.runPendingTasks();
                try {
                    assertThat(((FullHttpResponse) plain.messages.get(0)).content().toString(StandardCharsets.US_ASCII))
                            .isEqualTo("hello");
                } finally {
                    plain.releaseAll();
                }
            }
            assertThat(opens.bodiesExpected).as("the plain file, from memory at last: not opened").hasSize(opened);
        }
    }

    /**
     * A directory of a site that keeps links within its root is moved out of the root and a link to where it went
     * left in its place: the same files, the same inodes, now outside. The content cache, which kept a file of it read
     * with no link on the way, answers it while due and then drops it (its revalidation finds a link on the way now),
     * and the next request is refused as the link is: with the root held open and without.
     */
    @Test
    void aCachedFileWhoseDirectoryMovedOutOfTheRootForALinkIsRefusedAfterItsRevalidation(@TempDir Path outside)
            throws IOException {
        Function<Exchange, PathResolver> checksOnly = exchange -> PathResolver.forChecksOnly(exchange.site().root(),
                exchange.site().pathPolicy(), System::nanoTime, Duration.ofSeconds(1));
        for (Function<Exchange, PathResolver> resolvers : List.of(StaticResponder.perRoot(), checksOnly)) {
            Path moved = outside.resolve(resolvers == checksOnly ? "checked" : "held");
            movedOutOfTheRootForALink(resolvers, moved);
        }
    }

    private void movedOutOfTheRootForALink(Function<Exchange, PathResolver> resolvers, Path movedTo)
            throws IOException {
        AtomicLong clock = new AtomicLong();
        engine.close();
        engine = new SendfileEngine(new OpenFileCache(16, Duration.ofSeconds(1), 32, clock::get), 10, 16);
        Path directory = Files.createDirectories(root.resolve("d"));
        Path file = Files.writeString(directory.resolve("m.txt"), "within");
        Files.setLastModifiedTime(file, FileTime.fromMillis(1_704_067_200_000L)); // settled: the caches keep it
        try (ContentCache contents = new ContentCache(new ContentCacheSettings(1 << 20, 1024, Duration.ofSeconds(1)),
                clock::get)) {
            responder = new StaticResponder(engine, new MimeTypes(Map.of("txt", "text/plain")), resolvers, contents,
                    Runnable::run);
            for (int i = 0; i < 4; i++) {
                FakeExchange ex = run(HttpMethod.GET, "/d/m.txt");
                assertThat(((FullHttpResponse) ex.messages.get(0)).content().toString(StandardCharsets.US_ASCII))
                        .isEqualTo("within");
                ex.releaseAll();
            }
            assertThat(contents.stats().hits()).as("cached").isPositive();

            Files.move(directory, movedTo);
            Files.createSymbolicLink(directory, movedTo);
            clock.addAndGet(Duration.ofSeconds(2).toNanos());
            run(HttpMethod.GET, "/d/m.txt").releaseAll(); // due: answered as cached, revalidated
            FakeExchange refused = run(HttpMethod.GET, "/d/m.txt");
            try {
                assertThat(refused.messages).isEmpty();
                assertThat(refused.error).isEqualTo(HttpResponseStatus.FORBIDDEN);
            } finally {
                refused.releaseAll();
            }
            assertThat(contents.stats().invalidations()).isEqualTo(1);
        } finally {
            Files.deleteIfExists(directory); // the link: the next round makes the directory again
        }
    }

    /** The reviewer's {@code mv r.new r.txt}: another inode, same size, same mtime ({@code touch -d}). */
    @Test
    void theContentCacheAnswersWithTheNewBytesOfAFileRenamedOverTheCachedOne() throws IOException {
        contentCacheSeesTheReplacement(file -> {
            Path replacement = root.resolve("r.new");
            Files.writeString(replacement, "BBBB-version-2\n");
            Files.setLastModifiedTime(replacement, Files.getLastModifiedTime(file));
            Files.move(replacement, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        });
    }

    /** The reviewer's {@code cp -p} over the file: the same inode rewritten, its size and mtime put back. */
    @Test
    void theContentCacheAnswersWithTheNewBytesOfAFileRewrittenInPlaceWithItsMtimeRestored() throws IOException {
        contentCacheSeesTheReplacement(file -> {
            FileTime mtime = Files.getLastModifiedTime(file);
            long ctime = OpenFile.changeTimeOf(OpenFile.stat(file));
            do { // until the ctime moved: a coarse kernel clock may stamp a write within one tick alike
                Files.writeString(file, "BBBB-version-2\n", StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE);
                Files.setLastModifiedTime(file, mtime);
            } while (OpenFile.changeTimeOf(OpenFile.stat(file)) == ctime);
        });
    }

    /**
     * A request that opened the new version of a file (renamed over the old one, same size and mtime, so the same
     * entity tag) while a read of the old version was in flight gets the bytes of the file it opened, and the content
     * cache never keeps the old bytes under the new version (its revalidation would trust them for good).
     */
    @Test
    void aRequestForANewerVersionOfAFileNeverSharesTheReadOfAnOlderOne() throws IOException {
        AtomicLong clock = new AtomicLong();
        engine.close();
        engine = new SendfileEngine(new OpenFileCache(16, Duration.ofSeconds(1), 32, clock::get), 10, 16);
        Path file = Files.writeString(root.resolve("r.txt"), "AAAA-version-1\n");
        Files.setLastModifiedTime(file, FileTime.fromMillis(1_704_067_200_000L));
        try (ContentCache contents = new ContentCache(new ContentCacheSettings(1 << 20, 1024, Duration.ofSeconds(1)),
                clock::get)) {
            HeldReads held = new HeldReads(engine);
            responder = new StaticResponder(held, new MimeTypes(Map.of("txt", "text/plain")), contents, Runnable::run);
            FakeExchange old = new FakeExchange(HttpMethod.GET, "/r.txt", "");
            responder.respond(old); // opens version 1; its read waits
            Path replacement = root.resolve("r.new");
            Files.writeString(replacement, "BBBB-version-2\n");
            Files.setLastModifiedTime(replacement, Files.getLastModifiedTime(file));
            Files.move(replacement, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            clock.addAndGet(Duration.ofSeconds(2).toNanos()); // the next open looks at the path again: version 2
            FakeExchange fresh = new FakeExchange(HttpMethod.GET, "/r.txt", "");
            responder.respond(fresh);
            held.completeAll();
            FakeExchange later = new FakeExchange(HttpMethod.GET, "/r.txt", "");
            try {
                assertThat(((FullHttpResponse) old.messages.get(0)).content().toString(StandardCharsets.US_ASCII))
                        .isEqualTo("AAAA-version-1\n");
                assertThat(((FullHttpResponse) fresh.messages.get(0)).content().toString(StandardCharsets.US_ASCII))
                        .isEqualTo("BBBB-version-2\n");
                responder.respond(later); // the content cache's (kept by the second request), or a read of its own
                held.completeAll();
                assertThat(((FullHttpResponse) later.messages.get(0)).content().toString(StandardCharsets.US_ASCII))
                        .isEqualTo("BBBB-version-2\n");
            } finally {
                old.releaseAll();
                fresh.releaseAll();
                later.releaseAll();
            }
        }
    }

    /**
     * A reload that changed the engine: the new configuration's request for a file whose read the old engine still has
     * in flight reads through its own engine, so the old engine's close (its waiting reads fail) cannot fail it.
     */
    @Test
    void aRequestOfAnotherEngineNeverSharesTheReadOfARetiredOne() {
        HeldReads retired = new HeldReads(engine);
        StaticResponder before = new StaticResponder(retired, new MimeTypes(Map.of("txt", "text/plain")));
        HeldReads current = new HeldReads(engine);
        StaticResponder after = new StaticResponder(current, new MimeTypes(Map.of("txt", "text/plain")));
        FakeExchange old = new FakeExchange(HttpMethod.GET, "/small.txt", "");
        FakeExchange fresh = new FakeExchange(HttpMethod.GET, "/small.txt", "");
        before.respond(old);
        after.respond(fresh);
        List<HeldReads.Pending> closing = new ArrayList<>(retired.pending);
        retired.pending.clear();
        closing.forEach(p -> p.future().completeExceptionally(new IOException("io_uring engine closed")));
        current.completeAll();
        try {
            assertThat(old.failure).hasMessage("io_uring engine closed");
            assertThat(fresh.failure).isNull();
            assertThat(((FullHttpResponse) fresh.messages.get(0)).content().toString(StandardCharsets.US_ASCII))
                    .isEqualTo("hello");
        } finally {
            old.releaseAll();
            fresh.releaseAll();
        }
    }

    interface Replacement {
        void replace(Path file) throws IOException;
    }

    /**
     * Caches {@code /r.txt} in the content cache, has {@code replace} put another version of the same size and mtime
     * in its place, and lets both caches' revalidation periods pass on a fake clock. The first request after that
     * still gets the cached bytes while it revalidates them (inline here: the revalidator runs on the caller); the
     * next one must get the new file's bytes, under the same entity tag (nginx's, mtime and size).
     */
    private void contentCacheSeesTheReplacement(Replacement replace) throws IOException {
        contentCacheSeesTheReplacement(replace, Duration.ofSeconds(1));
        // Descriptors trusted longer than the content cache's period (nginx-aio's open_file_cache_valid 60s): the
        // content cache's stat, finding the file changed, drops its descriptor too, or the next request would read
        // the old file's bytes through it.
        contentCacheSeesTheReplacement(replace, Duration.ofSeconds(60));
    }

    private void contentCacheSeesTheReplacement(Replacement replace, Duration openFileRevalidate) throws IOException {
        AtomicLong clock = new AtomicLong();
        engine.close();
        engine = new SendfileEngine(new OpenFileCache(16, openFileRevalidate, 32, clock::get), 10, 16);
        Path file = Files.writeString(root.resolve("r.txt"), "AAAA-version-1\n");
        Files.setLastModifiedTime(file, FileTime.fromMillis(1_704_067_200_000L)); // touch -d 2024-01-01
        try (ContentCache contents = new ContentCache(new ContentCacheSettings(1 << 20, 1024, Duration.ofSeconds(1)),
                clock::get)) {
            responder = new StaticResponder(engine, new MimeTypes(Map.of("txt", "text/plain")), contents, Runnable::run);
            String etag = null;
            for (int i = 0; i < 4; i++) {
                FakeExchange ex = run(HttpMethod.GET, "/r.txt");
                FullHttpResponse response = (FullHttpResponse) ex.messages.get(0);
                assertThat(response.content().toString(StandardCharsets.US_ASCII)).isEqualTo("AAAA-version-1\n");
                etag = response.headers().get("ETag");
                ex.releaseAll();
            }
            assertThat(contents.stats().hits()).as("cached").isPositive();

            replace.replace(file);
            clock.addAndGet(Duration.ofSeconds(2).toNanos());
            run(HttpMethod.GET, "/r.txt").releaseAll(); // due: answered as cached, revalidated
            FakeExchange ex = run(HttpMethod.GET, "/r.txt");
            FullHttpResponse response = (FullHttpResponse) ex.messages.get(0);
            try {
                assertThat(response.content().toString(StandardCharsets.US_ASCII)).as(openFileRevalidate.toString())
                        .isEqualTo("BBBB-version-2\n");
                assertThat(response.headers().get("ETag")).isEqualTo(etag);
            } finally {
                ex.releaseAll();
            }
            assertThat(contents.stats().invalidations()).isEqualTo(1);
        }
    }

    /**
     * One engine (and its caches) serves two sites of one root: one follows links anywhere, one (the default)
     * only within the root. What the first read through {@code /leak.txt}, a link out of the root, must not
     * answer the second's request for the same path.
     */
    private void leakThroughALink(Path outside) throws IOException {
        Path secret = Files.writeString(outside.resolve("secret.txt"), "secret");
        // settled, as a deployed file is: the caches keep only those
        Files.setLastModifiedTime(secret, FileTime.from(Instant.now().minus(Duration.ofHours(1))));
        Files.createSymbolicLink(root.resolve("leak.txt"), secret);
        SiteSettings withinRoot = site;
        site = new SiteSettings(List.of("example.org"), true, root, List.of(), new PathPolicy(false, true, true),
                List.of());
        for (int i = 0; i < 3; i++) { // often enough for every cache to keep it
            FakeExchange followed = run(HttpMethod.GET, "/leak.txt");
            FullHttpResponse response = (FullHttpResponse) followed.messages.get(0); // small: read whole
            assertThat(response.content().toString(StandardCharsets.US_ASCII)).isEqualTo("secret");
            followed.releaseAll();
        }
        site = withinRoot;
        FakeExchange refused = run(HttpMethod.GET, "/leak.txt");
        assertThat(refused.messages).isEmpty();
        assertThat(refused.error).isEqualTo(HttpResponseStatus.FORBIDDEN);
        refused.releaseAll();
    }

    /** No descriptor is held once the cache lets go of its own: every reference the responder took came back. */
    private void assertEveryFileGivenBack() {
        engine.cache().invalidateAll();
        assertThat(engine.cache().descriptorsInUse()).isZero();
    }

    /** Makes the responder read through a {@link HeldReads} over the test's engine, and returns it. */
    private HeldReads holdReads() {
        HeldReads held = new HeldReads(engine);
        responder = new StaticResponder(held, new MimeTypes(Map.of("txt", "text/plain", "html", "text/html")));
        return held;
    }

    /** An engine whose small reads wait until the test lets them go (then read through {@code delegate}). */
    static class HeldReads implements FileEngine {
        record Pending(OpenFile file, int length, ByteBufAllocator alloc, CompletableFuture<ByteBuf> future) {
        }

        final FileEngine delegate;
        final List<Pending> pending = new ArrayList<>();
        /** When set, opens wait here until the test completes them (with the delegate's answer). */
        List<Runnable> heldOpens;
        /** When positive, the region load with this number (1 = the first) fails at once, with this message. */
        int failLoadNumber;
        String failLoadMessage = "read queue full";
        private int loads;
        /** What each open said about the body. */
        final List<Boolean> bodiesExpected = new ArrayList<>();

        HeldReads(FileEngine delegate) {
            this.delegate = delegate;
        }

        void completeAll() {
            List<Pending> now = new ArrayList<>(pending);
            pending.clear();
            for (Pending p : now) {
                delegate.read(p.file(), 0, p.length(), p.alloc()).whenComplete((buf, error) -> {
                    if (error != null) {
                        p.future().completeExceptionally(error);
                    } else {
                        p.future().complete(buf);
                    }
                });
            }
        }

        @Override
        public CompletionStage<ByteBuf> read(OpenFile file, long offset, int length, ByteBufAllocator alloc) {
            CompletableFuture<ByteBuf> future = new CompletableFuture<>();
            pending.add(new Pending(file, length, alloc, future));
            return future;
        }

        @Override public CompletionStage<OpenFile> open(Path file, boolean followLinks) { return delegate.open(file, followLinks); }
        @Override public CompletionStage<OpenFile> open(PathResolver resolver, Resolution resolution) { return delegate.open(resolver, resolution); }
        @Override public CompletionStage<PathStatus> status(String path) { return delegate.status(path); }
        @Override public CompletionStage<OpenFile> open(PathResolver resolver, Resolution resolution, boolean bodyExpected) {
            bodiesExpected.add(bodyExpected);
            if (heldOpens == null) {
                return delegate.open(resolver, resolution, bodyExpected);
            }
            CompletableFuture<OpenFile> later = new CompletableFuture<>();
            heldOpens.add(() -> delegate.open(resolver, resolution, bodyExpected).whenComplete((file, error) -> {
                if (error != null) {
                    later.completeExceptionally(error);
                } else {
                    later.complete(file);
                }
            }));
            return later;
        }
        @Override public CompletionStage<Object> loadRegion(OpenFile file, long offset, long length) {
            if (++loads == failLoadNumber) {
                return CompletableFuture.failedFuture(new IOException(failLoadMessage));
            }
            return delegate.loadRegion(file, offset, length);
        }
        @Override public Object region(OpenFile file, long offset, long length) { return delegate.region(file, offset, length); }
        @Override public long chunkSize() { return delegate.chunkSize(); }
        @Override public int inlineLimit() { return delegate.inlineLimit(); }
        @Override public void invalidate(Path file) { delegate.invalidate(file); }
        @Override public FileEngineStats stats() { return delegate.stats(); }
        @Override public void close() { }
    }

    private FakeExchange run(HttpMethod method, String path, String... headers) {
        String query = "";
        if (headers.length % 2 == 1) {
            query = headers[0].substring(1);
            headers = java.util.Arrays.copyOfRange(headers, 1, headers.length);
        }
        FakeExchange ex = new FakeExchange(method, path, query);
        for (int i = 0; i < headers.length; i += 2) {
            ex.request.headers().add(headers[i], headers[i + 1]);
        }
        responder.respond(ex);
        ex.channel.runPendingTasks();
        return ex;
    }

    /** Records what the responder writes; the channel completes writes at once. */
    final class FakeExchange implements Exchange {
        /** TCP_CORK set on the channel, each with the number of messages written before it. */
        final List<String> corks = new ArrayList<>();
        final EmbeddedChannel channel = new EmbeddedChannel() {
            private final io.netty.channel.ChannelConfig config = new io.netty.channel.DefaultChannelConfig(this) {
                @Override
                public <T> boolean setOption(io.netty.channel.ChannelOption<T> option, T value) {
                    if (option == io.netty.channel.epoll.EpollChannelOption.TCP_CORK) {
                        corks.add((Boolean) value ? "on" : "off");
                        corks.set(corks.size() - 1, corks.get(corks.size() - 1) + " before message " + messages.size());
                        return true;
                    }
                    return super.setOption(option, value);
                }
            };

            @Override
            public io.netty.channel.ChannelConfig config() {
                return config;
            }
        };
        final HttpRequest request;
        final String path;
        final String query;
        final List<Object> messages = new ArrayList<>();
        boolean completed;
        boolean stallWrites;
        final List<io.netty.channel.ChannelPromise> stalled = new ArrayList<>();
        final List<Runnable> goneTasks = new ArrayList<>();
        HttpResponseStatus error;
        Throwable failure;
        /** Every failure, in order: ServerExchange answers the first alone, so a later one cannot stand in for it. */
        final List<Throwable> failures = new ArrayList<>();
        /** The client went away. Once the exchange ended, as in ServerExchange, a head is refused (released, thrown). */
        boolean gone;
        /** {@link #keepAccelFields}' fields, as ServerExchange keeps them. */
        HttpHeaders accelFields = EmptyHttpHeaders.INSTANCE;

        FakeExchange(HttpMethod method, String path, String query) {
            this.request = new DefaultHttpRequest(HttpVersion.HTTP_1_1, method, path + (query.isEmpty() ? "" : "?" + query));
            this.path = path;
            this.query = query;
        }

        @Override
        public HttpHeaders accelFields() {
            return accelFields;
        }

        @Override
        public void keepAccelFields(HttpHeaders fields) {
            accelFields = fields;
        }

        String body() throws IOException {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            try (WritableByteChannel sink = Channels.newChannel(out)) {
                for (Object m : messages.subList(1, messages.size())) {
                    if (m instanceof FileRegion region) {
                        while (region.transferred() < region.count()) {
                            region.transferTo(sink, region.transferred());
                        }
                    } else if (m instanceof ByteBuf buf) {
                        out.write(ByteBufUtil.getBytes(buf));
                    } else if (m instanceof HttpContent content) {
                        out.write(ByteBufUtil.getBytes(content.content()));
                    }
                }
            }
            return out.toString(StandardCharsets.US_ASCII);
        }

        void releaseAll() {
            messages.forEach(ReferenceCountUtil::release);
            messages.clear();
            channel.finishAndReleaseAll();
        }

        @Override public HttpRequest request() { return request; }
        @Override public String path() { return path; }
        @Override public String query() { return query; }
        @Override public boolean isHead() { return request.method().equals(HttpMethod.HEAD); }
        @Override public SiteSettings site() { return site; }
        @Override public LocationSettings location() { return location; }
        @Override public Channel clientChannel() { return channel; }
        @Override public InetSocketAddress remoteAddress() { return new InetSocketAddress(0); }
        @Override public boolean https() { return false; }
        @Override public boolean endsTls() { return tls; }
        @Override public InetSocketAddress localAddress() { return new InetSocketAddress(0); }
        @Override public void readBody(Consumer<HttpContent> onContent, Runnable onIncomplete) { }
        @Override public void pauseBody(boolean paused) { }

        @Override
        public ChannelFuture write(Object message) {
            if (isEnded() && message instanceof HttpResponse) {
                ReferenceCountUtil.release(message);
                throw new IllegalStateException("response head written twice");
            }
            messages.add(message);
            if (stallWrites) {
                io.netty.channel.ChannelPromise promise = channel.newPromise();
                stalled.add(promise);
                return promise;
            }
            return channel.newSucceededFuture();
        }

        @Override
        public ChannelFuture writeAndFlush(Object message) {
            return write(message);
        }

        @Override public void flush() { }

        @Override public boolean isWritable() { return true; }
        @Override public void onWritable(Runnable task) { task.run(); }
        @Override public void complete(ChannelFuture lastWrite) { completed = true; }
        @Override public void completeAndClose(ChannelFuture lastWrite) { completed = true; }
        @Override public void fail(Throwable cause) { failure = cause; failures.add(cause); }
        @Override public void sendError(HttpResponseStatus status) { error = status; channel.finishAndReleaseAll(); }
        @Override public void onClientGone(Runnable task) { goneTasks.add(task); }
        @Override public void whenEnded(Runnable task) { throw new UnsupportedOperationException("no limit here"); }
        @Override public boolean isEnded() { return gone || completed || failure != null || error != null; }
        /** Once its head went, the body is no longer wanted ({@link Exchange#bodyDropped}). */
        boolean dropBodyAfterHead;
        @Override public boolean bodyDropped() { return dropBodyAfterHead && !messages.isEmpty(); }

        /** The client goes away, as ServerExchange.clientGone() does it. */
        /** The location the request matched; null for none. */
        LocationSettings location;

        void leave() {
            gone = true;
            goneTasks.forEach(Runnable::run);
            goneTasks.clear();
        }
    }
}
