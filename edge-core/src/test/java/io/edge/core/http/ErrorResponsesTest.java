package io.edge.core.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;

/** The error responses edge makes itself. */
class ErrorResponsesTest {

    /**
     * A 503 for a read refused for want of direct memory asked for direct memory itself: the JDK slept half a second
     * on the event loop before its OutOfMemoryError, which left the exchange unanswered and its connection open for
     * good. An error page is made on the heap.
     */
    @Test
    void anErrorPageTakesNoDirectMemory() {
        FullHttpResponse response = ErrorResponses.response(HttpResponseStatus.SERVICE_UNAVAILABLE, false, null, true);
        try {
            assertThat(response.content().isDirect()).isFalse();
            assertThat(response.content().readableBytes()).isPositive()
                    .isEqualTo(response.headers().getInt("content-length"));
            assertThat(response.headers().get("retry-after")).isNotNull();
        } finally {
            response.release();
        }
        FullHttpResponse head = ErrorResponses.response(HttpResponseStatus.NOT_FOUND, true, null, true);
        assertThat(head.content().readableBytes()).isZero();
        assertThat(head.headers().getInt("content-length")).isPositive();
        head.release();
    }

    /**
     * edge's own pages say no Cache-Control, as nginx 1.22's (its 502, 503, 504, 404: Server, Date, Content-Type,
     * Content-Length, Connection): a 5xx, 408 or 429 said no-cache.
     */
    @Test
    void anErrorPageSaysNoCacheControlAsNginxs() {
        for (HttpResponseStatus status : new HttpResponseStatus[] {HttpResponseStatus.BAD_GATEWAY,
                HttpResponseStatus.SERVICE_UNAVAILABLE, HttpResponseStatus.GATEWAY_TIMEOUT,
                HttpResponseStatus.REQUEST_TIMEOUT, HttpResponseStatus.TOO_MANY_REQUESTS, HttpResponseStatus.NOT_FOUND}) {
            FullHttpResponse response = ErrorResponses.response(status, false, null, true);
            try {
                assertThat(response.headers().names()).as(status.toString()).doesNotContain("cache-control");
                assertThat(response.headers().get("content-type")).as(status.toString()).startsWith("text/html");
            } finally {
                response.release();
            }
        }
    }

    /**
     * edge's built-in pages end as nginx's do, signed as the Server field: nginx 1.22.1's 404 ends
     * {@code <hr><center>nginx/1.22.1</center>} with server_tokens on, {@code <hr><center>nginx</center>} with off.
     */
    @Test
    void aBuiltInPageIsSignedAsServerTokensSay() {
        for (HttpResponseStatus status : new HttpResponseStatus[] {HttpResponseStatus.NOT_FOUND,
                HttpResponseStatus.MOVED_PERMANENTLY, ErrorResponses.NO_CERTIFICATE}) {
            FullHttpResponse on = ErrorResponses.response(status, false, null, true);
            FullHttpResponse off = ErrorResponses.response(status, false, null, false);
            try {
                assertThat(on.content().toString(StandardCharsets.US_ASCII)).as(status.toString())
                        .endsWith("<hr><p>edge/" + ServerField.VERSION + "</p></body></html>\n");
                assertThat(off.content().toString(StandardCharsets.US_ASCII)).as(status.toString())
                        .endsWith("<hr><p>edge</p></body></html>\n");
                assertThat(on.headers().getInt("content-length")).isEqualTo(on.content().readableBytes());
            } finally {
                on.release();
                off.release();
            }
        }
    }

    /**
     * Memory is edge's own want for now, not the backend's doing: 503 (with Retry-After) even wrapped as a backend's
     * failure would be, and no stack trace per request.
     */
    @Test
    void noMemoryIsA503WithoutAStackTrace() {
        OutOfMemoryError noMemory = new OutOfMemoryError("failed to allocate 262144 byte(s) of direct memory");
        assertThat(ErrorResponses.statusFor(noMemory)).isEqualTo(HttpResponseStatus.SERVICE_UNAVAILABLE);
        assertThat(ErrorResponses.statusFor(new CompletionException(noMemory)))
                .isEqualTo(HttpResponseStatus.SERVICE_UNAVAILABLE);
        assertThat(ErrorResponses.wantsStackTrace(noMemory)).isFalse();
    }

    /** A read not done in its time came by the hundred under a slow disk, each 500 with the same trace: none now. */
    @Test
    void aReadTimeoutIsLoggedWithoutItsStackTrace() {
        assertThat(ErrorResponses.wantsStackTrace(new TimeoutException("io_uring read of /x not done after 30000 ms")))
                .isFalse();
        assertThat(ErrorResponses.wantsStackTrace(new IllegalStateException("unforeseen"))).isTrue();
    }
}
