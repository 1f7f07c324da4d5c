package io.edge.core.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.conf.LocationSettings;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;
import java.util.zip.Inflater;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class GzipFilterTest {

    private static final LocationSettings.Gzip GZIP = new LocationSettings.Gzip(1, 256,
            Set.of("text/html", "application/json"));
    private static final String PAGE = "<p>a page a script wrote</p>\n".repeat(200);

    private static HttpRequest request(HttpVersion version, String... headers) {
        HttpRequest request = new DefaultHttpRequest(version, HttpMethod.GET, "/");
        for (int i = 0; i < headers.length; i += 2) {
            request.headers().add(headers[i], headers[i + 1]);
        }
        return request;
    }

    private static HttpResponse response(int status, String... headers) {
        HttpResponse response = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status));
        for (int i = 0; i < headers.length; i += 2) {
            response.headers().add(headers[i], headers[i + 1]);
        }
        return response;
    }

    private static GzipFilter begin(HttpRequest request, HttpResponse response) {
        return begin(request, false, response, -1, null);
    }

    /** {@link GzipFilter#begin} with {@link #GZIP}, for any client, of an answer not a file's. */
    private static GzipFilter begin(HttpRequest request, boolean head, HttpResponse response, long bodyLength,
            String bodyType) {
        return GzipFilter.begin(request, head, response, bodyLength, bodyType, GZIP,
                LocationSettings.GzipClients.DEFAULT, false, null, ByteBufAllocator.DEFAULT);
    }

    private static byte[] gunzip(byte[] gzip) throws Exception {
        try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(gzip))) {
            return in.readAllBytes();
        }
    }

    /** The bytes of {@code content}, released. */
    private static byte[] take(HttpContent content) {
        try {
            return ByteBufUtil.getBytes(content.content());
        } finally {
            content.release();
        }
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "gzip                       | true",
        "GZIP                       | true",
        "x-gzip                     | true",
        "deflate, gzip;q=0.5        | true",
        "br;q=1.0, gzip ; q=0.001   | true",
        "*                          | true",
        "identity, *;q=0.1          | true",
        "gzip;q=0                   | false",
        "gzip;q=0.000, *            | false",
        "*;q=0                      | false",
        "gzip;q=1.5                 | false",
        "gzip;q=abc                 | false",
        "deflate, br                | false",
        "identity                   | false",
        "gzipped                    | false",
        "''                         | false"})
    void acceptEncodingTakesGzipWhenItNamesItOrAnyWithAQualityAboveZero(String acceptEncoding, boolean takes) {
        HttpRequest request = request(HttpVersion.HTTP_1_1, "Accept-Encoding", acceptEncoding);
        assertThat(GzipFilter.acceptsGzip(request.headers())).isEqualTo(takes);
    }

    @Test
    void noAcceptEncodingTakesNoGzipAndSeveralFieldsAreReadAsOne() {
        assertThat(GzipFilter.acceptsGzip(request(HttpVersion.HTTP_1_1).headers())).isFalse();
        assertThat(GzipFilter.acceptsGzip(request(HttpVersion.HTTP_1_1, "Accept-Encoding", "br",
                "Accept-Encoding", "gzip").headers())).isTrue();
    }

    @Test
    void aCompressedHeadLosesItsLengthAndRangesGoesChunkedAndWeakensItsETag() {
        HttpResponse response = response(200, "Content-Type", "text/html; charset=UTF-8", "Content-Length", "5000",
                "Accept-Ranges", "bytes", "ETag", "\"v1\"", "Vary", "Cookie");
        GzipFilter filter = begin(request(HttpVersion.HTTP_1_1, "Accept-Encoding", "gzip"), response);
        assertThat(filter).isNotNull();
        filter.end();
        assertThat(response.headers().get(HttpHeaderNames.CONTENT_ENCODING)).isEqualTo("gzip");
        assertThat(response.headers().get(HttpHeaderNames.TRANSFER_ENCODING)).isEqualTo("chunked");
        assertThat(response.headers().contains(HttpHeaderNames.CONTENT_LENGTH)).isFalse();
        assertThat(response.headers().contains(HttpHeaderNames.ACCEPT_RANGES)).isFalse();
        assertThat(response.headers().get(HttpHeaderNames.ETAG)).isEqualTo("W/\"v1\"");
        assertThat(response.headers().getAll(HttpHeaderNames.VARY)).containsExactly("Cookie", "Accept-Encoding");
    }

    /** Every answer that would be compressed for some client says so by Vary; the head is otherwise left alone. */
    @Test
    void aClientThatTakesNoGzipGetsTheHeadAsItWasWithVary() {
        for (HttpRequest request : new HttpRequest[] {request(HttpVersion.HTTP_1_1),
                request(HttpVersion.HTTP_1_1, "Accept-Encoding", "gzip;q=0"),
                request(HttpVersion.HTTP_1_0, "Accept-Encoding", "gzip")}) {
            HttpResponse response = response(200, "Content-Type", "text/html", "Content-Length", "5000", "ETag", "\"v1\"");
            assertThat(begin(request, response)).isNull();
            assertThat(response.headers().get(HttpHeaderNames.CONTENT_LENGTH)).isEqualTo("5000");
            assertThat(response.headers().get(HttpHeaderNames.ETAG)).isEqualTo("\"v1\"");
            assertThat(response.headers().contains(HttpHeaderNames.CONTENT_ENCODING)).isFalse();
            assertThat(response.headers().get(HttpHeaderNames.VARY)).isEqualTo("Accept-Encoding");
        }
        HttpResponse named = response(200, "Content-Type", "text/html", "Vary", "Origin, Accept-Encoding");
        begin(request(HttpVersion.HTTP_1_1), named);
        assertThat(named.headers().getAll(HttpHeaderNames.VARY)).containsExactly("Origin, Accept-Encoding");
    }

    /**
     * A HEAD is told what its GET would get (nginx leaves it alone) but its framing, and needs no filter; a 304 keeps its
     * form.
     */
    @Test
    void aHeadGetsItsGetsHeadAndANotModifiedTheETagItsGetHad() {
        HttpRequest request = request(HttpVersion.HTTP_1_1, "Accept-Encoding", "gzip");
        HttpResponse head = response(200, "Content-Type", "text/html", "Content-Length", "5000", "ETag", "\"v1\"");
        assertThat(begin(request, true, head, -1, null)).isNull();
        assertThat(head.headers().contains(HttpHeaderNames.CONTENT_LENGTH)).isFalse();
        // its GET goes chunked or whole with the compressed length, which only compressing tells: neither is said
        assertThat(head.headers().contains(HttpHeaderNames.TRANSFER_ENCODING)).isFalse();
        assertThat(head.headers().get(HttpHeaderNames.CONTENT_ENCODING)).isEqualTo("gzip");
        assertThat(head.headers().get(HttpHeaderNames.ETAG)).isEqualTo("W/\"v1\"");
        assertThat(head.headers().get(HttpHeaderNames.VARY)).isEqualTo("Accept-Encoding");
        FullHttpResponse shortGet = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        shortGet.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/html").set(HttpHeaderNames.CONTENT_LENGTH, "100");
        assertThat(begin(request, true, shortGet, -1, null)).isNull();
        assertThat(shortGet.headers().get(HttpHeaderNames.CONTENT_LENGTH)).isEqualTo("100"); // its GET's is short
        assertThat(shortGet.headers().contains(HttpHeaderNames.CONTENT_ENCODING)).isFalse();
        shortGet.release();
        HttpResponse notModified = response(304, "Content-Type", "text/html", "ETag", "\"v1\"");
        assertThat(begin(request, false, notModified, -1, null)).isNull();
        assertThat(notModified.headers().get(HttpHeaderNames.ETAG)).isEqualTo("W/\"v1\""); // as the 200 had it
        assertThat(notModified.headers().get(HttpHeaderNames.VARY)).isEqualTo("Accept-Encoding");
        assertThat(notModified.headers().contains(HttpHeaderNames.CONTENT_ENCODING)).isFalse();
    }

    /**
     * A HEAD whose GET's length nobody knows (PHP sends a HEAD no body, so no length) gets the head of a GET streamed
     * without one, compressed, as nginx answers it: Vary and Content-Encoding as its GET's (they were left out, and a
     * cache refreshing its stored answer with a HEAD saw another representation). A 304 is judged by the length of the
     * 200 it stands for.
     */
    @Test
    void aHeadOfUnknownLengthIsJudgedAsItsStreamedGetAndA304ByIts200sLength() {
        HttpRequest request = request(HttpVersion.HTTP_1_1, "Accept-Encoding", "gzip");
        HttpResponse head = response(200, "Content-Type", "text/html", "ETag", "\"v1\"");
        assertThat(begin(request, true, head, -1, null)).isNull();
        assertThat(head.headers().get(HttpHeaderNames.CONTENT_ENCODING)).isEqualTo("gzip");
        assertThat(head.headers().get(HttpHeaderNames.VARY)).isEqualTo("Accept-Encoding");
        assertThat(head.headers().get(HttpHeaderNames.ETAG)).isEqualTo("W/\"v1\"");
        assertThat(head.headers().contains(HttpHeaderNames.TRANSFER_ENCODING)).isFalse();
        HttpResponse plainHead = response(200, "Content-Type", "text/html");
        assertThat(begin(request(HttpVersion.HTTP_1_1), true, plainHead, -1, null)).isNull();
        assertThat(plainHead.headers().get(HttpHeaderNames.VARY)).as("not asked for gzip").isEqualTo("Accept-Encoding");
        assertThat(plainHead.headers().contains(HttpHeaderNames.CONTENT_ENCODING)).isFalse();
        HttpResponse shortOne = response(304, "Content-Type", "text/html", "ETag", "\"s1\"");
        assertThat(begin(request, false, shortOne, 6, null)).isNull();
        assertThat(shortOne.headers().names()).containsExactlyInAnyOrder("Content-Type", "ETag");
        assertThat(shortOne.headers().get(HttpHeaderNames.ETAG)).isEqualTo("\"s1\"");
        HttpResponse longOne = response(304, "Content-Type", "text/html", "ETag", "\"l1\"");
        assertThat(begin(request, false, longOne, 6000, null)).isNull();
        assertThat(longOne.headers().get(HttpHeaderNames.ETAG)).isEqualTo("W/\"l1\"");
        assertThat(longOne.headers().get(HttpHeaderNames.VARY)).isEqualTo("Accept-Encoding");
    }

    /** nginx's rules: 200, 403 and 404 only; a type named; none encoded already; no no-transform; not too short. */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "500 | text/html                | ''              | ''              | 5000",
        "206 | text/html                | ''              | ''              | 5000",
        "301 | text/html                | ''              | ''              | 5000",
        "200 | image/png                | ''              | ''              | 5000",
        "200 | ''                       | ''              | ''              | 5000",
        "200 | text/html                | br              | ''              | 5000",
        "200 | text/html                | ''              | no-transform    | 5000",
        "200 | text/html                | ''              | 'public, No-Transform' | 5000",
        "200 | text/html                | ''              | ''              | 255"})
    void anAnswerOutsideTheRulesGoesAsItIsWithoutVary(int status, String type, String encoding, String cacheControl,
            String length) {
        HttpResponse response = response(status, "Content-Length", length);
        if (!type.isEmpty()) {
            response.headers().set(HttpHeaderNames.CONTENT_TYPE, type);
        }
        if (!encoding.isEmpty()) {
            response.headers().set(HttpHeaderNames.CONTENT_ENCODING, encoding);
        }
        if (!cacheControl.isEmpty()) {
            response.headers().set(HttpHeaderNames.CACHE_CONTROL, cacheControl);
        }
        assertThat(begin(request(HttpVersion.HTTP_1_1, "Accept-Encoding", "gzip"), response)).isNull();
        assertThat(response.headers().contains(HttpHeaderNames.VARY)).isFalse();
        assertThat(response.headers().get(HttpHeaderNames.CONTENT_LENGTH)).isEqualTo(length);
    }

    /** A file's 206 is its own bytes; it says Vary exactly where its 200 would (no-transform, length, type). */
    @Test
    void aFilesRangeIsNeverCompressedAndVariesWhereItsWholeFileWould() {
        HttpRequest request = request(HttpVersion.HTTP_1_1, "Accept-Encoding", "gzip", "Range", "bytes=0-9");
        HttpResponse range = response(206, "Content-Type", "text/html", "Content-Length", "10", "ETag", "\"f1\"");
        assertThat(begin(request, false, range, 5000, "text/html")).isNull();
        assertThat(range.headers().get(HttpHeaderNames.VARY)).isEqualTo("Accept-Encoding");
        assertThat(range.headers().get(HttpHeaderNames.ETAG)).as("of the file's own bytes: strong").isEqualTo("\"f1\"");
        assertThat(range.headers().get(HttpHeaderNames.CONTENT_LENGTH)).isEqualTo("10");
        HttpResponse multipart = response(206, "Content-Type", "multipart/byteranges; boundary=b");
        assertThat(begin(request, false, multipart, 5000, "text/html"))
                .isNull();
        assertThat(multipart.headers().get(HttpHeaderNames.VARY)).as("judged by the file's type").isEqualTo(
                "Accept-Encoding");
        for (HttpResponse asItIs : new HttpResponse[] {
            response(206, "Content-Type", "text/html", "Cache-Control", "no-transform"),
            response(206, "Content-Type", "text/html")}) {
            long fileLength = asItIs.headers().contains(HttpHeaderNames.CACHE_CONTROL) ? 5000 : 100;
            assertThat(begin(request, false, asItIs, fileLength, "text/html")).isNull();
            assertThat(asItIs.headers().contains(HttpHeaderNames.VARY)).as("its 200 goes as it is").isFalse();
        }
        HttpResponse script = response(206, "Content-Type", "text/html", "Content-Length", "5000");
        assertThat(begin(request, script)).as("a script's 206: not judged").isNull();
        assertThat(script.headers().contains(HttpHeaderNames.VARY)).isFalse();
    }

    @Test
    void answersOf403And404AndOfAnyTypeUnderStarAreCompressed() {
        HttpRequest request = request(HttpVersion.HTTP_1_1, "Accept-Encoding", "gzip");
        for (int status : new int[] {403, 404}) {
            GzipFilter filter = begin(request, response(status, "Content-Type", "application/json"));
            assertThat(filter).isNotNull();
            filter.end();
        }
        GzipFilter any = GzipFilter.begin(request, false, response(200, "Content-Type", "image/png"), -1, null,
                new LocationSettings.Gzip(1, 0, Set.of("*")), LocationSettings.GzipClients.DEFAULT, false, null,
                ByteBufAllocator.DEFAULT);
        assertThat(any).isNotNull();
        any.end();
    }

    /** A body streamed in parts comes back whole; what each flush gave is readable without what follows. */
    @Test
    void aStreamedBodyInflatesToWhatWasWrittenAndEachFlushToItsPrefix() throws Exception {
        GzipFilter filter = begin(request(HttpVersion.HTTP_1_1, "Accept-Encoding", "gzip"),
                response(200, "Content-Type", "text/html"));
        ByteArrayOutputStream sent = new ByteArrayOutputStream();
        sent.write(take(filter.encode(new DefaultHttpContent(Unpooled.copiedBuffer("first part|", StandardCharsets.UTF_8)),
                true)));
        // the client can read the flushed part now: a raw inflate after gzip's 10-byte header
        Inflater inflater = new Inflater(true);
        byte[] flushed = sent.toByteArray();
        inflater.setInput(flushed, 10, flushed.length - 10);
        byte[] out = new byte[64];
        int n = inflater.inflate(out);
        inflater.end();
        assertThat(new String(out, 0, n, StandardCharsets.UTF_8)).isEqualTo("first part|");

        byte[] random = new byte[300_000]; // incompressible, larger than any one buffer zlib is given
        new Random(7).nextBytes(random);
        sent.write(take(filter.encode(new DefaultHttpContent(Unpooled.wrappedBuffer(random)), false)));
        HttpContent held = filter.flushed();
        assertThat(held).isNotNull();
        sent.write(take(held));
        assertThat(filter.flushed()).isNull(); // nothing new since
        sent.write(take(filter.encode(new DefaultHttpContent(Unpooled.copiedBuffer(PAGE, StandardCharsets.UTF_8)),
                false)));
        LastHttpContent last = new DefaultLastHttpContent(Unpooled.copiedBuffer("end", StandardCharsets.UTF_8));
        last.trailingHeaders().set("X-Trailer", "kept");
        HttpContent end = filter.encode(last, false);
        assertThat(end).isInstanceOf(LastHttpContent.class);
        assertThat(((LastHttpContent) end).trailingHeaders().get("X-Trailer")).isEqualTo("kept");
        sent.write(take(end));

        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        expected.write("first part|".getBytes(StandardCharsets.UTF_8));
        expected.write(random);
        expected.write((PAGE + "end").getBytes(StandardCharsets.UTF_8));
        assertThat(gunzip(sent.toByteArray())).isEqualTo(expected.toByteArray()); // its CRC and length checked too
    }

    @Test
    void aWholeAnswerIsCompressedInOneWithItsLength() throws Exception {
        FullHttpResponse whole = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                Unpooled.copiedBuffer(PAGE, StandardCharsets.UTF_8));
        whole.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/html").setInt(HttpHeaderNames.CONTENT_LENGTH,
                whole.content().readableBytes());
        GzipFilter filter = begin(request(HttpVersion.HTTP_1_1, "Accept-Encoding", "gzip"), whole);
        FullHttpResponse compressed = filter.encodeWhole(whole, null);
        assertThat(whole.refCnt()).isZero();
        try {
            byte[] body = ByteBufUtil.getBytes(compressed.content());
            assertThat(compressed.headers().getInt(HttpHeaderNames.CONTENT_LENGTH)).isEqualTo(body.length);
            assertThat(compressed.headers().contains(HttpHeaderNames.TRANSFER_ENCODING)).isFalse();
            assertThat(compressed.headers().get(HttpHeaderNames.CONTENT_ENCODING)).isEqualTo("gzip");
            assertThat(body.length).isLessThan(PAGE.length() / 10);
            assertThat(new String(gunzip(body), StandardCharsets.UTF_8)).isEqualTo(PAGE);
        } finally {
            compressed.release();
        }
    }

    /**
     * A whole answer whose compressed form is kept (the content cache's) goes with that form at the level asked, zlib
     * untouched; without one, the form made is handed to be kept.
     */
    @Test
    void aWholeAnswerGoesWithItsKeptCompressedForm() throws Exception {
        List<String> made = new ArrayList<>();
        byte[] first;
        Exchange.CompressedForm none = new Exchange.CompressedForm() {
            @Override
            public ByteBuf get(int level) {
                return null;
            }

            @Override
            public void made(int level, ByteBuf gzipped) {
                made.add(level + ":" + gzipped.readableBytes());
            }
        };
        FullHttpResponse compressed = whole(none);
        try {
            first = ByteBufUtil.getBytes(compressed.content());
            assertThat(made).containsExactly("1:" + first.length);
        } finally {
            compressed.release();
        }
        ByteBuf kept = Unpooled.wrappedBuffer(first);
        FullHttpResponse again = whole(new Exchange.CompressedForm() {
            @Override
            public ByteBuf get(int level) {
                return level == 1 ? kept : null;
            }

            @Override
            public void made(int level, ByteBuf gzipped) {
                made.add("again");
            }
        });
        try {
            assertThat(again.content()).isSameAs(kept);
            assertThat(again.headers().getInt(HttpHeaderNames.CONTENT_LENGTH)).isEqualTo(first.length);
            assertThat(made).hasSize(1);
            assertThat(new String(gunzip(ByteBufUtil.getBytes(again.content())), StandardCharsets.UTF_8)).isEqualTo(PAGE);
        } finally {
            again.release();
        }
    }

    /** PAGE as a whole 200, compressed by encodeWhole with {@code kept}. */
    private FullHttpResponse whole(Exchange.CompressedForm kept) {
        FullHttpResponse whole = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                Unpooled.copiedBuffer(PAGE, StandardCharsets.UTF_8));
        whole.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/html").setInt(HttpHeaderNames.CONTENT_LENGTH,
                whole.content().readableBytes());
        return begin(request(HttpVersion.HTTP_1_1, "Accept-Encoding", "gzip"), whole).encodeWhole(whole, kept);
    }

    @Test
    void aWholeAnswerBelowTheMinimumIsNotCompressedWhateverItsHeadSays() {
        FullHttpResponse whole = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                Unpooled.copiedBuffer("short", StandardCharsets.UTF_8));
        whole.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/html");
        try {
            assertThat(begin(request(HttpVersion.HTTP_1_1, "Accept-Encoding", "gzip"), whole)).isNull();
        } finally {
            whole.release();
        }
    }

    @Test
    void mediaTypeIsTheContentTypeWithoutParametersInLowerCase() {
        assertThat(GzipFilter.mediaType("Text/HTML ; charset=UTF-8")).isEqualTo("text/html");
        assertThat(GzipFilter.mediaType("application/json")).isEqualTo("application/json");
        assertThat(GzipFilter.mediaType(null)).isEmpty();
    }

    @Test
    void aBodyEndedEarlyHasItsDeflaterFreedAndWhatItTookReleased() {
        GzipFilter filter = begin(request(HttpVersion.HTTP_1_1, "Accept-Encoding", "gzip"),
                response(200, "Content-Type", "text/html"));
        ByteBuf part = Unpooled.copiedBuffer(PAGE, StandardCharsets.UTF_8);
        take(filter.encode(new DefaultHttpContent(part), false));
        assertThat(part.refCnt()).isZero();
        filter.end();
    }

    /** Cache-Control directives as nginx's gzip_proxied finds them (ngx_http_parse_multi_header_lines, 1.22). */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "no-cache                 | true",
        "NO-CACHE                 | true",
        "max-age=0, no-cache      | true",
        "max-age=0;no-cache       | true",
        "no-cache ,x              | true",
        "no-cache=\"Set-Cookie\"  | false",
        "no-cachex                | false",
        "xno-cache                | false",
        "no-cache;x               | false",
        "public, max-age=60       | false"})
    void aCacheControlDirectiveIsFoundAsNginxFindsIt(String field, boolean found) {
        assertThat(GzipFilter.hasDirective(List.of("public", field), "no-cache")).as(field).isEqualTo(found);
    }

    /**
     * gzip.disable's regexes are tried on a client's User-Agent within a budget as PCRE's match limit bounds nginx's
     * (BoundedMatch.PATH_STEPS): one that backtracks past it on a User-Agent a client made for it sends no gzip, as
     * nginx's failed match declines it (its "pcre2_match() failed: -47"), rather than hold the event loop. Two .* read
     * 600 "bot crawl " some 10^9 times to say no: edge tried them all (9 s here; nginx 1.22 held its worker 18 s).
     */
    @Test
    void aDisableRegexGivesUpWithinABudgetAndSendsNoGzip() {
        LocationSettings.GzipClients clients = new LocationSettings.GzipClients(false,
                Set.of(LocationSettings.Proxied.OFF), List.of(
                        Pattern.compile("bot.*crawl.*spider", Pattern.CASE_INSENSITIVE),
                        Pattern.compile("^curl/", Pattern.CASE_INSENSITIVE)), false);
        assertThat(GzipFilter.takesGzip(request(HttpVersion.HTTP_1_1, "Accept-Encoding", "gzip", "User-Agent",
                "bot crawl ".repeat(600)), clients)).isFalse();
        assertThat(GzipFilter.takesGzip(request(HttpVersion.HTTP_1_1, "Accept-Encoding", "gzip", "User-Agent",
                "bot crawl ".repeat(20)), clients)).as("said no within it").isTrue();
        assertThat(GzipFilter.takesGzip(request(HttpVersion.HTTP_1_1, "Accept-Encoding", "gzip", "User-Agent",
                "Bot/1 crawl spider"), clients)).isFalse();
        assertThat(GzipFilter.takesGzip(request(HttpVersion.HTTP_1_1, "Accept-Encoding", "gzip", "User-Agent",
                "CURL/8.0"), clients)).isFalse();
    }

    /** MSIE 4 to 6 without SV1, as nginx's gzip_disable msie6 tells them (each as nginx 1.22 answered). */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1)      | true",
        "Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1; SV1) | false",
        "Mozilla/4.0 (compatible; MSIE 5.5; Windows 98)          | true",
        "MSIE 4.01; Win                                          | true",
        "Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 6.0)      | false",
        "Opera/9 (MSIE 6.0; x)                                   | false",
        "msie 6.0 lowercase                                      | false",
        "MSIE 6.0                                                | true",
        "MSIE 6.                                                 | false",
        "MSIE 6.0SV1                                             | false",
        "XMSIE 5.0 abc                                           | true",
        "MSIE 10.0 abc                                           | false"})
    void msie6IsToldAsNginxTellsIt(String userAgent, boolean msie6) {
        assertThat(GzipFilter.isMsie6(userAgent)).as(userAgent).isEqualTo(msie6);
    }
}
