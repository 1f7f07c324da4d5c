package io.edge.core.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
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
 *
 * <pre>
 *   HEAD (lines) ──empty line, a 1xx but 101──► HEAD
 *                ──empty line, chunked (a Transfer-Encoding naming chunked, whatever the version: Netty's test,
 *                  its RFC 9112 checks off, and nginx's), a body allowed──► SIZE
 *                ──empty line, otherwise (a length, read to the close, a 101, no body)──► PASS
 *   SIZE (hex digits) ──line end, 0──► TRAILERS (lines) ──empty line──► PASS
 *                     ──line end, n──► DATA (n bytes as they are) ──► DATA_END (a line, empty) ──► SIZE
 *                     ──SP, HT or ';'──► EXTENSION (bytes left out) ──line end──► as SIZE's
 *   any line state ──what nginx refuses and Netty would refuse anyway (no HTTP status line, a size not hex, a
 *                    line too long, bytes after a chunk's data, a CR alone)──► PASS, the bytes as they came (in an
 *                    extension, from its CR on): the codec reports the answer broken
 * </pre>
 * In PASS (and in DATA) bytes go on untouched; an answer whose lines all end with CRLF, and whose chunks have no
 * extension, goes on as the same buffers. What follows the answer's end is left for the codec (and the idle guard), as
 * before. Holds no buffer between reads.
 */
final class ChunkedLineEnds extends ChannelInboundHandlerAdapter {

    private enum State { HEAD, SIZE, EXTENSION, DATA, DATA_END, TRAILERS, PASS }

    /** Longer than any line Netty's decoder takes by default (a head of 8 KiB): past it, the codec's error. */
    private static final int MAX_LINE = 16 * 1024;

    private final boolean bodiless;
    private final StringBuilder line = new StringBuilder();
    private State state = State.HEAD;
    private boolean statusRead;
    private int status;
    private boolean chunked;
    /** The head had a Content-Length field. */
    private boolean length;
    /**
     * The value of the Transfer-Encoding field being read, lines folded under it joined with a space as Netty's decoder
     * joins them ("gzip" folded over "chunked" is "gzip chunked": no chunked coding); null in another field.
     */
    private StringBuilder transferEncoding;
    private long dataLeft;
    /** The size of the chunk whose line is read, from its digits so far (none: -1). */
    private long size = -1;
    /** The previous byte of the line being read was a CR (it may have come in the previous read). */
    private boolean afterCr;
    /** During a read: the buffer read, and what goes on in its place where bytes go in or out (else null). */
    private ByteBuf in;
    private ByteBuf out;
    /** During a read: the index in {@link #in} up to which its bytes are in {@link #out}, or left out. */
    private int copied;

    /**
     * Whether the answer's head (once read) had a Content-Length beside a Transfer-Encoding naming chunked: the body is
     * read chunked, as nginx and RFC 9112 6.3 read it, but the backend's two framings disagree, and what follows the
     * answer is not to be trusted for the start of the next one.
     */
    boolean lengthBesideChunked() {
        return chunked && length;
    }

    /** @param bodiless the request was a HEAD: its answer has no body, whatever its head says */
    ChunkedLineEnds(boolean bodiless) {
        this.bodiless = bodiless;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (state == State.PASS || !(msg instanceof ByteBuf in)) {
            ctx.fireChannelRead(msg);
            return;
        }
        this.in = in;
        copied = in.readerIndex();
        int end = in.writerIndex();
        int i = in.readerIndex();
        while (i < end && state != State.PASS) {
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
            } else if (b == '\n') {
                if (!afterCr) {
                    crBefore(ctx, i);
                }
                afterCr = false;
                lineRead();
            } else {
                afterCr = b == '\r';
                if (!afterCr) {
                    line.append((char) (b & 0xff));
                    if (line.length() > MAX_LINE) {
                        state = State.PASS;
                    }
                }
            }
            i++;
        }
        ByteBuf changed = out;
        this.in = null;
        out = null;
        if (changed == null) {
            ctx.fireChannelRead(in);
            return;
        }
        changed.writeBytes(in, copied, end - copied);
        in.release();
        ctx.fireChannelRead(changed);
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

    /** A line ended (its content in {@link #line}, CRs left out): the state it leads to. */
    private void lineRead() {
        String text = line.toString();
        line.setLength(0);
        switch (state) {
            case HEAD -> headLine(text);
            case DATA_END -> state = text.isEmpty() ? State.SIZE : State.PASS;
            case TRAILERS -> state = text.isEmpty() ? State.PASS : State.TRAILERS;
            default -> throw new IllegalStateException(state.name());
        }
    }

    private void headLine(String text) {
        if (!statusRead) {
            if (text.isEmpty()) {
                return; // empty lines before a status line are skipped, as Netty's decoder skips them
            }
            statusRead = true;
            // "HTTP/1.1 200 OK", its parts apart by any whitespace as Netty's decoder splits them ("HTTP/1.1  200"),
            // its version in any case as Netty's reads it ("http/1.1")
            String[] parts = text.strip().split("\\s+", 3);
            if (!parts[0].regionMatches(true, 0, "HTTP/", 0, 5) || parts.length < 2) {
                state = State.PASS;
                return;
            }
            try {
                status = Integer.parseInt(parts[1]);
            } catch (NumberFormatException notStatus) {
                state = State.PASS;
            }
            return;
        }
        if (!text.isEmpty()) {
            char first = text.charAt(0);
            if (first == ' ' || first == '\t') {
                if (transferEncoding != null) {
                    transferEncoding.append(' ').append(text.trim());
                }
                return;
            }
            int colon = text.indexOf(':');
            // the name as Netty's decoder takes an answer's: up to the colon or a space or tab before it
            int nameEnd = 0;
            while (nameEnd < colon && text.charAt(nameEnd) != ' ' && text.charAt(nameEnd) != '\t') {
                nameEnd++;
            }
            String name = text.substring(0, nameEnd);
            fieldRead();
            transferEncoding = name.equalsIgnoreCase("transfer-encoding")
                    ? new StringBuilder(text.substring(colon + 1).trim()) : null;
            length |= name.equalsIgnoreCase("content-length");
            return;
        }
        fieldRead();
        if (status >= 100 && status < 200 && status != 101) {
            // an interim answer: the answer's own head follows
            statusRead = false;
            chunked = false;
            length = false;
        } else if (chunked && !bodiless && status != 101 && status != 204 && status != 304) {
            state = State.SIZE;
        } else {
            state = State.PASS;
        }
    }

    /** A field of the head was read whole, folded lines and all. */
    private void fieldRead() {
        if (transferEncoding != null) {
            chunked |= namesChunked(transferEncoding.toString());
            transferEncoding = null;
        }
    }

    /** Whether a Transfer-Encoding value names chunked among its codings, as Netty's decoder tests it. */
    private static boolean namesChunked(String value) {
        for (String coding : value.split(",")) {
            if (coding.strip().toLowerCase(Locale.ROOT).equals("chunked")) {
                return true;
            }
        }
        return false;
    }
}
