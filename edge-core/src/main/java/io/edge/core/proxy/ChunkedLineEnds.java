package io.edge.core.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Ahead of a backend connection's {@link io.netty.handler.codec.http.HttpClientCodec}, for one answer: gives each line
 * of the answer's head and of its chunked body that ends with a bare LF a CR before it, as nginx's upstream parsers
 * take a bare LF wherever a line ends (RFC 9112 2.2 lets a recipient) and Netty's decoder takes one in a head but not
 * after a chunk's size or data; and takes out what follows a chunk's size on its line, as nginx's chunked parser ends
 * the size at a space, a tab or ';' and skips anything after it but a CR not before the LF (trailing whitespace,
 * an extension RFC 9112's grammar would refuse), where Netty's takes whitespace only before a ';' and an extension
 * only as RFC 9112 writes one. Neither passes extensions on: the client's chunks are framed anew. Never on a client's
 * side: there a request's framing must be read as strictly as every other hop reads it.
 * <p>
 * The head is held (as text, up to {@link #MAX_LINE} characters) until its empty line, and goes on whole. A head that
 * names chunked (anywhere in a Transfer-Encoding value, in any case, as nginx 1.22's proxy finds it: "xchunked" too)
 * goes with its Content-Length fields left out and its Transfer-Encoding fields made one, "chunked", as nginx 1.22 reads
 * the body chunked over a Content-Length that is no number, over two that differ, and under chunked named twice, where
 * Netty's decoder refuses each head. One that does not goes with its Transfer-Encoding fields left out and its last
 * Content-Length alone, or none where that is no number to nginx (digits only, the spaces around them dropped): nginx
 * 1.22 reads such a body by its last Content-Length over a coding and over the ones before, and to the close where
 * it is no number ("abc", "+5", "-5", "5, 5"), where Netty's decoder refuses two lines and a value not a number
 * ({@link #framingInDoubt} tells the heads whose framing says two things). A trailer section goes on
 * empty, its lines whatever they hold left out, as nginx's chunked parser skips them (and its proxy passes none) where
 * Netty's decoder refuses a line without a colon. A head line without a colon is a field with an empty value ("Foo"
 * goes on as "Foo:"), and one that begins "HTTP/" is left out (IIS's status line sent twice), as nginx 1.22 reads them,
 * where Netty's decoder refuses both; so is one whose name has a byte past ASCII, as nginx 1.22 leaves it out. A head with a folded line (obs-fold), or with whitespace or a control character
 * within a field's name (a line without a colon is all name: "Content-Length 5"; but before a colon, "Foo : x", RFC 9112
 * 5.1 has a proxy take it out, as Netty's decoder does, where nginx 1.22 refuses that too: measured), goes on as it
 * came, told by {@link #refused}: nginx 1.22 refuses it ("upstream sent invalid header"), and so does
 * {@link ProxyResponder}, where Netty's decoder would take "Foo bar" for a field Foo.
 *
 * <pre>
 *   HEAD (lines, held) ──empty line, a 1xx but 101──► HEAD
 *                ──empty line, chunked (a Transfer-Encoding holding chunked, whatever the version: nginx's test),
 *                  a body allowed, no fold──► SIZE
 *                ──empty line, otherwise (a length, read to the close, a 101, no body, a fold)──► PASS
 *   SIZE (hex digits) ──line end, 0──► TRAILERS (lines left out) ──empty line──► PASS
 *                     ──line end, n──► DATA (n bytes as they are) ──► DATA_END (a line, empty) ──► SIZE
 *                     ──SP, HT or ';'──► EXTENSION (bytes left out) ──line end──► as SIZE's
 *   any line state ──what nginx refuses and Netty would refuse anyway (no HTTP status line, a size not hex, a
 *                    line or head too long, bytes after a chunk's data, a CR alone)──► PASS, the bytes as they came
 *                    (a head's held so far with its CRs, in an extension from its CR on): the codec reports the
 *                    answer broken
 *   HEAD ──field lines past {@link #MAX_FIELDS}, counted as they came──► TOO_BIG: a failed answer in the codec's
 *                    words goes on, and every byte from then on is dropped
 * </pre>
 * In PASS (and in DATA) bytes go on untouched; a chunked body whose lines all end with CRLF, whose chunks have no
 * extension and whose trailer section is empty, goes on as the same buffers. A head no longer than it came (its lines
 * ending with CRLF, as a backend's do) is written over its own bytes in the buffer it ended in, so the body read with it
 * goes on in that buffer, not copied; a longer one goes in a new buffer, with what follows it in the read. What follows
 * the answer's end is left for the codec (and the idle guard), as before. Holds no buffer between reads.
 */
final class ChunkedLineEnds extends ChannelInboundHandlerAdapter {

    private enum State { HEAD, SIZE, EXTENSION, DATA, DATA_END, TRAILERS, PASS, TOO_BIG }

    /**
     * Longer than any line, or head, Netty's decoder takes by default (a status line of 4 KiB, fields of 8 KiB): past
     * it, the codec's error.
     */
    private static final int MAX_LINE = 16 * 1024;
    /**
     * The limit on a head's field lines (their characters, line ends aside, as Netty's decoder counts them), counted
     * here as they came: a head of many lines this handler leaves out (repeated Content-Lengths) is refused as one of
     * as many other lines is, where nginx 1.22 refuses either past its proxy_buffer_size; and a line without a colon
     * counts without the colon it is given. The codec's own limit is twice this ({@link ProxyResponder#ANSWER_DECODING}),
     * room for a colon given to every line: past this one, this handler fails the answer itself.
     */
    static final int MAX_FIELDS = 8 * 1024;
    /**
     * How a head line that nginx 1.22's proxy skips begins (its header parser meets the '/' after "HTTP", case as it is):
     * IIS may send its status line twice.
     */
    private static final String SECOND_STATUS_LINE = "HTTP/";

    private final boolean bodiless;
    private final StringBuilder line = new StringBuilder();
    private State state = State.HEAD;
    private boolean statusRead;
    private int status;
    /** The head read so far, its lines without their line ends: the status line first. */
    private final List<String> headLines = new ArrayList<>();
    private int headChars;
    /** The characters of the head's field lines so far, as they came, without their line ends. */
    private int fieldChars;
    private boolean chunked;
    /** The head had a Content-Length field. */
    private boolean length;
    /**
     * The index in {@link #headLines} of the head's last Content-Length field (none: -1), and whether the fields before
     * it gave another value.
     */
    private int lastLengthLine = -1;
    private boolean lengthsDiffer;
    /** The head had a Transfer-Encoding field. */
    private boolean codingNamed;
    /** How many times the head's Transfer-Encoding fields named chunked, and whether the last coding they name is. */
    private int chunkedNamed;
    private boolean lastCodingChunked;
    /** What nginx 1.22 refuses in a head so far (a folded line, whitespace in a name), or null. */
    private String refused;
    /** In the trailer section: a trailer line came (what follows is left out). */
    private boolean trailers;
    /** The line after a chunk's data, or a trailer line, has a byte other than CR. */
    private boolean lineHasContent;
    private long dataLeft;
    /** The size of the chunk whose line is read, from its digits so far (none: -1). */
    private long size = -1;
    /** The previous byte of the line being read was a CR (it may have come in the previous read). */
    private boolean afterCr;
    /** During a read: the buffer read, and what goes on in its place where bytes go in or out (else null). */
    private ByteBuf in;
    private ByteBuf out;
    /**
     * During a read: the index in {@link #in} up to which its bytes are in {@link #out}, or left out (with no out yet:
     * those of a head held, from the read's start).
     */
    private int copied;

    /**
     * Whether the answer's head (once read) named chunked beside a Content-Length, more than once, not as its last
     * coding, or only within another word ("xchunked"); or, not chunked, named a coding beside its length, or two
     * lengths that differ: the body is read as nginx 1.22 reads it (chunked; else by the last Content-Length), but the
     * backend's framing says two things, and what follows the answer is not to be trusted for the start of the next
     * one.
     */
    boolean framingInDoubt() {
        return chunked ? length || chunkedNamed != 1 || !lastCodingChunked : codingNamed || lengthsDiffer;
    }

    /**
     * What a head of the answer had that nginx 1.22 refuses as "upstream sent invalid header", or null for nothing: a
     * folded line (obs-fold, RFC 9112 5.2), or whitespace or a control character within a field's name.
     */
    String refused() {
        return refused;
    }

    /** @param bodiless the request was a HEAD: its answer has no body, whatever its head says */
    ChunkedLineEnds(boolean bodiless) {
        this.bodiless = bodiless;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (state == State.TOO_BIG) {
            ReferenceCountUtil.release(msg); // the answer failed: the connection is closed, nothing more read
            return;
        }
        if (state == State.PASS || !(msg instanceof ByteBuf in)) {
            ctx.fireChannelRead(msg);
            return;
        }
        this.in = in;
        copied = in.readerIndex();
        int end = in.writerIndex();
        int i = in.readerIndex();
        while (i < end && state != State.PASS && state != State.TOO_BIG) {
            if (state == State.DATA) {
                int n = (int) Math.min(dataLeft, end - i);
                i += n;
                dataLeft -= n;
                if (dataLeft == 0) {
                    state = State.DATA_END;
                }
                continue;
            }
            byte b = in.getByte(i);
            if (state == State.SIZE || state == State.EXTENSION) {
                sizeByte(ctx, i, b);
            } else if (state == State.TRAILERS) {
                trailerByte(ctx, i, b);
            } else if (state == State.HEAD) {
                headByte(ctx, i, b);
            } else if (b == '\n') { // the line after a chunk's data: empty, else what the codec refuses
                if (!afterCr) {
                    crBefore(ctx, i);
                }
                afterCr = false;
                state = lineHasContent ? State.PASS : State.SIZE;
                lineHasContent = false;
            } else {
                afterCr = b == '\r';
                lineHasContent |= !afterCr;
            }
            i++;
        }
        if (state == State.TOO_BIG) {
            copied = end; // what follows the head held is dropped with it
        }
        ByteBuf changed = out;
        this.in = null;
        out = null;
        if (changed == null) {
            changed = in.readerIndex(copied); // from the head written over its own bytes, or past a head held
        } else {
            changed.writeBytes(in, copied, end - copied);
            in.release();
        }
        if (changed.isReadable()) {
            ctx.fireChannelRead(changed);
        } else {
            changed.release(); // all of it a head still held
            if (!ctx.channel().config().isAutoRead() && state != State.TOO_BIG) {
                ctx.read();
            }
        }
        if (state == State.TOO_BIG) {
            // the codec's error, as it would give it (its own limit has room for the colons this handler gives)
            HttpResponse failed = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.BAD_GATEWAY);
            failed.setDecoderResult(DecoderResult.failure(new TooLongHttpHeaderException(
                    "HTTP header is larger than " + MAX_FIELDS + " bytes.")));
            ctx.fireChannelRead(failed);
        }
    }

    /** {@link #out}, made on the first need, with the bytes of {@link #in} up to {@code i} (but those left out). */
    private ByteBuf outUpTo(ChannelHandlerContext ctx, int i) {
        if (out == null) {
            out = ctx.alloc().buffer(in.writerIndex() - copied + 16);
        }
        out.writeBytes(in, copied, i - copied);
        copied = i;
        return out;
    }

    /** A CR goes in before the byte at {@code i}. */
    private void crBefore(ChannelHandlerContext ctx, int i) {
        outUpTo(ctx, i).writeByte('\r');
    }

    /** The byte at {@code i} is left out. */
    private void leaveOut(ChannelHandlerContext ctx, int i) {
        outUpTo(ctx, i);
        copied = i + 1;
    }

    /**
     * A byte of a chunk-size line, as nginx 1.22's chunked parser reads one: hex digits (the size), then, after a
     * space, a tab or ';', anything up to the line's end but a CR not before its LF. The codec gets the digits and a
     * CRLF; what nginx refuses goes on as it came (its CR in an extension too), for the codec to refuse.
     */
    private void sizeByte(ChannelHandlerContext ctx, int i, byte b) {
        if (state == State.EXTENSION) {
            if (afterCr && b != '\n') {
                crBefore(ctx, i); // the CR left out: "5" then a CR alone, which the codec refuses
                state = State.PASS;
            } else if (b == '\n') {
                crBefore(ctx, i);
                afterCr = false;
                sizeRead();
            } else {
                afterCr = b == '\r';
                leaveOut(ctx, i);
            }
            return;
        }
        int digit = Character.digit(b, 16);
        if (afterCr || size < 0 && digit < 0) {
            // a size line's CR before its LF, else what the codec refuses as nginx does ("5\rx", " 5", an empty line)
            afterCr = false;
            state = b == '\n' && size >= 0 ? sizeRead() : State.PASS;
        } else if (digit >= 0) {
            size = Math.max(size, 0) << 4 | digit;
            if (size > Integer.MAX_VALUE) {
                state = State.PASS; // Netty's decoder takes no size of 2 GiB or more
            }
        } else if (b == '\r') {
            afterCr = true;
        } else if (b == '\n') {
            crBefore(ctx, i);
            state = sizeRead();
        } else if (b == ' ' || b == '\t' || b == ';') {
            leaveOut(ctx, i);
            state = State.EXTENSION;
        } else {
            state = State.PASS; // "5x": refused by either
        }
    }

    /** A chunk-size line ended: its chunk's data follows, or the trailers after the last chunk. */
    private State sizeRead() {
        dataLeft = size;
        size = -1;
        state = dataLeft == 0 ? State.TRAILERS : State.DATA;
        return state;
    }

    /**
     * A byte of the trailer section, as nginx 1.22's chunked parser skips it: any line up to the empty one. An empty
     * section goes on as it came (a CR given to a bare LF); else every byte from the first trailer line's on is left
     * out, and the empty line goes as CRLF.
     */
    private void trailerByte(ChannelHandlerContext ctx, int i, byte b) {
        if (b != '\r' && b != '\n') {
            trailers = true;
            lineHasContent = true;
        }
        if (trailers) {
            leaveOut(ctx, i);
        }
        if (b != '\n') {
            afterCr = b == '\r';
            return;
        }
        if (lineHasContent) {
            lineHasContent = false;
        } else if (trailers) {
            out.writeByte('\r').writeByte('\n');
            state = State.PASS;
        } else {
            if (!afterCr) {
                crBefore(ctx, i);
            }
            state = State.PASS;
        }
        afterCr = false;
    }

    /** A byte of a head, held: lines go on at the head's end ({@link #headRead}). */
    private void headByte(ChannelHandlerContext ctx, int i, byte b) {
        if (out != null || copied != i) {
            outUpTo(ctx, i); // what goes on before it (an interim head): else the bytes held are the read's start
        }
        copied = i + 1;
        if (b == '\n') {
            afterCr = false;
            String text = line.toString();
            line.setLength(0);
            headLine(ctx, text);
        } else {
            if (afterCr) {
                line.append('\r'); // a CR alone stays in its line, for the codec to judge
            }
            afterCr = b == '\r';
            if (!afterCr) {
                line.append((char) (b & 0xff));
            }
            if (statusRead && line.length() + fieldChars > MAX_FIELDS) {
                headLines.clear();
                line.setLength(0);
                state = State.TOO_BIG;
            } else if (line.length() + headChars > MAX_LINE) {
                headLines.add(afterCr ? line + "\r" : line.toString()); // a CR last too, its LF to come
                line.setLength(0);
                passHead(ctx, false); // the line as it came so far, without a line end: the codec refuses it
            }
        }
    }

    /** A line of a head ended ({@code text}, its CR left out). */
    private void headLine(ChannelHandlerContext ctx, String text) {
        if (!statusRead) {
            if (text.isEmpty()) {
                return; // empty lines before a status line are skipped, as Netty's decoder skips them
            }
            statusRead = true;
            addHeadLine(text);
            // "HTTP/1.1 200 OK", its parts apart by any whitespace as Netty's decoder splits them ("HTTP/1.1  200"),
            // its version in any case as Netty's reads it ("http/1.1")
            String[] parts = text.strip().split("\\s+", 3);
            if (!parts[0].regionMatches(true, 0, "HTTP/", 0, 5) || parts.length < 2) {
                passHead(ctx, true);
                return;
            }
            try {
                status = Integer.parseInt(parts[1]);
            } catch (NumberFormatException notStatus) {
                passHead(ctx, true);
            }
            return;
        }
        if (!text.isEmpty()) {
            addHeadLine(text);
            fieldChars += text.length();
            char first = text.charAt(0);
            if (first == ' ' || first == '\t') {
                refused = "a folded header line";
                return;
            }
            if (text.startsWith(SECOND_STATUS_LINE)) {
                return;
            }
            if (refused == null && !isName(text)) {
                refused = "a header line whose name holds whitespace";
            }
            String name = fieldName(text);
            if (name.equalsIgnoreCase("transfer-encoding")) {
                codingsRead(text.substring(text.indexOf(':') + 1));
            } else if (name.equalsIgnoreCase("content-length")) {
                if (length && !lengthValue(headLines.get(lastLengthLine)).equals(lengthValue(text))) {
                    lengthsDiffer = true;
                }
                length = true;
                lastLengthLine = headLines.size() - 1;
            }
            return;
        }
        headRead(ctx);
    }

    private void addHeadLine(String text) {
        headLines.add(text);
        headChars += text.length() + 2;
    }

    /** The head's empty line came: the head goes on, and the state it leads to is taken. */
    private void headRead(ChannelHandlerContext ctx) {
        boolean interim = status >= 100 && status < 200 && status != 101;
        StringBuilder head = new StringBuilder(headChars + 2);
        boolean codingWritten = false;
        boolean lengthKept = lastLengthLine >= 0 && isLength(lengthValue(headLines.get(lastLengthLine)));
        for (int i = 0; i < headLines.size(); i++) {
            String text = headLines.get(i);
            if (i > 0 && refused == null) {
                // as nginx 1.22 reads the head: chunked over any Content-Length, its Transfer-Encoding fields one;
                // else the last Content-Length, if a number, and no coding; a line without a colon a field, a second
                // status line none
                if (text.startsWith(SECOND_STATUS_LINE)) {
                    continue;
                }
                String name = fieldName(text);
                if (name.chars().anyMatch(c -> c >= 0x80)) {
                    continue; // nginx 1.22 leaves such a line out, saying nothing (measured: "Fo\xe9o: v")
                }
                if (name.equalsIgnoreCase("content-length") && (chunked || i != lastLengthLine || !lengthKept)) {
                    continue;
                }
                if (name.equalsIgnoreCase("transfer-encoding")) {
                    if (chunked && !codingWritten) {
                        head.append("Transfer-Encoding: chunked\r\n");
                        codingWritten = true;
                    }
                    continue;
                }
                if (text.indexOf(':') < 0) {
                    text += ":";
                }
            }
            head.append(text).append("\r\n");
        }
        writeHead(ctx, head.append("\r\n"));
        headLines.clear();
        headChars = 0;
        fieldChars = 0;
        if (interim) {
            // an interim answer: the answer's own head follows
            statusRead = false;
            chunked = false;
            length = false;
            lastLengthLine = -1;
            lengthsDiffer = false;
            codingNamed = false;
            chunkedNamed = 0;
        } else if (chunked && refused == null && !bodiless && status != 101 && status != 204 && status != 304) {
            state = State.SIZE;
        } else {
            state = State.PASS;
        }
    }

    /**
     * The head goes on as it was read, with CRLF line ends (but its last line's where it has not ended), and what
     * follows as it comes: the codec judges it.
     */
    private void passHead(ChannelHandlerContext ctx, boolean lastLineEnded) {
        StringBuilder head = new StringBuilder(headChars);
        for (int i = 0; i < headLines.size(); i++) {
            head.append(headLines.get(i)).append(i < headLines.size() - 1 || lastLineEnded ? "\r\n" : "");
        }
        writeHead(ctx, head);
        headLines.clear();
        state = State.PASS;
    }

    /**
     * A head held goes on: over its own bytes where they are all of this read so far and it is no longer (the read's
     * buffer is this handler's alone, and what follows the head goes on in it), else in {@link #out}.
     */
    private void writeHead(ChannelHandlerContext ctx, CharSequence head) {
        int start = copied - head.length();
        if (out == null && start >= in.readerIndex() && !in.isReadOnly() && in.refCnt() == 1) {
            in.setCharSequence(start, head, StandardCharsets.ISO_8859_1);
            copied = start;
        } else {
            outUpTo(ctx, copied).writeCharSequence(head, StandardCharsets.ISO_8859_1);
        }
    }

    /**
     * Whether a field line's name holds no whitespace or control character, as nginx 1.22's header parser wants it: the
     * whole line where it has no colon, else what comes before its colon but the spaces and tabs just before it.
     */
    private static boolean isName(String text) {
        int colon = text.indexOf(':');
        int end = colon < 0 ? text.length() : colon;
        if (colon >= 0) {
            while (end > 0 && (text.charAt(end - 1) == ' ' || text.charAt(end - 1) == '\t')) {
                end--;
            }
        }
        for (int i = 0; i < end; i++) {
            char c = text.charAt(i);
            if (c <= 0x20 || c == 0x7f) {
                return false;
            }
        }
        return true;
    }

    /**
     * A field's name as Netty's decoder takes an answer's: up to the colon or a space or tab before it (the whole line
     * where it has no colon).
     */
    private static String fieldName(String text) {
        int colon = text.indexOf(':');
        if (colon < 0) {
            colon = text.length();
        }
        int nameEnd = 0;
        while (nameEnd < colon && text.charAt(nameEnd) != ' ' && text.charAt(nameEnd) != '\t') {
            nameEnd++;
        }
        return text.substring(0, nameEnd);
    }

    /**
     * A Transfer-Encoding field's value: chunked wherever it holds the word, in any case, as nginx 1.22's proxy finds it
     * ("xchunked", "chunked;q=1" too: measured, read chunked); and how many of its codings are chunked, as Netty's
     * decoder tests them, and whether the last one is.
     */
    private void codingsRead(String value) {
        codingNamed = true;
        String codings = value.toLowerCase(Locale.ROOT);
        chunked |= codings.contains("chunked");
        for (String coding : codings.split(",")) {
            lastCodingChunked = coding.strip().equals("chunked");
            if (lastCodingChunked) {
                chunkedNamed++;
            }
        }
    }

    /**
     * A Content-Length field's value, as nginx 1.22 reads it: without the spaces around it (but not a tab); empty for a
     * line without a colon.
     */
    private static String lengthValue(String text) {
        String value = text.indexOf(':') < 0 ? "" : text.substring(text.indexOf(':') + 1);
        int start = 0;
        int end = value.length();
        while (start < end && value.charAt(start) == ' ') {
            start++;
        }
        while (end > start && value.charAt(end - 1) == ' ') {
            end--;
        }
        return value.substring(start, end);
    }

    /**
     * Whether a Content-Length value is a length to nginx 1.22 (its ngx_atoof): digits only, below 2^63. Else it reads
     * the body to the close ("abc", "+5", "-5", "5, 5", "", "\t5", a number too big: measured).
     */
    private static boolean isLength(String value) {
        if (value.isEmpty() || value.chars().anyMatch(c -> c < '0' || c > '9')) {
            return false;
        }
        try {
            Long.parseLong(value);
            return true;
        } catch (NumberFormatException tooBig) {
            return false;
        }
    }
}
