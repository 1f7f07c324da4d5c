package io.edge.core.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.conf.EdgeSettings;
import io.edge.core.route.Router;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The connection handler on an {@link EmbeddedChannel}, for states a real socket makes hard to hold still. */
class HttpConnectionHandlerTest {

    @TempDir
    Path root;

    EmbeddedChannel client;

    EmbeddedChannel open(Responder responder) {
        EdgeSettings settings = TestServers.settings(
                TestServers.server(TestServers.limits(), TestServers.timeouts(Duration.ofSeconds(10)), 10), root);
        HttpServerContext context = new HttpServerContext(new Router(settings.sites(), settings.defaultSite()),
                location -> responder, settings.server(), new AccessLog(false),
                new DefaultChannelGroup(GlobalEventExecutor.INSTANCE));
        client = new EmbeddedChannel(new HttpChannelInitializer(context));
        return client;
    }

    @AfterEach
    void close() {
        if (client != null) {
            client.finishAndReleaseAll();
        }
    }

    @Test
    void answerBeforeTheBodyEndedWhileReadingWasPausedResumesReading() {
        // As a FastCGI backend that answers while its socket refused more body: the responder had paused
        // the client's reading, and the exchange ends before the rest of the body was read.
        open(exchange -> exchange.readBody(content -> {
            content.release();
            exchange.clientChannel().config().setAutoRead(false);
            DefaultFullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
            response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, 0);
            exchange.complete(exchange.writeAndFlush(response));
        }));
        String response = EmbeddedClient.send(client, "POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n01234");
        assertThat(response).startsWith("HTTP/1.1 200 ").doesNotContainIgnoringCase("connection: close");
        assertThat(client.isActive()).isTrue();
        assertThat(client.config().isAutoRead()).as("the rest of the body and the next request are read").isTrue();
    }

    @Test
    void bodySilentForTheBodyTimeoutIs408AndTheResponderIsTold() {
        boolean[] incomplete = {false};
        open(exchange -> exchange.readBody(content -> content.release(), () -> incomplete[0] = true));
        client.freezeTime();
        assertThat(EmbeddedClient.send(client, "POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n01234"))
                .isEmpty();
        client.advanceTimeBy(59, TimeUnit.SECONDS);
        client.runScheduledPendingTasks();
        assertThat(incomplete[0]).isFalse();
        client.advanceTimeBy(1, TimeUnit.SECONDS);
        client.runScheduledPendingTasks();
        assertThat(EmbeddedClient.received(client)).startsWith("HTTP/1.1 408 ");
        assertThat(client.isActive()).isFalse();
        assertThat(incomplete[0]).as("the responder lets its backend go").isTrue();
    }

    @Test
    void bodySilentAfterTheResponseHeadClosesTheConnection() {
        boolean[] incomplete = {false};
        open(exchange -> {
            DefaultHttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
            HttpUtil.setTransferEncodingChunked(head, true);
            exchange.writeAndFlush(head);
            exchange.readBody(content -> content.release(), () -> incomplete[0] = true);
        });
        client.freezeTime();
        assertThat(EmbeddedClient.send(client, "POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n01234"))
                .startsWith("HTTP/1.1 200 ");
        client.advanceTimeBy(60, TimeUnit.SECONDS);
        client.runScheduledPendingTasks();
        assertThat(EmbeddedClient.received(client)).isEmpty();
        assertThat(client.isActive()).isFalse();
        assertThat(incomplete[0]).isTrue();
    }
}
