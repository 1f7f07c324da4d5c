package io.edge.cache.http;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;

/**
 * A response from the cache, for a client: the stored head and body, and beside them what the script said to the
 * server alone and the cache kept for each use, never a field of the head.
 */
public final class CachedResponse extends DefaultFullHttpResponse {

    private final String xAccelLimitRate;
    private final HttpHeaders accelFields;
    private final boolean lengthDeclared;

    CachedResponse(HttpResponseStatus status, ByteBuf body, HttpHeaders headers, String xAccelLimitRate,
            HttpHeaders accelFields, boolean lengthDeclared) {
        super(HttpVersion.HTTP_1_1, status, body, headers, new DefaultHttpHeaders());
        this.xAccelLimitRate = xAccelLimitRate;
        this.accelFields = accelFields;
        this.lengthDeclared = lengthDeclared;
    }

    /**
     * Whether the backend declared the body's length in the head it stored the answer with ({@link
     * ResponseCache#declaresLength}); the head handed out here always has a {@code Content-Length}, of the stored body.
     * nginx's cache keeps the upstream's head as it came, and its range filter ranges a hit only where that head
     * declared a length (measured: a script's 200 without one, a whole 200 to a Range on the hit as on the miss).
     */
    public boolean lengthDeclared() {
        return lengthDeclared;
    }

    /**
     * The script's {@code X-Accel-Limit-Rate} (bytes a second; 0: none) as it came with the answer stored, or with the
     * 304 that last renewed it; null when it sent none. The server paces the answer by it, as it paced the miss.
     */
    public String xAccelLimitRate() {
        return xAccelLimitRate;
    }

    /**
     * The backend's {@code X-Accel-Expires}, {@code X-Accel-Limit-Rate} and {@code X-Accel-Buffering} lines as they came
     * with the answer stored (those of a 304 that renewed it, where it had any of a name): not in the head, as nginx
     * hides them, but for a location that passes some to its clients (proxy-pass-headers and fastcgi-pass-headers,
     * nginx's proxy_pass_header and fastcgi_pass_header, whose cache's hits carry them as the miss did). Shared: read
     * it, never change it.
     */
    public HttpHeaders accelFields() {
        return accelFields;
    }
}
