package io.edge.it;

import io.edge.core.http.BackendGate;
import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.HttpResponse;
import java.util.List;

/**
 * The response cache's place in a responder (a gate's tap) with a bug of edge's own: it throws at the answer's head or
 * at its end, and leaves any failure to the responder. Responders take any gate in their constructors.
 */
final class ThrowingTap implements BackendGate.ResponseTap {

    enum At { HEAD, BODY, END }

    static final String BUG = "a bug of edge's own";

    private final At at;
    /** Where the chunks shown to it go, each retained once more (to see whether its caller released its own hold). */
    private final List<ByteBuf> seen;

    private ThrowingTap(At at, List<ByteBuf> seen) {
        this.at = at;
        this.seen = seen;
    }

    /** The gate that sends every request through a tap that throws {@code at}. */
    static BackendGate gate(At at) {
        return gate(at, null);
    }

    /**
     * As {@link #gate(At)}, each body chunk the tap is shown put in {@code seen} retained: the caller's own hold is to
     * be let go (refCnt back to 1, the test's), whatever the tap threw; the test releases what it holds.
     */
    static BackendGate gate(At at, List<ByteBuf> seen) {
        return (exchange, backend) -> backend.run(exchange, exchange.request(), new ThrowingTap(at, seen));
    }

    @Override
    public boolean onHead(HttpResponse backendResponse) {
        if (at == At.HEAD) {
            throw new IllegalStateException(BUG);
        }
        return true;
    }

    @Override
    public void onBody(ByteBuf chunk) {
        if (seen != null) {
            seen.add(chunk.retain());
        }
        if (at == At.BODY) {
            throw new IllegalStateException(BUG);
        }
    }

    @Override
    public void onEnd() {
        if (at == At.END) {
            throw new IllegalStateException(BUG);
        }
    }

    @Override
    public boolean onError(Throwable cause) {
        return false;
    }
}
