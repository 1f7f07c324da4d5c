package io.edge.core.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TooLongHttpContentException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class StrictHttpServerCodecTest {

    /** The body limit the codec is given. */
    private long bodyLimit = Long.MAX_VALUE;

    private EmbeddedChannel channel = newChannel();

    @AfterEach
    void close() {
        channel.finishAndReleaseAll();
    }

    private EmbeddedChannel newChannel() {
        return new EmbeddedChannel(new StrictHttpServerCodec(new HttpDecoderConfig(), () -> bodyLimit));
    }

    /** Feeds {@code bytes} to a new channel, whole or one byte at a time. */
    private void feed(String bytes, boolean byteByByte) {
        channel.finishAndReleaseAll();
        channel = newChannel();
        ByteBuf all = Unpooled.copiedBuffer(bytes, StandardCharsets.ISO_8859_1);
        if (byteByByte) {
            while (all.isReadable()) {
                channel.writeInbound(all.readRetainedSlice(1));
            }
            all.release();
        } else {
            channel.writeInbound(all);
        }
    }

    /** The request heads decoded from {@code bytes}, fed whole or one byte at a time; "!" for a failed one. */
    private List<String> decode(String bytes, boolean byteByByte) {
        feed(bytes, byteByByte);
        List<String> heads = new ArrayList<>();
        for (Object decoded; (decoded = channel.readInbound()) != null; ) {
            if (decoded instanceof HttpRequest request) {
                heads.add(request.decoderResult().isSuccess()
                        ? request.method() + " " + request.uri() + " " + request.protocolVersion() : "!");
            }
            ReferenceCountUtil.release(decoded);
        }
        return heads;
    }

    /**
     * What follows a request that asks for an upgrade is held unread (a websocket frame would read as a request line
     * that starts with 0x81: a 400, the frame lost): handed on as it is when the codec leaves for a tunnel, read as
     * requests when the upgrade was answered without one.
     */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void theBytesAfterAnUpgradeRequestWaitUntilItIsAnswered(boolean byteByByte) {
        String upgrade = "GET /ws HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n";
        assertThat(decode(upgrade + "\u0081\u0085frame" + "GET /next HTTP/1.1\r\nHost: a\r\n\r\n", byteByByte))
                .containsExactly("GET /ws HTTP/1.1");
        StrictHttpServerCodec codec = channel.pipeline().get(StrictHttpServerCodec.class);
        assertThat(codec.holdsUpgrade()).isTrue();
        channel.pipeline().remove(codec);
        ByteBuf held = Unpooled.buffer();
        for (Object raw; (raw = channel.readInbound()) != null; ) {
            held.writeBytes((ByteBuf) raw);
            ReferenceCountUtil.release(raw);
        }
        assertThat(held.toString(StandardCharsets.ISO_8859_1))
                .isEqualTo("\u0081\u0085frameGET /next HTTP/1.1\r\nHost: a\r\n\r\n");
        held.release();

        // answered without an upgrade: the next request is read then
        assertThat(decode(upgrade + "GET /next HTTP/1.1\r\nHost: a\r\n\r\n", byteByByte))
                .containsExactly("GET /ws HTTP/1.1");
        channel.pipeline().get(StrictHttpServerCodec.class).readHeld();
        List<String> next = new ArrayList<>();
        for (Object decoded; (decoded = channel.readInbound()) != null; ) {
            if (decoded instanceof HttpRequest request) {
                next.add(request.uri());
            }
            ReferenceCountUtil.release(decoded);
        }
        assertThat(next).containsExactly("/next");
    }

    /**
     * A channel of {@code codec} and a handler that records what it hands on: a request's target, "end" for a request's
     * end, "fin" for the client's FIN; {@code afterFirst} runs once the first is recorded (an answer given at once).
     */
    private List<String> recording(StrictHttpServerCodec codec, Runnable afterFirst) {
        List<String> read = new ArrayList<>();
        channel.finishAndReleaseAll();
        channel = new EmbeddedChannel(codec, new io.netty.channel.ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(io.netty.channel.ChannelHandlerContext ctx, Object msg) {
                read.add(msg instanceof HttpRequest request ? request.uri() : msg instanceof LastHttpContent ? "end"
                        : msg.getClass().getSimpleName());
                ReferenceCountUtil.release(msg);
                if (read.size() == 1) {
                    afterFirst.run();
                }
            }

            @Override
            public void userEventTriggered(io.netty.channel.ChannelHandlerContext ctx, Object evt) {
                if (evt instanceof ChannelInputShutdownEvent) {
                    read.add("fin");
                }
            }
        });
        return read;
    }

    /** An upgrade answered at once, as its request is handed on (a return, a 404): the next is read after its end. */
    @Test
    void anUpgradeAnsweredAsItsRequestIsHandedOnLetsTheNextFollowInOrder() {
        StrictHttpServerCodec codec = new StrictHttpServerCodec(new HttpDecoderConfig(), () -> bodyLimit);
        List<String> read = recording(codec, () -> codec.readHeld());
        channel.writeInbound(Unpooled.copiedBuffer("GET /ws HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\n"
                + "Upgrade: websocket\r\n\r\nGET /next HTTP/1.1\r\nHost: a\r\n\r\n", StandardCharsets.ISO_8859_1));
        assertThat(read).containsExactly("/ws", "end", "/next", "end");
        assertThat(codec.holdsUpgrade()).isFalse();
    }

    /**
     * The client half-closes ({@code shutdown(SHUT_WR)}) after its pipelined requests while they are held behind one
     * that asked for an upgrade (a static file still being written to it): they are still read once that request is
     * answered, in order, and the FIN passed on then too, as the same requests are answered without the upgrade. Netty's
     * decoder, told of the FIN, released what it held: the requests were lost unanswered.
     */
    @Test
    void requestsHeldBehindAnUpgradeOutliveTheClientsFin() {
        StrictHttpServerCodec codec = new StrictHttpServerCodec(new HttpDecoderConfig(), () -> bodyLimit);
        List<String> read = recording(codec, () -> { });
        channel.writeInbound(Unpooled.copiedBuffer("GET /ws HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\n"
                + "Upgrade: websocket\r\n\r\nGET /next HTTP/1.1\r\nHost: a\r\n\r\nGET /last HTTP/1.1\r\nHost: a\r\n\r\n",
                StandardCharsets.ISO_8859_1));
        channel.pipeline().fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
        assertThat(read).containsExactly("/ws", "end", "fin");
        read.clear();
        codec.readHeld();
        assertThat(read).containsExactly("/next", "end", "/last", "end", "fin");
    }

    @Test
    void noHoldAfterARequestThatAsksNoUpgradeOrHasABody() {
        assertThat(decode("GET /a HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\n\r\n",
                false)).containsExactly("GET /a HTTP/1.1", "GET /b HTTP/1.1");
        assertThat(decode("POST /a HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: websocket\r\n"
                + "Content-Length: 1\r\n\r\nxGET /b HTTP/1.1\r\nHost: a\r\n\r\n", false))
                .containsExactly("POST /a HTTP/1.1", "GET /b HTTP/1.1");
        assertThat(decode("GET /a HTTP/1.0\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n"
                + "GET /b HTTP/1.1\r\nHost: a\r\n\r\n", false)).containsExactly("GET /a HTTP/1.0", "GET /b HTTP/1.1");
    }

    @ParameterizedTest
    @ValueSource(strings = {"GET\r/php/env.php\u000bHTTP/1.1", "GET /a.txt\f\f\fHTTP/1.1", "GET /a.txt http/1.1",
            " GET /a.txt HTTP/1.1", "\r\n GET /a.txt HTTP/1.1", "GET  /a.txt HTTP/1.1", "GET /a.txt  HTTP/1.1",
            "GET\t/a.txt HTTP/1.1", "GET /a.txt\tHTTP/1.1", "GET /a.txt Http/1.1", "GET /a.txt HTTP/1.1 ", "GET",
            "GET /a.txt", "\tGET /a.txt HTTP/1.1", "\u0000GET /a.txt HTTP/1.1", "\u000bGET /a.txt HTTP/1.1"})
    void aRequestLineNotMethodSpaceTargetSpaceVersionFails(String line) {
        String request = line + "\r\nHost: a\r\n\r\nGET /next HTTP/1.1\r\nHost: a\r\n\r\n";
        assertThat(decode(request, false)).as("whole").containsExactly("!");
        assertThat(decode(request, true)).as("byte by byte").containsExactly("!");
    }

    @ParameterizedTest
    @ValueSource(strings = {"get", "Get", "gET", "GET1", "GET.", "PO$T", "M~SEARCH", "\u00c9T\u00c9"})
    void aMethodOtherThanUpperCaseLettersUnderscoreAndHyphenFails(String method) {
        String request = method + " /a.txt HTTP/1.1\r\nHost: a\r\n\r\nGET /next HTTP/1.1\r\nHost: a\r\n\r\n";
        assertThat(decode(request, false)).as("whole").containsExactly("!");
        assertThat(decode(request, true)).as("byte by byte").containsExactly("!");
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void methodsOfUpperCaseLettersUnderscoreAndHyphenAreRead(boolean byteByByte) {
        assertThat(decode("PURGE /a HTTP/1.1\r\nHost: a\r\n\r\nM-SEARCH * HTTP/1.1\r\nHost: a\r\n\r\n"
                + "VERSION_CONTROL /b HTTP/1.1\r\nHost: a\r\n\r\n", byteByByte))
                .containsExactly("PURGE /a HTTP/1.1", "M-SEARCH * HTTP/1.1", "VERSION_CONTROL /b HTTP/1.1");
    }

    @Test
    void aFailedMethodIsNamed() {
        channel.writeInbound(Unpooled.copiedBuffer("GEt /a.txt HTTP/1.1\r\n\r\n", StandardCharsets.ISO_8859_1));
        HttpRequest decoded = channel.readInbound();
        assertThat(decoded.decoderResult().cause())
                .hasMessage("request line: method GEt (expected: A-Z, _ and - only, as nginx)");
    }

    /**
     * A first byte no method starts with (as nginx reads methods: A-Z, _ and -) fails the request as it comes, before
     * any line end: binary junk, a NUL or a lower-case word without an LF waited for the head timeout (408), and a long
     * one ran into the line limit (414); nginx answers 400 at once. Empty lines before it are skipped first (RFC 9112
     * 2.2).
     */
    @ParameterizedTest
    @ValueSource(strings = {"\u0001GET /a.txt HTTP/1.1", "\u0000\u0000\u0000\u0000", "\r\n\u0016\u0003\u0001\u00ab\u00ab",
            "\r\n\r\n GET", "get /a.txt HTTP/1.1", "1234", "{\"json\": true}"})
    void aFirstByteNoMethodStartsWithFailsAtOnce(String junk) {
        for (boolean byteByByte : new boolean[] {false, true}) {
            feed(junk, byteByByte);
            HttpRequest decoded = channel.readInbound();
            assertThat(decoded).as("byte by byte: " + byteByByte).isNotNull();
            assertThat(decoded.decoderResult().cause()).as("byte by byte: " + byteByByte)
                    .hasMessageMatching("request line: starts with 0x[0-9a-f]{2} \\(expected: the method, .*");
            ReferenceCountUtil.release(decoded);
            channel.writeInbound(Unpooled.copiedBuffer("GET /next HTTP/1.1\r\nHost: a\r\n\r\n",
                    StandardCharsets.ISO_8859_1));
            assertThat(channel.<Object>readInbound()).as("what follows is dropped").isNull();
        }
    }

    /**
     * A byte that fails its line whatever follows, in the request line or a field line, fails the head as it comes,
     * before the line's LF: such a line waited for the head timeout (408). nginx 1.22 answers these 400 at once too, but
     * for the blanks between the request line's words and the field names it ignores (a double space, {@code X@Y},
     * {@code X\x80Y}), which edge refuses whole as well, control characters in a field value, which it takes, and a
     * version of two digits after the dot ({@code HTTP/1.11}), which it reads as HTTP/1.1 and edge, as RFC 9112 2.3
     * writes a version, refuses whole too.
     */
    @ParameterizedTest
    @ValueSource(strings = {"G\u0001ET", "GxET", "GE\u0080T", "GET\u0000", "GET\t/", "GET  /", "GET /a\u0000",
            "GET /a\u0001b", "GET /a?\u007f", "GET /a\tb", "GET /a  H", "GET /a h", "GET /a HTTX", "GET /a HTTP/x",
            "GET /a HTTP/1x", "GET /a HTTP/1.x", "GET /a HTTP/1.11", "GET /a HTTP/1.1 ", "GET /a HTTP/1.1\rx",
            "GET /a HTTP/1.1\r\nX\u0001", "GET /a HTTP/1.1\r\nX Y", "GET /a HTTP/1.1\r\nX\tY",
            "GET /a HTTP/1.1\r\nX\u0080Y", "GET /a HTTP/1.1\r\nX@Y", "GET /a HTTP/1.1\r\n:", "GET /a HTTP/1.1\r\n\u0001",
            "GET /a HTTP/1.1\r\n X", "GET /a HTTP/1.1\r\nHost: a\r\n\tb", "GET /a HTTP/1.1\r\nX: a\u0000",
            "GET /a HTTP/1.1\r\nX: a\u0001", "GET /a HTTP/1.1\r\nX: \u007f", "GET /a HTTP/1.1\r\nX: a\rb",
            "GET /a HTTP/1.1\r\n\rx", "\r\nPOST /a HTTP/1.0\r\nX\u0001"})
    void aByteNoLineTakesFailsTheHeadBeforeTheLineEnds(String unfinished) {
        for (boolean byteByByte : new boolean[] {false, true}) {
            feed(unfinished, byteByByte);
            HttpRequest decoded = channel.readInbound();
            assertThat(decoded).as("byte by byte: " + byteByByte).isNotNull();
            assertThat(decoded.decoderResult().isFailure()).as("byte by byte: " + byteByByte).isTrue();
            ReferenceCountUtil.release(decoded);
            channel.writeInbound(Unpooled.copiedBuffer("\r\nHost: a\r\n\r\nGET /next HTTP/1.1\r\nHost: a\r\n\r\n",
                    StandardCharsets.ISO_8859_1));
            channel.finish(); // at the close, the head Netty's decoder was reading is not failed a second time
            assertThat(channel.<Object>readInbound()).as("what follows is dropped").isNull();
        }
    }

    /**
     * What a line may still become is waited for, fed a byte at a time: blanks and bytes above 0x7f where a head takes
     * them, an absolute-form target, a CR that may be the line's end. Only a whole head is decoded.
     */
    @ParameterizedTest
    @ValueSource(strings = {"GET http://a.test/b?c=%20\u00e9 HTTP/1.1\r\nHost: a\r\n\r\n",
            "M-SEARCH * HTTP/1.0\r\nX_Y: \u0080 b\t c \r\nX-E:\r\nX-F: \t\r\n\r\n",
            "PURGE /a HTTP/1.2\r\nHost: a\r\nA!#$%&'*+-.^_`|~0: 1\r\n\r\n"})
    void aHeadThatMayStillBeReadIsWaitedForByteByByte(String head) {
        feed(head.substring(0, head.length() - 1), true);
        assertThat(channel.<Object>readInbound()).as("before its last byte").isNull();
        channel.writeInbound(Unpooled.copiedBuffer(head.substring(head.length() - 1), StandardCharsets.ISO_8859_1));
        HttpRequest decoded = channel.readInbound();
        assertThat(decoded.decoderResult().isSuccess()).as("%s", decoded.decoderResult()).isTrue();
    }

    /**
     * A field line that a byte has made unreadable fails its head once the line is whole, also when no line comes after
     * it: Netty's decoder reads a field line only once the line after it ended, so such a head waited for the head
     * timeout (408), where nginx answers 400 at once. Fed in two parts, split anywhere, and whole; a head whose lines
     * may still be read is waited for however it is split, and read once its empty line comes.
     */
    @ParameterizedTest
    @ValueSource(strings = {"X\u0001: 1", "X Y: 1", "X : 1", "X@Y: 1", "X\u0080Y: 1", ":1", "X: a\u0000", "X: \u007f",
            "X: a\rb"})
    void aFieldLineNoHeadTakesFailsTheHeadWithNoLineAfterIt(String line) {
        for (String before : new String[] {"GET /a HTTP/1.1\r\n", "GET /a HTTP/1.1\r\nHost: a\r\n"}) {
            String head = before + line + "\r\n";
            for (int split = head.length(); split > 0; split--) {
                feedInTwo(head, split);
                HttpRequest decoded = channel.readInbound();
                assertThat(decoded).as("%s split at %d", head, split).isNotNull();
                assertThat(decoded.decoderResult().isFailure()).as("%s split at %d", head, split).isTrue();
                ReferenceCountUtil.release(decoded);
            }
            String readable = before + "X-B: \u0080 b\t c \r\nX-E:\r\nA!#$%&'*+-.^_`|~0: 1\r\n";
            for (int split = readable.length(); split > 0; split--) {
                feedInTwo(readable, split);
                assertThat(channel.<Object>readInbound()).as("%s split at %d", readable, split).isNull();
                channel.writeInbound(Unpooled.copiedBuffer("\r\n", StandardCharsets.ISO_8859_1));
                HttpRequest decoded = channel.readInbound();
                assertThat(decoded.decoderResult().isSuccess()).as("%s split at %d", readable, split).isTrue();
                assertThat(decoded.headers().get("X-E")).isEmpty();
            }
        }
    }

    /** Feeds {@code bytes} to a new channel: up to {@code split}, then the rest, if any. */
    private void feedInTwo(String bytes, int split) {
        feed(bytes.substring(0, split), false);
        if (split < bytes.length()) {
            channel.writeInbound(Unpooled.copiedBuffer(bytes.substring(split), StandardCharsets.ISO_8859_1));
        }
    }

    /**
     * A head refused before its line ended is the request of its line once that line was read, as Netty fails a
     * head with a field it cannot read: the access log shows the line, and a HEAD is answered without a body. Before
     * that, the stand-in keeps what was sent of the line.
     */
    @Test
    void aHeadRefusedBeforeItsLineEndedKeepsItsLineOrWhatCameOfIt() {
        feed("HEAD /a?b HTTP/1.1\r\nHost: a\r\nX\u0001", false);
        HttpRequest decoded = channel.readInbound();
        assertThat(decoded.method() + " " + decoded.uri()).isEqualTo("HEAD /a?b");
        assertThat(decoded.decoderResult().cause())
                .hasMessage("header: field name byte 0x01 (expected: a token, then ':' with no blank before it, RFC 9112 5.1)");
        feed("HEAD /a\u0001", true);
        StrictHttpServerCodec.UnreadRequest unread = channel.readInbound();
        assertThat(unread.sent()).isEqualTo("HEAD /a\u0001");
        assertThat(unread.method().name()).isEqualTo("HEAD");
        assertThat(unread.decoderResult().cause())
                .hasMessage("request line: request target: 0x01 (expected: none below 0x21, nor 0x7f)");
    }

    /** A line too long so far is still refused as too long (414), also when the bytes that came are all fine. */
    @Test
    void aLineOverTheLimitSoFarIsStillTooLong() {
        feed("GET /" + "a".repeat(new HttpDecoderConfig().getMaxInitialLineLength()), true);
        HttpRequest decoded = channel.readInbound();
        assertThat(decoded.decoderResult().cause()).isInstanceOf(TooLongHttpLineException.class);
    }

    @Test
    void aFailedLineSaysWhatCameBetweenItsWords() {
        channel.writeInbound(Unpooled.copiedBuffer("GET /a.txt\f\fHTTP/1.1\r\n\r\n", StandardCharsets.ISO_8859_1));
        HttpRequest decoded = channel.readInbound();
        assertThat(decoded.decoderResult().cause())
                .hasMessage("request line: after the request target: 0x0c 0x0c (expected: one 0x20)");
    }

    /**
     * Empty lines before a request are dropped however many there are, as nginx drops them (RFC 9112 2.2): Netty's
     * decoder counted them into the request line's limit (4 KiB here), and a few KiB of them were 414, URI Too Long.
     */
    @Test
    void anyNumberOfEmptyLinesBeforeARequestIsDropped() {
        assertThat(decodeAll("\r\n".repeat(50_000) + "\n\r".repeat(10_000) + "GET /a HTTP/1.1\r\nHost: a\r\n\r\n"
                + "\r\n".repeat(50_000) + "GET /b HTTP/1.1\r\nHost: a\r\n\r\n", false))
                .containsExactly("GET /a", "body 0", "GET /b", "body 0");
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void requestLinesAfterEmptyLinesAreRead(boolean byteByByte) {
        assertThat(decode("\r\n\r\nGET /a HTTP/1.1\r\nHost: a\r\n\r\n"
                + "\r\nPOST /b?x HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc"
                + "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"
                + "GET /d HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n"
                + "GET /e HTTP/1.1\r\nHost: a\r\n\r\n", byteByByte))
                .containsExactly("GET /a HTTP/1.1", "POST /b?x HTTP/1.0", "OPTIONS * HTTP/1.1", "GET /d HTTP/1.1",
                        "GET /e HTTP/1.1");
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void aSpaceBeforeAPipelinedRequestLineFailsThatRequestOnly(boolean byteByByte) {
        assertThat(decode("POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nab"
                + " GET /b HTTP/1.1\r\nHost: a\r\n\r\n", byteByByte)).containsExactly("POST /a HTTP/1.1", "!");
    }

    /**
     * A header line starting with a space or tab continues the one before (obs-fold, RFC 9112 5.2), which Netty
     * unfolds: "X-A: b" then " Transfer-Encoding: chunked" was one field X-A to edge, and a Transfer-Encoding to a
     * proxy in front that takes the line as a field of its own, each reading the body its own way. As nginx, 400.
     */
    @ParameterizedTest
    @ValueSource(strings = {"X-A: b\r\n Transfer-Encoding: chunked\r\nContent-Length: 0", "X-A: b\r\n\tc",
            " X-A: b", "X-A: b\r\n \r\nX-B: c"})
    void aFoldedHeaderLineFailsTheRequest(String fields) {
        String request = "GET /a HTTP/1.1\r\nHost: a\r\n" + fields + "\r\n\r\nGET /next HTTP/1.1\r\nHost: a\r\n\r\n";
        assertThat(decode(request, false)).as("whole").first().isEqualTo("!");
        assertThat(decode(request, true)).as("byte by byte").first().isEqualTo("!");
    }

    /**
     * Two Content-Length fields frame the body two ways (RFC 9112 6.3: an invalid Content-Length, 400). Netty refuses
     * them in HTTP/1.1 but, in HTTP/1.0, reads the first and drops the others, so "5" then "6" sent 5 bytes on to PHP
     * and the sixth began the next request, where a proxy in front that takes the last one reads it as body: a
     * desync. As nginx, the request fails, in 1.0 as in 1.1, even for equal values.
     */
    @ParameterizedTest
    @ValueSource(strings = {"HTTP/1.0\r\nContent-Length: 5\r\nContent-Length: 6",
            "HTTP/1.0\r\ncontent-length: 5\r\nX-A: b\r\nCONTENT-LENGTH: 5",
            "HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6",
            "HTTP/1.0\r\nContent-Length:5\r\nContent-Length:\t6"})
    void twoContentLengthFieldsFailTheRequest(String versionAndFields) {
        String request = "POST /a " + versionAndFields + "\r\n\r\nhelloXGET /next HTTP/1.1\r\nHost: a\r\n\r\n";
        assertThat(decode(request, false)).as("whole").first().isEqualTo("!");
        assertThat(decode(request, true)).as("byte by byte").first().isEqualTo("!");
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void oneContentLengthFieldAmongNamesLikeItIsRead(boolean byteByByte) {
        assertThat(decode("POST /a HTTP/1.0\r\nContent-Length: 2\r\nX-Content-Length: 9\r\nContent-Lengths: 9\r\n"
                + "X: Content-Length: 9\r\n\r\nabPOST /b HTTP/1.0\r\ncontent-LENGTH: 1\r\n\r\nc"
                + "GET /c HTTP/1.1\r\nHost: a\r\n\r\n", byteByByte))
                .containsExactly("POST /a HTTP/1.0", "POST /b HTTP/1.0", "GET /c HTTP/1.1");
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void spacesAndTabsInsideFieldsAndBodiesAreNoFold(boolean byteByByte) {
        assertThat(decode("POST /a HTTP/1.1\r\nHost: a\r\nX-A: b \t c\t\r\nContent-Length: 4\r\n\r\n\n \n\t"
                + "GET /b HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n\n \t\r\n0\r\n\r\n"
                + "GET /c HTTP/1.1\r\nHost: a\r\n\r\n", byteByByte))
                .containsExactly("POST /a HTTP/1.1", "GET /b HTTP/1.1", "GET /c HTTP/1.1");
    }

    /**
     * Everything decoded from {@code bytes}: "METHOD target" for a head ("!" failed), "body N" when a body ended well
     * after N bytes, "refused after N: message" for a body that failed after N bytes.
     */
    private List<String> decodeAll(String bytes, boolean byteByByte) {
        feed(bytes, byteByByte);
        List<String> decoded = new ArrayList<>();
        long body = 0;
        for (Object next; (next = channel.readInbound()) != null; ) {
            if (next instanceof HttpRequest request) {
                decoded.add(request.decoderResult().isSuccess() ? request.method() + " " + request.uri() : "!");
            }
            if (next instanceof HttpContent content) {
                body += content.content().readableBytes();
                if (content.decoderResult().isFailure()) {
                    decoded.add("refused after " + body + ": " + content.decoderResult().cause().getMessage());
                    body = 0;
                } else if (content instanceof LastHttpContent) {
                    decoded.add("body " + body);
                    body = 0;
                }
            }
            ReferenceCountUtil.release(next);
        }
        return decoded;
    }

    private static final String CHUNKED_POST = "POST /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";

    /**
     * As nginx ("client intended to send too large chunked body"): the size line of a chunk the limit has no room for
     * fails the body at once, with what came before it read; nothing after it is. Chunks were read until the bytes
     * received passed the limit.
     */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void aChunkSizeLineOverWhatTheLimitLeavesFailsTheBodyBeforeItsData(boolean byteByByte) {
        bodyLimit = 100;
        assertThat(decodeAll(CHUNKED_POST + "64\r\n" + "w".repeat(100) + "\r\n0\r\nX-Trailer: 1\r\n\r\n"
                + "POST /b HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "40\r\n" + "x".repeat(64) + "\r\n25;n=v\r\n" + "y".repeat(37)
                + "\r\n0\r\n\r\nGET /next HTTP/1.1\r\nHost: a\r\n\r\n", byteByByte))
                .containsExactly("POST /a", "body 100", "POST /b",
                        "refused after 64: chunk size: 37 after 64 bytes of body (expected: <= 100 in all)");
    }

    /**
     * The small chunks a read brought whole are handed on as one content, their bytes in order, where Netty's decoder
     * made one of each (an upload in 1-byte chunks cost some fifteen times nginx's CPU); at most
     * {@link StrictHttpServerCodec#GATHERED_MOST} bytes a content.
     */
    @Test
    void theSmallChunksOfOneReadAreHandedOnAsOneContent() {
        bodyLimit = 1 << 20;
        StringBuilder chunks = new StringBuilder();
        StringBuilder sent = new StringBuilder();
        for (int i = 0; i < 100_000; i++) {
            char c = (char) ('a' + i % 26);
            chunks.append(i % 2 == 0 ? "1\r\n" : "1;n=v\r\n").append(c).append("\r\n");
            sent.append(c);
        }
        feed(CHUNKED_POST + chunks + "0\r\n\r\n", false);
        List<Integer> pieces = new ArrayList<>();
        StringBuilder body = new StringBuilder();
        for (Object next; (next = channel.readInbound()) != null; ) {
            if (next instanceof HttpContent content) {
                pieces.add(content.content().readableBytes());
                body.append(content.content().toString(StandardCharsets.US_ASCII));
            }
            ReferenceCountUtil.release(next);
        }
        assertThat(body.toString()).isEqualTo(sent.toString());
        assertThat(pieces).containsExactly(StrictHttpServerCodec.GATHERED_MOST,
                100_000 - StrictHttpServerCodec.GATHERED_MOST, 0);
    }

    /**
     * A chunk the gathering does not take is judged as before, after the chunks gathered: one whose data is not ended
     * by CRLF fails the body (400), one the limit has no room for too (413), whole or byte by byte alike.
     */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void aChunkAfterGatheredOnesIsJudgedAsBefore(boolean byteByByte) {
        bodyLimit = 8;
        assertThat(decodeAll(CHUNKED_POST + "1\r\na\r\n".repeat(5) + "1\r\nbX\r\n0\r\n\r\n", byteByByte))
                .hasSize(2).last().asString().startsWith("refused after 6: ");
        assertThat(decodeAll(CHUNKED_POST + "1\r\na\r\n".repeat(5) + "4\r\nbbbb\r\n0\r\n\r\n", byteByByte))
                .containsExactly("POST /a", "refused after 5: chunk size: 4 after 5 bytes of body (expected: <= 8 in"
                        + " all)");
    }

    @ParameterizedTest
    @ValueSource(strings = {"65", "65;n=v", "65 ;n=v", "0000065", "7fffffffffffffff", "00007fffffffffffffff"})
    void aFirstChunkSizeLineOverTheLimitFailsTheBody(String sizeLine) {
        bodyLimit = 100;
        for (boolean byteByByte : new boolean[] {false, true}) {
            List<String> decoded = decodeAll(CHUNKED_POST + sizeLine + "\r\n" + "x".repeat(101), byteByByte);
            assertThat(decoded).hasSize(2).startsWith("POST /a");
            assertThat(decoded.get(1)).startsWith("refused after 0: chunk size: ");
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void chunksUpToTheLimitAreReadAndSoAreTheRequestsAfterThem(boolean byteByByte) {
        bodyLimit = 100;
        assertThat(decodeAll(CHUNKED_POST + "40\r\n" + "x".repeat(64) + "\r\n24 ;n=v\r\n" + "y".repeat(36)
                + "\r\n0\r\nX-Trailer: 1\r\n\r\n"
                + "POST /b HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n64\r\n" + "z".repeat(100)
                + "\r\n0\r\n\r\n"
                + "POST /c HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc"
                + "GET /d HTTP/1.1\r\nHost: a\r\n\r\n", byteByByte))
                .containsExactly("POST /a", "body 100", "POST /b", "body 100", "POST /c", "body 3", "GET /d", "body 0");
    }

    /**
     * Blanks after a chunk size, with an extension after them or not, and extensions of any content: RFC 9112 7.1.1
     * allows the blanks (BWS) before an extension, nginx takes them alone too ("5 \r\n" is 200 there, the script
     * given the 5 bytes), where Netty's decoder refused them. The chunk's data is read after the line all the same.
     */
    @ParameterizedTest
    @ValueSource(strings = {"5 ", "5\t", "5 \t ", "5;a=b", "5 ;a=b", "5\t;a", "5;a=\"b c\";d", "0000005 "})
    void aChunkSizeWithBlanksOrAnExtensionAfterItIsRead(String sizeLine) {
        for (boolean byteByByte : new boolean[] {false, true}) {
            assertThat(decodeAll(CHUNKED_POST + sizeLine + "\r\nhello\r\n3 \r\nabc\r\n0 \r\n\r\n"
                    + "GET /next HTTP/1.1\r\nHost: a\r\n\r\n", byteByByte))
                    .as(sizeLine).containsExactly("POST /a", "body 8", "GET /next", "body 0");
        }
    }

    /**
     * The fields of a trailer section are dropped, as nginx drops them: nothing of a trailer is used, FastCGI has none.
     * Netty read them as fields and refused the body for one it could not read as a field, 400.
     */
    @ParameterizedTest
    @ValueSource(strings = {"Content-Length: 9\r\nX: 1", "X-T: 1\nX-U: 2", "X-T:", "X-T: a\tb \t", "X-T: caf\u00e9"})
    void trailerFieldsAreDropped(String trailer) {
        for (boolean byteByByte : new boolean[] {false, true}) {
            assertThat(decodeAll(CHUNKED_POST + "5\r\nhello\r\n0\r\n" + trailer + "\r\n\r\n"
                    + "GET /next HTTP/1.1\r\nHost: a\r\n\r\n", byteByByte))
                    .as(trailer).containsExactly("POST /a", "body 5", "GET /next", "body 0");
        }
    }

    /**
     * A trailer line a head would not take fails the body (400), as the same line in a head fails its request: no
     * colon, a blank before it, a name that is no token, obs-fold, a control character. They were dropped unread as
     * nginx drops them, the one place edge took what it refuses in a head; a proxy in front may frame such a line
     * otherwise.
     */
    @ParameterizedTest
    @ValueSource(strings = {"nocolon", "X-T : 1", "X@T{}: 1", "X-T: 1\r\n folded", ": v", "X: a\u0000b", "X: \u007f",
            "X\u0001: 1"})
    void aTrailerLineAHeadWouldNotTakeFailsTheBody(String trailer) {
        for (boolean byteByByte : new boolean[] {false, true}) {
            List<String> decoded = decodeAll(CHUNKED_POST + "5\r\nhello\r\n0\r\n" + trailer + "\r\n\r\n"
                    + "GET /next HTTP/1.1\r\nHost: a\r\n\r\n", byteByByte);
            assertThat(decoded).as(trailer).hasSize(2).startsWith("POST /a");
            assertThat(decoded.get(1)).as(trailer).startsWith("refused after 5: trailer: ");
        }
    }

    /** A control character in a chunk size line's extension fails the body (400), as one in a head fails its request. */
    @ParameterizedTest
    @ValueSource(strings = {"5;a\u0000b\r\nhello\r\n0\r\n\r\n", "5;\u0001\u007f\r\nhello\r\n0\r\n\r\n",
            "5\r\nhello\r\n0;x=\u001b\r\n\r\n"})
    void aControlCharacterInAChunkSizeLineFailsTheBody(String chunks) {
        for (boolean byteByByte : new boolean[] {false, true}) {
            List<String> decoded = decodeAll(CHUNKED_POST + chunks + "GET /next HTTP/1.1\r\nHost: a\r\n\r\n",
                    byteByByte);
            assertThat(decoded).as(chunks).hasSize(2).startsWith("POST /a");
            assertThat(decoded.get(1)).as(chunks).contains("chunk size line: control character 0x");
        }
        assertThat(decodeAll(CHUNKED_POST + "5;a=b;c=\"d\te\"\r\nhello\r\n0\r\n\r\n", false)).as("a tab is no control")
                .containsExactly("POST /a", "body 5");
    }

    /** What a trailer section may hold is bounded as a head is, by the header block limit (8 KiB here): over it, 400. */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void aTrailerSectionOverTheHeaderBlockLimitFailsTheBody(boolean byteByByte) {
        String within = ("X-T: " + "b".repeat(3000) + "\r\n").repeat(2);
        assertThat(decodeAll(CHUNKED_POST + "5\r\nhello\r\n0\r\n" + within + "\r\n"
                + CHUNKED_POST + "5\r\nhello\r\n0\r\n" + within + "X-U: " + "b".repeat(3000), byteByByte))
                .containsExactly("POST /a", "body 5", "POST /a",
                        "refused after 5: trailer: more than 8192 bytes (expected: <= 8192, as the header block)");
    }

    /**
     * A size no 63-bit number holds is no size, malformed rather than too large: Netty refuses it (400), as nginx
     * refuses one its off_t cannot hold ("client sent invalid chunked body"). It was refused as over the limit (413).
     */
    @ParameterizedTest
    @ValueSource(strings = {"8000000000000000", "ffffffffffffffffff", "ffffffffffffffffffffffff;n=v"})
    void aChunkSizeNoLongHoldsIsMalformedNotTooLarge(String sizeLine) {
        bodyLimit = 100;
        for (boolean byteByByte : new boolean[] {false, true}) {
            channel.finishAndReleaseAll();
            feed(CHUNKED_POST + sizeLine + "\r\n" + "x".repeat(101), byteByByte);
            HttpRequest head = channel.readInbound();
            assertThat(head.decoderResult().isSuccess()).isTrue();
            LastHttpContent refused = channel.readInbound();
            assertThat(refused.decoderResult().cause()).as(sizeLine).isNotNull()
                    .isNotInstanceOf(TooLongHttpContentException.class);
            assertThat(ErrorResponses.statusForUnreadableBody(refused.decoderResult().cause()))
                    .isEqualTo(HttpResponseStatus.BAD_REQUEST);
            refused.release();
        }
    }

    /**
     * A size line is bounded as a request line is (4 KiB here, 8 KiB as edge runs by default), extensions and all,
     * however it arrives, whole or in parts: past it, 400. nginx bounds none; Node bounds extensions for the
     * same reason (CVE-2024-22019): what is held of a line is bounded.
     */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void aSizeLineIsBoundedAsARequestLineWholeOrInParts(boolean byteByByte) {
        assertThat(decodeAll(CHUNKED_POST + "5;a=" + "b".repeat(4000) + "\r\nhello\r\n0\r\n\r\n", byteByByte))
                .containsExactly("POST /a", "body 5");
        List<String> decoded = decodeAll(CHUNKED_POST + "5;a=" + "b".repeat(5000) + "\r\nhello\r\n0\r\n\r\n",
                byteByByte);
        assertThat(decoded).hasSize(2).startsWith("POST /a");
        assertThat(decoded.get(1)).startsWith("refused after 0: ");
    }

    /**
     * A CR that ends no line, in a size line's extension or digits or in a trailer line: 400 (the body fails), as
     * nginx; RFC 9112 2.2 lets a recipient refuse it, and a proxy in front may take it for a line's end.
     */
    @ParameterizedTest
    @ValueSource(strings = {"5;a\rb\r\nhello\r\n0\r\n\r\n", "5\r;a\r\nhello\r\n0\r\n\r\n",
            "5\r\nhello\r\n0;a\rb\r\n\r\n", "5\r\nhello\r\n0\r\nX: a\rb\r\n\r\n",
            "5\r\nhello\r\n0\r\nX: a\r\r\n\r\n"})
    void aBareCrInAChunkSizeLineOrATrailerFailsTheBody(String chunks) {
        for (boolean byteByByte : new boolean[] {false, true}) {
            List<String> decoded = decodeAll(CHUNKED_POST + chunks + "GET /next HTTP/1.1\r\nHost: a\r\n\r\n",
                    byteByByte);
            assertThat(decoded).as(chunks).hasSize(2).startsWith("POST /a");
            // the first size line's: nothing read; the last one's and a trailer's: the 5 bytes of the first chunk
            String expected = (chunks.startsWith("5\r\nhello") ? "refused after 5: " : "refused after 0: ")
                    + (chunks.contains("X: ") ? "trailer" : "chunk size line") + ": a CR without LF ";
            assertThat(decoded.get(1)).as(chunks).startsWith(expected);
        }
    }

    /**
     * With no limit on the body, or one above 2 GiB, a chunk of 2 GiB or more is refused as too large (413) as its
     * size line arrives: Netty's decoder holds a chunk's size in an int, and refused it as malformed (400). One just
     * under is read.
     */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void aChunkOf2GiBOrMoreIsTooLargeWhateverTheLimit(boolean byteByByte) {
        for (long limit : new long[] {Long.MAX_VALUE, 3L << 30}) {
            bodyLimit = limit;
            String[] sizes = limit == Long.MAX_VALUE
                    ? new String[] {"80000000", "bfffffff", "100000000", "7fffffffffffffff"}
                    : new String[] {"80000000", "bfffffff"}; // within the limit: what is refused is the chunk
            for (String size : sizes) {
                List<String> decoded = decodeAll(CHUNKED_POST + size + "\r\nabc", byteByByte);
                assertThat(decoded).as(limit + " " + size).containsExactly("POST /a", "refused after 0: chunk size: "
                        + Long.parseLong(size, 16) + " (expected: < 2 GiB in one chunk)");
            }
        }
        feed(CHUNKED_POST + "7fffffff\r\nabc", byteByByte);
        assertThat(channel.<HttpRequest>readInbound().decoderResult().isSuccess()).isTrue();
        int read = 0;
        for (HttpContent content; (content = channel.readInbound()) != null; content.release()) {
            assertThat(content.decoderResult().isSuccess()).isTrue();
            read += content.content().readableBytes();
        }
        assertThat(read).as("the chunk's data so far").isEqualTo(3);
    }

    /**
     * A 1.x above 1.1 is read as 1.1 (RFC 9110 2.5), as nginx: its chunked body too, which Netty's decoder took in a
     * request of HTTP/1.1 only, refusing it in 1.2 (400); and a transfer coding but chunked is 501 there too.
     */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void aChunkedBodyInAVersionAbove11IsReadAsIn11(boolean byteByByte) {
        assertThat(decodeAll("POST /a HTTP/1.2\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
                + "POST /b HTTP/1.9\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
                + "GET /c HTTP/1.1\r\nHost: a\r\n\r\n", byteByByte))
                .containsExactly("POST /a", "body 5", "POST /b", "body 3", "GET /c", "body 0");
        assertThat(decode("POST /a HTTP/1.2\r\nHost: a\r\n\r\n", byteByByte)).containsExactly("POST /a HTTP/1.1");
        feed("POST /a HTTP/1.2\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", byteByByte);
        HttpRequest refused = channel.readInbound();
        assertThat(ErrorResponses.statusForUnparsable(refused.decoderResult().cause()))
                .isEqualTo(HttpResponseStatus.NOT_IMPLEMENTED);
    }

    @ParameterizedTest
    @ValueSource(strings = {"zz", "65x", "65 x", " 65", ";n=v", "65\n", "65 \n"})
    void aChunkSizeLineThatIsNoSizeIsLeftToNettyToRefuse(String sizeLine) {
        bodyLimit = 100;
        List<String> decoded = decodeAll(CHUNKED_POST + sizeLine + "\r\n", false);
        assertThat(decoded).hasSize(2).startsWith("POST /a");
        assertThat(decoded.get(1)).startsWith("refused after 0: ").doesNotContain("chunk size: ");
    }

    @Test
    void theAnswerToAPipelinedHeadHasNoBodyAndTheAnswersAroundItHaveTheirs() {
        decode("GET /1 HTTP/1.1\r\nHost: a\r\n\r\nHEAD /2 HTTP/1.1\r\nHost: a\r\n\r\n"
                + "GET /3 HTTP/1.1\r\nHost: a\r\n\r\n", false);
        for (int i = 1; i <= 3; i++) {
            channel.writeOutbound(chunkedHead(), LastHttpContent.EMPTY_LAST_CONTENT.replace(
                    Unpooled.copiedBuffer("body" + i, StandardCharsets.US_ASCII)));
        }
        String head = "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n";
        assertThat(written()).isEqualTo(head + "5\r\nbody1\r\n0\r\n\r\n" + head + head + "5\r\nbody3\r\n0\r\n\r\n");
    }

    /**
     * A request line that cannot be read (over the line limit, spaced or versioned wrongly) still names its method, as
     * nginx reads it: the answer to such a HEAD goes without its body, as any HEAD's. Another first word keeps it.
     */
    @Test
    void theAnswerToAHeadWhoseRequestLineCannotBeReadHasNoBody() {
        String tooLong = "/" + "a".repeat(new HttpDecoderConfig().getMaxInitialLineLength());
        for (String line : List.of("HEAD " + tooLong + " HTTP/1.1", "HEAD  /a HTTP/1.1", "HEAD /a http/1.1",
                "\r\nHEAD /a", "GET " + tooLong + " HTTP/1.1", "HEADER /a http/1.1", "GET /a http/1.1")) {
            boolean head = line.strip().startsWith("HEAD ");
            for (boolean byteByByte : new boolean[] {false, true}) {
                assertThat(decode(line + "\r\nHost: a\r\n\r\n", byteByByte)).as(line).containsExactly("!");
                channel.writeOutbound(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.BAD_REQUEST,
                        Unpooled.copiedBuffer("page", StandardCharsets.US_ASCII)));
                assertThat(written()).as("%.24s, byte by byte: %s", line, byteByByte)
                        .isEqualTo("HTTP/1.1 400 Bad Request\r\n\r\n" + (head ? "" : "page"));
            }
        }
    }

    @Test
    void aContinueDoesNotTakeTheMethodOfTheRequestItAnswers() {
        decode("HEAD /1 HTTP/1.1\r\nHost: a\r\n\r\n", false);
        channel.writeOutbound(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE));
        channel.writeOutbound(chunkedHead(), LastHttpContent.EMPTY_LAST_CONTENT);
        assertThat(written()).isEqualTo("HTTP/1.1 100 Continue\r\n\r\n"
                + "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n");
    }

    private static DefaultHttpResponse chunkedHead() {
        DefaultHttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        HttpUtil.setTransferEncodingChunked(head, true);
        return head;
    }

    /** Everything the codec wrote since the last look. */
    private String written() {
        StringBuilder out = new StringBuilder();
        for (ByteBuf b; (b = channel.readOutbound()) != null; ) {
            out.append(b.toString(StandardCharsets.US_ASCII));
            b.release();
        }
        return out.toString();
    }
}
