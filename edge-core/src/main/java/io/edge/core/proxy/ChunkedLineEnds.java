package io.edge.core.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.util.Locale;

/**
 * Ahead of a backend connection's {@link io.netty.handler.codec.http.HttpClientCodec}, for one answer: gives each line
 * of the answer's head and of its chunked body that ends with a bare LF a CR before it, as nginx's upstream parsers
 * take a bare LF wherever a line ends (RFC 9112 2.2 lets a recipient) and Netty's decoder takes one in a head but not
 * after a chunk's size or data. Never on a client's side: there a request's framing must be read as strictly as every
 * other hop reads it.
 *
 * <pre>
 *   HEAD (lines) ──empty line, a 1xx but 101──► HEAD
 *                ──empty line, chunked (HTTP/1.1, a Transfer-Encoding naming chunked: Netty's test), a body
 *                  allowed──► SIZE (a line: hex size, extensions) ──0──► TRAILERS (lines) ──empty line──► PASS
 *                                                             ──n──► DATA (n bytes as they are)
 *                                                                      ──► DATA_END (a line, empty) ──► SIZE
 *                ──empty line, otherwise (a length, read to the close, a 101, no body)──► PASS
 *   any line state ──what Netty would refuse anyway (no HTTP status line, a size not hex, a line too long,
 *                    bytes after a chunk's data)──► PASS, the bytes as they came: the codec reports the answer broken
 * </pre>
 * In PASS (and in DATA) bytes go on untouched; an answer whose lines all end with CRLF goes on as the same buffers.
 * What follows the answer's end is left for the codec (and the idle guard), as before. Holds no buffer between reads.
 */
final class ChunkedLineEnds extends ChannelInboundHandlerAdapter {

    private enum State { HEAD, SIZE, DATA, DATA_END, TRAILERS, PASS }

    /** Longer than any line Netty's decoder takes by default (a head of 8 KiB): past it, the codec's error. */
    private static final int MAX_LINE = 16 * 1024;

    private final boolean bodiless;
    private final StringBuilder line = new StringBuilder();
    private State state = State.HEAD;
    private boolean statusRead;
    private int status;
    private boolean http11;
    private boolean chunked;
    /** The head's last field was Transfer-Encoding: a line folded under it continues its value. */
    private boolean inTransferEncoding;
    private long dataLeft;
    /** The previous byte of the line being read was a CR (it may have come in the previous read). */
    private boolean afterCr;

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
        ByteBuf out = null; // made only where a CR goes in; the bytes up to copied are in it
        int copied = in.readerIndex();
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
            if (b == '\n') {
                if (!afterCr) {
                    if (out == null) {
                        out = ctx.alloc().buffer(end - copied + 16);
                    }
                    out.writeBytes(in, copied, i - copied).writeByte('\r');
                    copied = i;
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
        if (out == null) {
            ctx.fireChannelRead(in);
            return;
        }
        out.writeBytes(in, copied, end - copied);
        in.release();
        ctx.fireChannelRead(out);
    }

    /** A line ended (its content in {@link #line}, CRs left out): the state it leads to. */
    private void lineRead() {
        String text = line.toString();
        line.setLength(0);
        switch (state) {
            case HEAD -> headLine(text);
            case SIZE -> {
                long size = chunkSize(text);
                if (size < 0) {
                    state = State.PASS;
                } else if (size == 0) {
                    state = State.TRAILERS;
                } else {
                    dataLeft = size;
                    state = State.DATA;
                }
            }
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
            // "HTTP/1.1 200 OK", its parts apart by any whitespace as Netty's decoder splits them ("HTTP/1.1  200")
            String[] parts = text.strip().split("\\s+", 3);
            if (!parts[0].startsWith("HTTP/") || parts.length < 2) {
                state = State.PASS;
                return;
            }
            http11 = parts[0].equals("HTTP/1.1");
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
                chunked |= inTransferEncoding && namesChunked(text);
                return;
            }
            int colon = text.indexOf(':');
            inTransferEncoding = colon > 0 && text.substring(0, colon).strip().equalsIgnoreCase("transfer-encoding");
            chunked |= inTransferEncoding && namesChunked(text.substring(colon + 1));
            return;
        }
        if (status >= 100 && status < 200 && status != 101) {
            // an interim answer: the answer's own head follows
            statusRead = false;
            chunked = false;
            inTransferEncoding = false;
        } else if (http11 && chunked && !bodiless && status != 101 && status != 204 && status != 304) {
            state = State.SIZE;
        } else {
            state = State.PASS;
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

    /**
     * A chunk's size from its line (hex digits, as many leading zeros as it has, then extensions after ';'); -1 for
     * none, and for one of 2 GiB or more, which Netty's decoder takes for no size.
     */
    static long chunkSize(String text) {
        int semicolon = text.indexOf(';');
        String hex = (semicolon < 0 ? text : text.substring(0, semicolon)).strip();
        if (hex.isEmpty()) {
            return -1;
        }
        long size = 0;
        for (int i = 0; i < hex.length(); i++) {
            int digit = Character.digit(hex.charAt(i), 16);
            if (digit < 0) {
                return -1;
            }
            size = size << 4 | digit;
            if (size > Integer.MAX_VALUE) {
                return -1;
            }
        }
        return size;
    }
}
