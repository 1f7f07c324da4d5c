package io.edge.core.fastcgi;

import io.edge.core.http.Exchange;
import io.edge.core.limit.BodyPace;
import io.netty.buffer.ByteBuf;

/**
 * Hands what a {@link ResponseSpool} holds to its client, in order, while the client takes it (and, paced, while the
 * pace allows: a piece at a time, then again once the next is due): memory chunks at once, the file's a read at a
 * time (on a spool thread, then back on the loop). Invariant: a spool that holds anything has one drain waiting (for
 * the client to take more, for a read of the file, or for the pace) once {@link #await} was called after it took
 * something. Every method runs on the client's event loop. FastCGI's answers and proxied ones share it.
 */
public final class SpoolDrain {

    /** The answer a drain writes to. */
    public interface Sink {
        /** Nothing more goes to the client: it left, or its answer ended. */
        boolean stopped();

        /** The pace of the answer's body, or null. */
        BodyPace pace();

        /** Writes {@code chunk} (the sink's from now on) to the client, unflushed; the spool may have room again. */
        void write(ByteBuf chunk);

        /** The spool is empty: the answer may end, else what was written is flushed. */
        void drained();
    }

    private final ResponseSpool spool;
    private final Exchange exchange;
    private final Sink sink;
    /** A drain waits already (for the client, a read of the file, or the pace). */
    private boolean waiting;

    public SpoolDrain(ResponseSpool spool, Exchange exchange, Sink sink) {
        this.spool = spool;
        this.exchange = exchange;
        this.sink = sink;
    }

    /** Drains once the client can take more (at once if it can), unless a drain waits already. */
    public void await() {
        if (!waiting) {
            waiting = true;
            exchange.onWritable(this::drain);
        }
    }

    private void drain() {
        waiting = false;
        if (sink.stopped()) {
            return;
        }
        while (!spool.isEmpty()) {
            if (!exchange.isWritable()) {
                exchange.flush();
                await();
                return;
            }
            BodyPace pace = sink.pace();
            if (pace != null && pace.holds(BodyPace.sent(exchange), this::drain)) {
                waiting = true; // the pace runs drain() once the next piece is due
                exchange.flush();
                return;
            }
            ByteBuf chunk = spool.poll();
            if (chunk == null) {
                waiting = true;
                exchange.flush();
                spool.readNext(read -> {
                    waiting = false;
                    toClient(read);
                    drain();
                });
                return;
            }
            toClient(chunk);
        }
        sink.drained();
    }

    /** Writes a chunk from the spool (owned by the caller until now), paced: its first piece, the rest put back. */
    private void toClient(ByteBuf chunk) {
        if (sink.stopped()) {
            chunk.release();
            return;
        }
        BodyPace pace = sink.pace();
        if (pace != null) {
            int piece = (int) pace.piece(BodyPace.sent(exchange), chunk.readableBytes());
            if (piece < chunk.readableBytes()) {
                ByteBuf rest = chunk;
                chunk = rest.readRetainedSlice(piece); // the write's; the rest is the spool's again
                spool.putBack(rest);
            }
        }
        sink.write(chunk);
    }
}
