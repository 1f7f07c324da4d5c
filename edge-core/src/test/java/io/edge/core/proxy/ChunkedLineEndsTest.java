package io.edge.core.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ChunkedLineEndsTest {

    /** What goes on for a head whose field lines pass 8 KiB as they came: a failed answer, the codec's words. */
    private static final String TOO_BIG = "[failed: HTTP header is larger than 8192 bytes.]";

    /** What the codec gets of {@code answer}, fed whole, and fed one byte at a time: the same bytes either way. */
    private static String through(boolean bodiless, String answer) {
        String whole = fed(bodiless, answer, answer.length());
        assertThat(fed(bodiless, answer, 1)).isEqualTo(whole);
        return whole;
    }

    private static String fed(boolean bodiless, String answer, int piece) {
        EmbeddedChannel channel = new EmbeddedChannel(new ChunkedLineEnds(bodiless));
        byte[] bytes = answer.getBytes(StandardCharsets.ISO_8859_1);
        for (int i = 0; i < bytes.length; i += piece) {
            channel.writeInbound(Unpooled.wrappedBuffer(bytes, i, Math.min(piece, bytes.length - i)));
        }
        return passedOn(channel);
    }

    /** What went on from {@code channel}'s handler, all of it: it holds no buffer. */
    private static String passedOn(EmbeddedChannel channel) {
        StringBuilder out = new StringBuilder();
        for (Object read; (read = channel.readInbound()) != null; ) {
            if (read instanceof HttpObject failed) {
                out.append("[failed: ").append(failed.decoderResult().cause().getMessage()).append(']');
                continue;
            }
            out.append(((ByteBuf) read).toString(StandardCharsets.ISO_8859_1));
            ((ByteBuf) read).release();
        }
        assertThat(channel.finish()).isFalse();
        return out.toString();
    }

    /**
     * What the backend connection's pipeline (this handler, then the codec as {@link ProxyResponder} sets it up) reads
     * of {@code answer} to a GET, fed whole and one byte at a time: the answer's body, or "refused" where the codec
     * fails it, or "unfinished" where it waits for more.
     */
    private static String read(String answer) {
        String whole = readIn(answer, answer.length());
        assertThat(readIn(answer, 1)).isEqualTo(whole);
        return whole;
    }

    private static String readIn(String answer, int piece) {
        EmbeddedChannel channel = new EmbeddedChannel(new ChunkedLineEnds(false),
                new HttpClientCodec(ProxyResponder.ANSWER_DECODING, false, false));
        channel.writeOutbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/"));
        for (Object sent; (sent = channel.readOutbound()) != null; ) {
            ReferenceCountUtil.release(sent);
        }
        byte[] bytes = answer.getBytes(StandardCharsets.ISO_8859_1);
        for (int i = 0; i < bytes.length; i += piece) {
            channel.writeInbound(Unpooled.wrappedBuffer(bytes, i, Math.min(piece, bytes.length - i)));
        }
        StringBuilder body = new StringBuilder();
        String outcome = "unfinished";
        for (Object read; (read = channel.readInbound()) != null; ) {
            try {
                if (((HttpObject) read).decoderResult().isFailure()) {
                    outcome = "refused";
                } else if (read instanceof HttpContent content) {
                    body.append(content.content().toString(StandardCharsets.ISO_8859_1));
                    if (read instanceof LastHttpContent && outcome.equals("unfinished")) {
                        outcome = "read";
                    }
                }
            } finally {
                ReferenceCountUtil.release(read);
            }
        }
        channel.finishAndReleaseAll();
        return outcome.equals("read") ? body.toString() : outcome;
    }

    private static final String CHUNKED = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";

    /**
     * nginx 1.22's chunked parser ends a chunk's size at a space, a tab or ';' and takes whatever follows up to the
     * line's end (CRLF or LF) for an extension; Netty's takes whitespace only before a ';' and an extension only as RFC
     * 9112 writes one. Measured behind the same raw backend, nginx read each of these whole, and refused the size that
     * starts with a space, a CR in the line not before its LF, and a size followed by anything else.
     */
    @Test
    void aChunkSizeIsReadAsNginxReadsIt() {
        for (String size : new String[] {"5 \r\n", "5\t\r\n", "5 \n", "5;x=y\r\n", "5 ;x=y\r\n", "5;x=\"a b\"\r\n",
                "5;a b=\"c\r\n", "5 garbage\n", "5;\r\n", "0005\t;\t\r\n"}) {
            assertThat(read(CHUNKED + size + "hello\r\n0 \r\n\r\n")).as(size).isEqualTo("hello");
            assertThat(read(CHUNKED + size + "hello\r\n0;last\n\r\n")).as(size).isEqualTo("hello");
        }
        for (String size : new String[] {" 5\r\n", "5;x\ry\r\n", "5\rx\r\n", "5x\r\n", "\r\n", ";x\r\n"}) {
            assertThat(read(CHUNKED + size + "hello\r\n0\r\n\r\n")).as(size).isEqualTo("refused");
        }
    }

    /**
     * nginx 1.22 reads a chunked body whatever the status line's version (measured: "HTTP/1.0 200 OK" with
     * Transfer-Encoding: chunked, with a Content-Length or Connection: keep-alive beside it, read whole) and takes
     * chunked over a Content-Length beside it (either first); it reads "http/1.1" (any case) as an HTTP/0.9 answer and
     * relays its bytes as they came, where Netty's decoder reads the version it names. Netty 4.2.18 refused all of
     * these (RFC 9112 6.1's "Transfer-Encoding only in HTTP/1.1", and a Content-Length beside it).
     */
    @Test
    void aChunkedBodyIsReadWhateverTheVersionAndOverAContentLength() {
        for (String head : new String[] {"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n",
                "HTTP/1.0 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n",
                "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n",
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n",
                "http/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"}) {
            assertThat(read(head + "\r\n5\r\nhello\r\n0\r\n\r\n")).as(head).isEqualTo("hello");
            assertThat(read(head.replace("\r\n", "\n") + "\n5\nhello\n0\n\n")).as(head).isEqualTo("hello");
        }
    }

    /**
     * nginx 1.22 reads a chunked body beside a Content-Length that is no number, beside two that differ, and under chunked
     * named twice (measured behind a raw backend: each read whole); Netty 4.2.18 refused each head. The head goes with
     * its Content-Length fields left out and one Transfer-Encoding: chunked.
     */
    @Test
    void aChunkedBodyIsReadBesideABrokenOrDoubledLengthAndUnderChunkedTwice() {
        for (String fields : new String[] {"Transfer-Encoding: chunked\r\nContent-Length: abc\r\n",
                "Content-Length: 3\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n",
                "Content-Length: 3\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n",
                "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
                "Transfer-Encoding: chunked, chunked\r\n", "Transfer-Encoding: chunked, gzip\r\n",
                "Transfer-Encoding: gzip\r\nContent-Length: -1\r\nTransfer-Encoding: chunked\r\n"}) {
            String head = "HTTP/1.1 200 OK\r\nX-A: a\r\n" + fields + "X-B: b\r\n\r\n";
            assertThat(read(head + "5\r\nhello\r\n0\r\n\r\n")).as(fields).isEqualTo("hello");
            assertThat(through(false, head + "5\r\nhello\r\n0\r\n\r\n")).as(fields).isEqualTo("HTTP/1.1 200 OK\r\n"
                    + "X-A: a\r\nTransfer-Encoding: chunked\r\nX-B: b\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
        }
    }

    /**
     * Chunked beside a Content-Length, named twice or not as the last coding, which nginx reads over, is told: the
     * framing is in doubt, the connection is closed.
     */
    @Test
    void aFramingInDoubtIsTold() {
        for (String head : new String[] {
                "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
                "HTTP/1.1 200 OK\nTransfer-Encoding: chunked\ncontent-length : 3\n\n",
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: abc\r\n\r\n",
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked,chunked\r\n\r\n",
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
                // Netty's decoder ends an answer's field name at a space or tab before the colon: a Content-Length to it
                "HTTP/1.1 200 OK\r\nContent-Length x: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
                "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n",
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: xchunked\r\n\r\n"}) {
            assertThat(framingInDoubt(head)).as(head).isTrue();
        }
        for (String head : new String[] {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n",
                "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n",
                "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length:  3 \r\n\r\n",
                "HTTP/1.1 100 Continue\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"}) {
            assertThat(framingInDoubt(head)).as(head).isFalse();
        }
    }

    /**
     * nginx 1.22 reads a body not chunked by the head's last Content-Length where that is a number (digits only, the
     * spaces around it dropped: measured behind a raw backend, "5" twice, "5" then "6", "6" then "5", "abc" then "5",
     * "  5  " and "005" each read by it); Netty 4.2.18 refused two lines, and took the last only where it was alone. The
     * head goes on with that line alone.
     */
    @Test
    void aBodyNotChunkedIsReadByItsLastContentLengthWhereThatIsANumber() {
        for (String[] lengths : new String[][] {{"5", "5"}, {"6", "5"}, {"abc", "5"}, {"-5", "5"}, {"  5  "}, {"005"}}) {
            StringBuilder head = new StringBuilder("HTTP/1.1 200 OK\r\n");
            for (String length : lengths) {
                head.append("Content-Length:").append(length).append("\r\nX-A: a\r\n");
            }
            String answer = head + "\r\nhello";
            String last = "Content-Length:" + lengths[lengths.length - 1];
            assertThat(read(answer)).as(last).isEqualTo("hello");
            assertThat(through(false, answer)).as(last).isEqualTo("HTTP/1.1 200 OK\r\n"
                    + "X-A: a\r\n".repeat(lengths.length - 1) + last + "\r\nX-A: a\r\n\r\nhello");
        }
        assertThat(read("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!")).isEqualTo("hello!");
    }

    /**
     * nginx 1.22 reads a body not chunked to the close where its last Content-Length is no number to ngx_atoof (digits
     * only: not "abc", "", "+5", "-5", "5, 5", one with a tab around it, one of 2^63 or more; measured behind a raw
     * backend, each read to the backend's close); Netty 4.2.18 refused each head but the tab's, whose 5 it read. The
     * head goes on without its Content-Length fields: the codec reads the body to the close.
     */
    @Test
    void aBodyNotChunkedIsReadToTheCloseWhereItsLastContentLengthIsNoNumber() {
        for (String length : new String[] {"abc", "", "+5", "-5", "5, 5", "5,5", "\t5", "5\t", "5 \t",
                "9223372036854775808", "99999999999999999999", "5\r\nContent-Length: abc"}) {
            String answer = "HTTP/1.1 200 OK\r\nX-A: a\r\nContent-Length: " + length + "\r\nX-B: b\r\n\r\nhello";
            assertThat(read(answer)).as(length).isEqualTo("unfinished");
            assertThat(through(false, answer)).as(length).isEqualTo("HTTP/1.1 200 OK\r\nX-A: a\r\nX-B: b\r\n\r\nhello");
            assertThat(framingInDoubt(answer)).as(length).isEqualTo(length.contains("\n"));
        }
        // the largest length nginx takes, Netty's too
        assertThat(through(false, "HTTP/1.1 200 OK\r\nContent-Length: 9223372036854775807\r\n\r\n"))
                .isEqualTo("HTTP/1.1 200 OK\r\nContent-Length: 9223372036854775807\r\n\r\n");
    }

    /**
     * nginx 1.22's proxy finds chunked anywhere in a Transfer-Encoding value, in any case (measured behind a raw
     * backend: "xchunked", "notchunked", "chunkedx", "chunked;q=1", "Chunked", "gzip, chunked", "chunked, gzip", each
     * read chunked, over a Content-Length too); Netty's decoder by a coding that is chunked, and read the rest to the
     * close. The head goes on with one Transfer-Encoding: chunked; a framing found within another word is in doubt.
     */
    @Test
    void chunkedIsFoundWithinAnyCodingAsNginxFindsIt() {
        for (String coding : new String[] {"xchunked", "notchunked", "chunkedx", "chunked;q=1", "CHUNKED", "Chunked",
                "gzip, chunked", "chunked, gzip", "x-chunked, chunked"}) {
            String answer = "HTTP/1.1 200 OK\r\nTransfer-Encoding: " + coding + "\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
            assertThat(read(answer)).as(coding).isEqualTo("hello");
            assertThat(through(false, answer)).as(coding).startsWith("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
            boolean oneCodingChunkedLast = coding.equalsIgnoreCase("chunked") || coding.endsWith(", chunked");
            assertThat(framingInDoubt(answer)).as(coding).isEqualTo(!oneCodingChunkedLast);
        }
    }

    /**
     * nginx 1.22 reads a body whose Transfer-Encoding names no chunked by its Content-Length (measured: "identity" and
     * "gzip" beside "Content-Length: 3", three bytes read), and to the close without one. The head goes on without its
     * Transfer-Encoding fields, so the codec reads it so too; a length beside a coding is a framing in doubt (RFC 9112
     * 6.3 reads such a body to the close).
     */
    @Test
    void aCodingThatIsNotChunkedLeavesTheBodyToItsLength() {
        for (String coding : new String[] {"identity", "gzip", "gzip, identity"}) {
            String answer = "HTTP/1.1 200 OK\r\nTransfer-Encoding: " + coding + "\r\nContent-Length: 3\r\n\r\nabcdef";
            assertThat(read(answer)).as(coding).isEqualTo("abc");
            assertThat(through(false, answer)).isEqualTo("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcdef");
            assertThat(framingInDoubt(answer)).as(coding).isTrue();
            String toTheClose = "HTTP/1.1 200 OK\r\nTransfer-Encoding: " + coding + "\r\n\r\nabcdef";
            assertThat(read(toTheClose)).as(coding).isEqualTo("unfinished");
        }
    }

    private static boolean framingInDoubt(String head) {
        return after(head).framingInDoubt();
    }

    /** The handler once it has read {@code answer}. */
    private static ChunkedLineEnds after(String answer) {
        ChunkedLineEnds lineEnds = new ChunkedLineEnds(false);
        EmbeddedChannel channel = new EmbeddedChannel(lineEnds);
        channel.writeInbound(Unpooled.copiedBuffer(answer, StandardCharsets.ISO_8859_1));
        channel.finishAndReleaseAll();
        return lineEnds;
    }

    /**
     * nginx 1.22's chunked parser skips the trailer section whatever its lines hold (measured: a line without a colon
     * read over, the answer whole); Netty's decoder refused that line. Trailers go to no client (nginx passes none).
     */
    @Test
    void aTrailerSectionGoesOnEmpty() {
        assertThat(through(false, CHUNKED + "5\r\nhello\r\n0\r\nno colon\r\n\tfolded\nX-T: v\r\n\r\nrest"))
                .isEqualTo(CHUNKED + "5\r\nhello\r\n0\r\n\r\nrest");
        assertThat(read(CHUNKED + "5\r\nhello\r\n0\r\nno colon\r\n\r\n")).isEqualTo("hello");
        assertThat(read(CHUNKED + "5\r\nhello\r\n0\r\nno colon\r\n")).isEqualTo("unfinished");
        assertThat(through(false, CHUNKED + "0\n\n")).isEqualTo(CHUNKED + "0\r\n\r\n");
    }

    @Test
    void aChunkedBodysBareLineFeedsGetACarriageReturnItsDataNone() {
        assertThat(through(false, "HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n"
                + "5;x=y\nhe\nlo\n3\r\nab\n\r\n0\nTrailer: t\n\nrest\n"))
                .isEqualTo("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                        + "5\r\nhe\nlo\r\n3\r\nab\n\r\n0\r\n\r\nrest\n");
    }

    @Test
    void interimAnswersAreFollowed() {
        assertThat(through(false, "HTTP/1.1 100 Continue\n\nHTTP/1.1 200 OK\nTransfer-Encoding: gzip, chunked\n\n"
                + "1\nx\n0\n\n"))
                .isEqualTo("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                        + "1\r\nx\r\n0\r\n\r\n");
    }

    /**
     * nginx 1.22 refuses a head with a folded line ("upstream sent invalid header"), a 1xx's too; the head goes on as it
     * came, with its CRs, for {@link ProxyResponder} to refuse, its body untouched whatever the fold joins.
     */
    @Test
    void aFoldedHeadIsTold() {
        String answer = "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n chunked\r\nContent-Length: 10\r\n\r\n5;ab\nhello";
        assertThat(through(false, answer)).isEqualTo(answer);
        assertThat(after(answer).refused()).isEqualTo("a folded header line");
        assertThat(through(false, "HTTP/1.1 200 OK\nX-A: a\n\tb\nTransfer-Encoding: chunked\n\n5;ab\nhello\n0\n\n"))
                .isEqualTo("HTTP/1.1 200 OK\r\nX-A: a\r\n\tb\r\nTransfer-Encoding: chunked\r\n\r\n5;ab\nhello\n0\n\n");
        assertThat(after("HTTP/1.1 103 Early Hints\r\nLink: a\r\n b\r\n\r\nHTTP/1.1 200 OK\r\n\r\n").refused())
                .isEqualTo("a folded header line");
        assertThat(after("HTTP/1.1 200 OK\r\nX-A: a b\r\n\r\n").refused()).isNull();
    }

    /**
     * nginx 1.22 takes a head line without a colon for a field with an empty value where the line holds no whitespace
     * or control character ("Foo", "Content-Length": the body then read to the close), and refuses one that does
     * ("Content-Length 5", "Foo bar", "Foo " as "upstream sent invalid header", a 502), as it refuses whitespace within
     * a name before its colon ("Foo bar: x"); it skips a line that begins "HTTP/" (IIS's status line sent twice).
     * Measured behind a raw backend. Netty's decoder refused the line without a colon, and took "Foo bar" and
     * "Foo bar: x" for a field Foo.
     */
    @Test
    void aHeadLineWithoutAColonIsAFieldWithAnEmptyValueWhereNginxTakesIt() {
        assertThat(through(false, "HTTP/1.1 200 OK\r\nFoo\r\nContent-Length: 5\r\nBar_baz\n\r\nhello"))
                .isEqualTo("HTTP/1.1 200 OK\r\nFoo:\r\nContent-Length: 5\r\nBar_baz:\r\n\r\nhello");
        assertThat(read("HTTP/1.1 200 OK\r\nFoo\r\nContent-Length: 5\r\n\r\nhello")).isEqualTo("hello");
        assertThat(read("HTTP/1.1 200 OK\r\nContent-Length\r\nConnection: close\r\n\r\nhello"))
                .isEqualTo("unfinished"); // read to the close
        assertThat(through(false, "HTTP/1.1 200 OK\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nok"))
                .isEqualTo("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        assertThat(read("HTTP/1.1 200 OK\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nok")).isEqualTo("ok");
        for (String line : new String[] {"Content-Length 5", "Foo bar", "Foo ", "Foo\tbar", "Foo bar: x"}) {
            String answer = "HTTP/1.1 200 OK\r\n" + line + "\r\nContent-Length: 2\r\n\r\nok";
            assertThat(through(false, answer)).as(line).isEqualTo(answer);
            assertThat(after(answer).refused()).as(line).isEqualTo("a header line whose name holds whitespace");
        }
        // RFC 9112 5.1 has a proxy take out whitespace before the colon, as Netty's decoder does (nginx 1.22: 502)
        assertThat(after("HTTP/1.1 200 OK\r\nFoo : x\r\nContent-Length: 2\r\n\r\nok").refused()).isNull();
    }

    /**
     * Pins a line without a colon where it meets the framing and other heads, as nginx 1.22.1 read them behind a raw
     * backend (measured): "Content-Length" alone after "Content-Length: 5" is the last one, no number, and the body is
     * read to the close (nginx: "okMORE" chunked to its client); before it, the number holds; "Transfer-Encoding" alone
     * beside a length names no chunked (nginx: 200, "ok"); in a chunked head, and in a 1xx's head (which may hold a
     * status line too), such a line is a field as in any head.
     */
    @Test
    void aLineWithoutAColonBesideTheFramingIsReadAsNginxReadsIt() {
        assertThat(read("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length\r\nConnection: close\r\n\r\nhello"))
                .isEqualTo("unfinished");
        assertThat(framingInDoubt("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length\r\n\r\n")).isTrue();
        assertThat(read("HTTP/1.1 200 OK\r\nContent-Length\r\nContent-Length: 2\r\n\r\nok")).isEqualTo("ok");
        assertThat(read("HTTP/1.1 200 OK\r\nTransfer-Encoding\r\nContent-Length: 2\r\n\r\nok")).isEqualTo("ok");
        assertThat(through(false, "HTTP/1.1 200 OK\nFoo\nTransfer-Encoding: chunked\n\n2\nok\n0\nBar\n\n"))
                .isEqualTo("HTTP/1.1 200 OK\r\nFoo:\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n");
        String interim = "HTTP/1.1 103 Early Hints\r\nFoo\r\nHTTP/1.1 103 Again\r\n\r\n";
        assertThat(through(false, interim + "HTTP/1.1 200 OK\r\nBar\r\nContent-Length: 2\r\n\r\nok"))
                .isEqualTo("HTTP/1.1 103 Early Hints\r\nFoo:\r\n\r\nHTTP/1.1 200 OK\r\nBar:\r\nContent-Length: 2\r\n\r\nok");
        assertThat(read(interim + "HTTP/1.1 200 OK\r\nBar\r\nContent-Length: 2\r\n\r\nok")).isEqualTo("ok");
    }

    /**
     * A head too long is refused as the codec would refuse it, not held without end (fed whole and in pieces of 1000
     * bytes: byte by byte takes long under paranoid leak detection): this handler fails it at 8 KiB of field lines as
     * they came, the codec's own limit left room for the colons it gives.
     */
    @Test
    void aHeadTooLongIsLeftForTheCodec() {
        String longField = "HTTP/1.1 200 OK\r\nX-Long: " + "x".repeat(20 * 1024) + "\r\n";
        String manyFields = "HTTP/1.1 200 OK\r\n" + "X-Many: 0123456789\r\n".repeat(1000);
        for (String head : new String[] {longField, manyFields}) {
            String answer = head + "Content-Length: 2\r\n\r\nok";
            assertThat(readIn(answer, answer.length())).isEqualTo("refused");
            assertThat(readIn(answer, 1000)).isEqualTo("refused");
            assertThat(fed(false, answer, 1000)).isEqualTo(TOO_BIG);
        }
    }

    /**
     * A head's field lines count as they came against the codec's 8 KiB (Netty's, each line without its line end), the
     * ones this handler leaves out too: nginx 1.22 answered a head of 260 "Content-Length: 5" lines (5 KB) 502 as
     * "upstream sent too big header" (its proxy_buffer_size, a 4 KiB page), as it did 260 other fields. Before, 550
     * such lines (10 KB) were read, made one by this handler and so under the codec's limit, where as many other fields
     * were refused.
     */
    @Test
    void aHeadsRepeatedLinesCountAgainstTheCodecsLimitAsTheyCame() {
        String line = "Content-Length: 5";
        int within = 8192 / line.length();
        assertThat(read("HTTP/1.1 200 OK\r\n" + (line + "\r\n").repeat(within) + "\r\nhello")).isEqualTo("hello");
        for (int lines : new int[] {within + 1, 550, 900}) {
            String answer = "HTTP/1.1 200 OK\r\n" + (line + "\r\n").repeat(lines) + "\r\nhello";
            assertThat(readIn(answer, answer.length())).as("%d", lines).isEqualTo("refused");
            assertThat(readIn(answer, 1000)).as("%d", lines).isEqualTo("refused");
            assertThat(fed(false, answer, 1000)).as("%d", lines).isEqualTo(TOO_BIG);
        }
        String interim = "HTTP/1.1 103 Early Hints\r\n" + "Link: </a.css>; rel=preload\r\n".repeat(200) + "\r\n";
        assertThat(read(interim + "HTTP/1.1 200 OK\r\n" + (line + "\r\n").repeat(within) + "\r\nhello"))
                .as("each head counted apart, as the codec counts it").isEqualTo("hello");
    }

    /**
     * A line without a colon counts against the 8 KiB as it came, not with the colon it is given: before, a head of
     * exactly 8 KiB of fields whose last line had none was refused by the codec, which counted the colon.
     */
    @Test
    void aLineWithoutAColonCountsAsItCame() {
        String length = "Content-Length: 2\r\n";
        String at = "HTTP/1.1 200 OK\r\n" + length + "X".repeat(8192 - length.length() + 2) + "\r\n\r\nok";
        assertThat(readIn(at, at.length())).isEqualTo("ok");
        assertThat(readIn(at, 1000)).isEqualTo("ok");
        String past = "HTTP/1.1 200 OK\r\n" + length + "X".repeat(8193 - length.length() + 2) + "\r\n\r\nok";
        assertThat(readIn(past, past.length())).isEqualTo("refused");
        assertThat(fed(false, past, 1000)).isEqualTo(TOO_BIG);
    }

    /**
     * A kept backend connection reads its next answer where this one ends: whatever the byte a read ends on (a head's
     * CR apart from its LF, an interim head's end, a trailer line), the codec gets the same bytes as from one read.
     */
    @Test
    void anAnswerSplitAtAnyByteGoesOnAsFromOneRead() {
        for (String answer : new String[] {
                "HTTP/1.1 200 OK\r\nContent-Length: 4\r\nX-A: a\r\n\r\na\nb\nHTTP/1.1 200 OK\r\n",
                "\r\nHTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\nLink: </a>\n\n"
                        + "HTTP/1.1 200 OK\nTransfer-Encoding: chunked\nContent-Length: 3\n\n5;x\nhello\n0\nX-T: v\n\nnext",
                "HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                "HTTP/1.1 304 Not Modified\r\nETag: \"a\"\r\n\r\nHTTP/1.1 200 OK\r\n\r\n",
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\n\r\n0\r\n\r\n",
                "HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\nTransfer-Encoding: chunked\r\n\r\n1\nx\n0\n\n"}) {
            for (boolean bodiless : new boolean[] {false, true}) {
                String whole = fed(bodiless, answer, answer.length());
                for (int at = 1; at < answer.length(); at++) {
                    assertThat(fedApartAt(bodiless, answer, at)).as("%s apart at %d", answer, at).isEqualTo(whole);
                }
            }
        }
    }

    /** What the codec gets of {@code answer} read in two pieces, apart at {@code at}. */
    private static String fedApartAt(boolean bodiless, String answer, int at) {
        EmbeddedChannel channel = new EmbeddedChannel(new ChunkedLineEnds(bodiless));
        byte[] bytes = answer.getBytes(StandardCharsets.ISO_8859_1);
        channel.writeInbound(Unpooled.wrappedBuffer(bytes, 0, at));
        channel.writeInbound(Unpooled.wrappedBuffer(bytes, at, bytes.length - at));
        return passedOn(channel);
    }

    /** A head at, under and over the length held (16 KiB) goes on as it came, for the codec's own limits. */
    @Test
    void aHeadAroundTheLengthHeldGoesOnAsItCame() {
        for (int length = 16 * 1024 - 4; length <= 16 * 1024 + 4; length++) {
            String start = "HTTP/1.1 200 "; // a long reason: field lines are held to 8 KiB before
            String end = "\r\nContent-Length: 2\r\n\r\nok";
            String answer = start + "x".repeat(length - start.length() - end.length() + 4) + end;
            assertThat(fed(false, answer, answer.length())).as("%d", length).isEqualTo(answer);
            assertThat(fed(false, answer, answer.length() - 5)).as("%d", length).isEqualTo(answer);
        }
    }

    /**
     * Only a head is copied: a body read with it goes on in the buffer it came in, where the head (its lines ending with
     * CRLF, no interim head before it in the read) is no longer than it came.
     */
    @Test
    void aBodyReadWithItsHeadIsNotCopied() {
        for (String head : new String[] {"HTTP/1.1 200 OK\r\nContent-Length: 4096\r\n\r\n",
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n1000\r\n"}) {
            byte[] bytes = (head + "x".repeat(4096)).getBytes(StandardCharsets.ISO_8859_1);
            EmbeddedChannel channel = new EmbeddedChannel(new ChunkedLineEnds(false));
            channel.writeInbound(Unpooled.wrappedBuffer(bytes));
            bytes[bytes.length - 1] = 'y'; // seen through the buffer that went on only if it is the one read
            ByteBuf read = channel.readInbound();
            try {
                assertThat(read.getByte(read.writerIndex() - 1)).as(head).isEqualTo((byte) 'y');
            } finally {
                read.release();
            }
            assertThat(channel.finish()).isFalse();
        }
    }

    @Test
    void aBodyNotChunkedPassesAsItCame() {
        assertThat(through(false, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\na\nb\n"))
                .isEqualTo("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\na\nb\n");
        // a HEAD's answer, a 204's and a 101's have no chunked body whatever their heads say
        assertThat(through(true, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\nx\n"))
                .endsWith("\r\n\r\n1\nx\n");
        assertThat(through(false, "HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n1\nx\n"))
                .endsWith("\r\n\r\n1\nx\n");
        assertThat(through(false, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\n\n"))
                .endsWith("\r\n\r\n\n\n");
    }

    @Test
    void whatNettyRefusesIsLeftForItToRefuse() {
        // a size that is no hex number, a CR alone in an extension, bytes after a chunk's data: as they came, from
        // there on (the extension's CR too)
        assertThat(through(false, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\nx\n"))
                .endsWith("\r\n\r\nzz\nx\n");
        assertThat(through(false, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;a\rb\nhello\n"))
                .endsWith("\r\n\r\n5\rb\nhello\n");
        assertThat(through(false, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\nxy\n0\n\n"))
                .endsWith("\r\n\r\n1\r\nxy\r\n0\n\n");
        assertThat(through(false, "garbage\nmore\n")).isEqualTo("garbage\r\nmore\n");
    }

    @Test
    void chunkSizesAreHexUpToTheirExtensions() {
        assertThat(read(CHUNKED + "1F\r\n" + "x".repeat(31) + "\r\n0\r\n\r\n")).isEqualTo("x".repeat(31));
        assertThat(read(CHUNKED + "a ; name=value\r\n0123456789\r\n0\r\n\r\n")).isEqualTo("0123456789");
        for (String size : new String[] {"+5", "", "123456789", "80000000"}) {
            assertThat(read(CHUNKED + size + "\r\nhello\r\n0\r\n\r\n")).as(size).isEqualTo("refused");
        }
    }

    /**
     * Netty's decoder takes a size of any number of digits up to 2^31 - 1 (leading zeros), and a status line whose
     * parts are apart by more than one space; so does nginx (a chunked body read whole where this handler passed
     * on, before, what followed as it came, and the codec cut the answer at its first bare LF).
     */
    @Test
    void whatNettyTakesIsFollowed() {
        assertThat(read(CHUNKED + "0000000005\r\nhello\r\n0\r\n\r\n")).isEqualTo("hello");
        assertThat(read(CHUNKED + "7fffffff\r\nabc")).isEqualTo("unfinished");
        assertThat(through(false, "HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n0000000005\nhello\n0\n\n"))
                .endsWith("\r\n\r\n0000000005\r\nhello\r\n0\r\n\r\n");
        assertThat(through(false, "HTTP/1.1  200\tOK\nTransfer-Encoding: chunked\n\n1\nx\n0\n\n"))
                .endsWith("\r\n\r\n1\r\nx\r\n0\r\n\r\n");
        assertThat(through(false, "HTTP/1.1 200\nTransfer-Encoding: chunked\n\n1\nx\n0\n\n"))
                .endsWith("\r\n\r\n1\r\nx\r\n0\r\n\r\n");
    }
}
