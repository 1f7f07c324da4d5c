package io.edge.core.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.conf.LocationSettings;
import io.edge.conf.VariableText;
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
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SubFilterTest {

    private static SubFilter filter(boolean once, String... pairs) {
        List<byte[]> matches = new java.util.ArrayList<>();
        List<byte[]> replacements = new java.util.ArrayList<>();
        for (int i = 0; i < pairs.length; i += 2) {
            matches.add(pairs[i].getBytes(StandardCharsets.UTF_8));
            replacements.add(pairs[i + 1].getBytes(StandardCharsets.UTF_8));
        }
        return new SubFilter(matches, replacements, once, ByteBufAllocator.DEFAULT);
    }

    /** {@code body} through {@code filter} in the parts cut at {@code cuts}, the last part last. */
    private static String run(SubFilter filter, String body, int... cuts) {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int from = 0;
        for (int i = 0; i <= cuts.length; i++) {
            int to = i < cuts.length ? cuts[i] : bytes.length;
            ByteBuf in = Unpooled.wrappedBuffer(bytes, from, to - from);
            ByteBuf filtered = filter.filter(in, i == cuts.length);
            try {
                out.writeBytes(ByteBufUtil.getBytes(filtered));
            } finally {
                filtered.release();
                in.release();
            }
            from = to;
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    /**
     * nginx 1.22's answers, side by side (sub_filter per pair, sub_filter_once as given), each checked whole, cut in
     * two at every place, and one byte at a time.
     */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        // once: each string where it is first found
        "true  | <p>Hello OLD world old aab aaab OLD</p> | old,NEW,aab,X      | <p>Hello NEW world old X aaab OLD</p>",
        // everywhere, ignoring case; "aab" found in "aaab" past the "aa" that began it
        "false | <p>Hello OLD world old aab aaab OLD</p> | old,NEW,aab,X      | <p>Hello NEW world NEW X aX NEW</p>",
        // at one place the first listed that is found there wins, not the longest
        "false | <p>Hello OLD world old aab aaab OLD</p> | old world,2,old,1  | <p>Hello 2 1 aab aaab 1</p>",
        "false | <p>Hello OLD world old aab aaab OLD</p> | old,1,old world,2  | <p>Hello 1 world 1 aab aaab 1</p>",
        // the place found first wins, though a later one began before it ends
        "false | <p>Hello OLD world old aab aaab OLD</p> | lo old,3,o OLD w,4 | <p>Hel3 world old aab aaab OLD</p>",
        // an empty replacement removes
        "false | <p>Hello OLD world old aab aaab OLD</p> | old,               | <p>Hello  world  aab aaab </p>",
        // a prefix at the very end is no match, and goes out
        "false | xx aaaa                                  | aaaab,Y            | xx aaaa",
        "false | aaaaab aaaab                             | aaaab,Y            | aY Y",
        "true  | abab ab                                  | ab,-               | -ab ab",
    })
    void replacesAsNginxWhereverTheBodyIsCut(boolean once, String body, String pairs, String expected) {
        String[] pair = pairs.split(",", -1);
        assertThat(run(filter(once, pair), body)).isEqualTo(expected);
        int length = body.getBytes(StandardCharsets.UTF_8).length;
        for (int cut = 0; cut <= length; cut++) {
            assertThat(run(filter(once, pair), body, cut)).as("cut at %d", cut).isEqualTo(expected);
        }
        int[] everyByte = new int[length];
        for (int i = 0; i < length; i++) {
            everyByte[i] = i;
        }
        assertThat(run(filter(once, pair), body, everyByte)).as("a byte at a time").isEqualTo(expected);
    }

    @Test
    void holdsBackNoMoreThanWhatMayBeginAMatch() {
        SubFilter filter = filter(false, "needle", "N");
        ByteBuf in = Unpooled.copiedBuffer("hay hay nee", StandardCharsets.US_ASCII);
        ByteBuf out = filter.filter(in, false);
        assertThat(out.toString(StandardCharsets.US_ASCII)).isEqualTo("hay hay ");
        out.release();
        in.release();
        ByteBuf rest = Unpooled.copiedBuffer("dle!", StandardCharsets.US_ASCII);
        out = filter.filter(rest, true);
        assertThat(out.toString(StandardCharsets.US_ASCII)).isEqualTo("N!");
        out.release();
        rest.release();
    }

    @Test
    void onceEveryStringUsedTheRestPassesAsItIs() {
        SubFilter filter = filter(true, "a", "b");
        ByteBuf first = Unpooled.copiedBuffer("xa", StandardCharsets.US_ASCII);
        ByteBuf out = filter.filter(first, false);
        assertThat(out.toString(StandardCharsets.US_ASCII)).isEqualTo("xb");
        out.release();
        first.release();
        ByteBuf second = Unpooled.copiedBuffer("aaa", StandardCharsets.US_ASCII);
        out = filter.filter(second, false);
        assertThat(out).isSameAs(second); // retained, not copied
        assertThat(out.toString(StandardCharsets.US_ASCII)).isEqualTo("aaa");
        out.release();
        second.release();
    }

    @Test
    void matchesAsciiCaseOnlyAndOtherBytesAsTheyAre() {
        assertThat(run(filter(false, "ÄBC", "x"), "äbc ÄbC ÄBC")).isEqualTo("äbc x x");
    }

    private static final LocationSettings.SubFilter SETTINGS = new LocationSettings.SubFilter(
            List.of(new LocationSettings.SubFilter.Replace(VariableText.of("old"), VariableText.of("new"))), true,
            Set.of("text/html"), false);

    private static HttpRequest request(HttpVersion version) {
        return new DefaultHttpRequest(version, HttpMethod.GET, "/");
    }

    private static HttpResponse fileHead(int status, String type) {
        HttpResponse response = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status));
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, type).set(HttpHeaderNames.CONTENT_LENGTH, 40)
                .set(HttpHeaderNames.ETAG, "\"6b15dfab-28\"")
                .set(HttpHeaderNames.LAST_MODIFIED, "Sun, 06 Dec 2026 22:20:27 GMT")
                .set(HttpHeaderNames.ACCEPT_RANGES, "bytes");
        return response;
    }

    private static SubFilter begin(HttpRequest request, boolean head, HttpResponse response,
            LocationSettings.SubFilter settings) {
        return SubFilter.begin(request, head, response, settings,
                text -> text.constant().getBytes(StandardCharsets.UTF_8), ByteBufAllocator.DEFAULT);
    }

    @Test
    void aFilteredHeadLosesItsLengthAndValidatorsAndGoesChunked() {
        HttpResponse response = fileHead(200, "text/html; charset=utf-8");
        assertThat(begin(request(HttpVersion.HTTP_1_1), false, response, SETTINGS)).isNotNull();
        assertThat(response.headers().names()).containsExactlyInAnyOrder("content-type", "transfer-encoding");
        assertThat(response.headers().get(HttpHeaderNames.TRANSFER_ENCODING)).isEqualTo("chunked");
    }

    @Test
    void lastModifiedKeepsItAndMakesTheEtagWeak() {
        HttpResponse response = fileHead(200, "text/html");
        LocationSettings.SubFilter keeping = new LocationSettings.SubFilter(SETTINGS.replace(), true,
                Set.of(), true);
        assertThat(begin(request(HttpVersion.HTTP_1_1), false, response, keeping)).isNotNull();
        assertThat(response.headers().get(HttpHeaderNames.ETAG)).isEqualTo("W/\"6b15dfab-28\"");
        assertThat(response.headers().get(HttpHeaderNames.LAST_MODIFIED)).isEqualTo("Sun, 06 Dec 2026 22:20:27 GMT");
        assertThat(response.headers().contains(HttpHeaderNames.CONTENT_LENGTH)).isFalse();
    }

    @Test
    void aHeadGetsItsGetsHeadAndNoFilterAnHttp10ClientNoChunks() {
        HttpResponse head = fileHead(200, "text/html");
        assertThat(begin(request(HttpVersion.HTTP_1_1), true, head, SETTINGS)).isNull();
        assertThat(head.headers().names()).containsExactly("content-type");
        HttpResponse old = fileHead(200, "text/html");
        assertThat(begin(request(HttpVersion.HTTP_1_0), false, old, SETTINGS)).isNotNull();
        assertThat(old.headers().names()).containsExactly("content-type");
    }

    @ParameterizedTest
    @CsvSource({"304, text/html", "206, text/html", "204, text/html", "200, text/css", "200, image/png"})
    void leavesAloneWhatItDoesNotFilter(int status, String type) {
        HttpResponse response = fileHead(status, type);
        assertThat(begin(request(HttpVersion.HTTP_1_1), false, response, SETTINGS)).isNull();
        assertThat(response.headers().contains(HttpHeaderNames.CONTENT_LENGTH)).isTrue();
        assertThat(response.headers().contains(HttpHeaderNames.ETAG)).isTrue();
    }

    @Test
    void leavesAloneAnEncodedOrEmptyBody() {
        HttpResponse gzip = fileHead(200, "text/html");
        gzip.headers().set(HttpHeaderNames.CONTENT_ENCODING, "gzip");
        assertThat(begin(request(HttpVersion.HTTP_1_1), false, gzip, SETTINGS)).isNull();
        FullHttpResponse empty = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        empty.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/html");
        assertThat(begin(request(HttpVersion.HTTP_1_1), false, empty, SETTINGS)).isNull();
        empty.release();
    }

    @Test
    void leavesAloneAnAnswerWhereNoMatchHasAValue() {
        // nginx 1.22.1, sub_filter $arg_m "[M]" asked with ?m=: the file's head and body as they are (its length,
        // ETag, Last-Modified, Accept-Ranges), its header filter finding no string to look for
        HttpResponse response = fileHead(200, "text/html");
        assertThat(SubFilter.begin(request(HttpVersion.HTTP_1_1), false, response, SETTINGS, text -> new byte[0],
                ByteBufAllocator.DEFAULT)).isNull();
        assertThat(response.headers().names()).containsExactlyInAnyOrder("content-type", "content-length", "etag",
                "last-modified", "accept-ranges");
    }

    @Test
    void typesNameOthersBesideTextHtml() {
        LocationSettings.SubFilter any = new LocationSettings.SubFilter(SETTINGS.replace(), true, Set.of("*"),
                false);
        assertThat(begin(request(HttpVersion.HTTP_1_1), false, fileHead(200, "image/png"), any)).isNotNull();
        LocationSettings.SubFilter css = new LocationSettings.SubFilter(SETTINGS.replace(), true,
                Set.of("text/css"), false);
        assertThat(begin(request(HttpVersion.HTTP_1_1), false, fileHead(200, "Text/CSS"), css)).isNotNull();
        assertThat(begin(request(HttpVersion.HTTP_1_1), false, fileHead(200, "text/html"), css)).isNotNull();
    }

    @Test
    void filtersAWholeAnswerAndPartsKeepingTrailers() {
        FullHttpResponse whole = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                Unpooled.copiedBuffer("an old page", StandardCharsets.US_ASCII));
        whole.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/html");
        SubFilter filter = begin(request(HttpVersion.HTTP_1_1), false, whole, SETTINGS);
        FullHttpResponse filtered = filter.filterWhole(whole);
        assertThat(whole.refCnt()).isZero();
        assertThat(filtered.content().toString(StandardCharsets.US_ASCII)).isEqualTo("an new page");
        filtered.release();

        SubFilter parts = filter(true, "old", "new");
        HttpContent first = parts.filter(new DefaultHttpContent(Unpooled.copiedBuffer("an o",
                StandardCharsets.US_ASCII)));
        assertThat(first.content().toString(StandardCharsets.US_ASCII)).isEqualTo("an ");
        first.release();
        LastHttpContent end = new DefaultLastHttpContent(Unpooled.copiedBuffer("ld page", StandardCharsets.US_ASCII));
        end.trailingHeaders().set("X-Checksum", "1");
        HttpContent last = parts.filter(end);
        assertThat(end.refCnt()).isZero();
        assertThat(last).isInstanceOf(LastHttpContent.class);
        assertThat(last.content().toString(StandardCharsets.US_ASCII)).isEqualTo("new page");
        assertThat(((LastHttpContent) last).trailingHeaders().get("X-Checksum")).isEqualTo("1");
        last.release();
    }
}
