package io.edge.it;

import io.edge.core.http.BackendGate;
import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.HttpResponse;

/**
 * The response cache's place in a responder (a gate's tap) with a bug of edge's own: it throws at the answer's head or
 * at its end, and leaves any failure to the responder. Responders take any gate in their constructors.
 */
final class ThrowingTap implements BackendGate.ResponseTap {

    enum At { HEAD, END }

    static final String BUG = "a bug of edge's own";

    private final At at;

    private ThrowingTap(At at) {
        this.at = at;
    }

    /** The gate that sends every request through a tap that throws {@code at}. */
    static BackendGate gate(At at) {
        return (exchange, backend) -> backend.run(exchange, exchange.request(), new ThrowingTap(at));
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
