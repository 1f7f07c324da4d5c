package io.edge.core.fastcgi;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.aio.PathPolicy;
import io.edge.conf.LocationSettings;
import io.edge.conf.ServerSettings;
import io.edge.conf.SiteSettings;
import io.edge.core.http.AccessLog;
import io.edge.core.http.EmbeddedClient;
import io.edge.core.http.HttpChannelInitializer;
import io.edge.core.http.HttpServerContext;
import io.edge.core.http.LocationChecks;
import io.edge.core.limit.ConnectionLimits;
import io.edge.core.limit.RequestLimits;
import io.edge.core.route.Router;
import io.edge.fastcgi.BackendGroupSettings;
import io.edge.fastcgi.cgi.ScriptResolver;
import io.edge.fastcgi.pool.BackendPool;
import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The responder behind the real HTTP pipeline on an {@link EmbeddedChannel}, for what happens before any
 * backend connection is leased (the pool has an address nobody listens on, and is never asked).
 */
class FastCgiResponderTest {

    /**
     * Remembers every heap buffer (a gathered body's blocks among them) and composite buffer handed out, so a test can
     * check that each was released.
     */
    static class BufferTracker extends AbstractByteBufAllocator {
        final List<ByteBuf> handedOut = Collections.synchronizedList(new ArrayList<>());

        BufferTracker() {
            super(false);
        }

        @Override
        protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
            return tracked(Unpooled.buffer(initialCapacity, maxCapacity));
        }

        @Override
        protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
            return Unpooled.directBuffer(initialCapacity, maxCapacity);
        }

        @Override
        public boolean isDirectBufferPooled() {
            return false;
        }

        @Override
        public CompositeByteBuf compositeHeapBuffer(int maxNumComponents) {
            return tracked(super.compositeHeapBuffer(maxNumComponents));
        }

        @Override
        public CompositeByteBuf compositeDirectBuffer(int maxNumComponents) {
            return tracked(super.compositeDirectBuffer(maxNumComponents));
        }

        private <B extends ByteBuf> B tracked(B buffer) {
            handedOut.add(buffer);
            return buffer;
        }
    }

    static final long BODY_LIMIT = 16;

    @TempDir
    Path root;

    BackendPool pool;
    EmbeddedChannel client;
    final BufferTracker allocator = new BufferTracker();

    @BeforeEach
    void open() throws Exception {
        Files.writeString(root.resolve("a.php"), "<?php echo 'a';");
        BackendGroupSettings group = unreachableGroup(root);
        pool = BackendPool.create(group);
        LocationSettings php = PHP;
        SiteSettings site = site(root);
        FastCgiResponder responder = new FastCgiResponder(php, root, pool, null, group.timeouts(), group.responseBuffer(), new WaitStats(),
                ScriptResolver.FileProbe.FILESYSTEM, null);
        ServerSettings server = new ServerSettings(List.of(new InetSocketAddress("127.0.0.1", 0)), 1, 10,
                new ServerSettings.HttpLimits(1024, 4096, 20, BODY_LIMIT),
                new ServerSettings.HttpTimeouts(Duration.ofSeconds(10), Duration.ofSeconds(60), Duration.ofSeconds(30), Duration.ofSeconds(30),
                        Duration.ofSeconds(5), Duration.ofSeconds(5), Duration.ofSeconds(30)), null, root);
        HttpServerContext context = new HttpServerContext(new Router(List.of(site), site), location -> responder,
                Map.of(), server, new AccessLog(false), new DefaultChannelGroup(GlobalEventExecutor.INSTANCE));
        client = new EmbeddedChannel();
        client.config().setAllocator(allocator);
        client.pipeline().addLast(new HttpChannelInitializer(context));
    }

    /** Everything under "/" to the "php" group. */
    static final LocationSettings PHP = new LocationSettings("/", LocationSettings.Kind.PREFIX, "/", null, null,
            LocationSettings.Handler.FASTCGI, "php");

    /** The "php" group, one connection, at an address nobody listens on: never reached by these tests. */
    static BackendGroupSettings unreachableGroup(Path root) {
        return new BackendGroupSettings("php", List.of("unix:" + root.resolve("none.sock")),
                BackendGroupSettings.Balance.LEAST_CONNECTIONS, 1,
                new BackendGroupSettings.Queue(10, Duration.ofSeconds(1), Duration.ofSeconds(1)),
                new BackendGroupSettings.Timeouts(Duration.ofSeconds(1), Duration.ofSeconds(1), Duration.ofSeconds(1)),
                new BackendGroupSettings.KeepAlive(true, Duration.ofSeconds(60), 0),
                new BackendGroupSettings.Health(0, Duration.ofSeconds(1)), null,
                new BackendGroupSettings.ResponseBuffer(64 * 1024, 1L << 30));
    }

    /** The default site over {@code root} with {@link #PHP}. */
    static SiteSettings site(Path root) {
        return new SiteSettings(List.of("_"), true, root, List.of("index.php"), PathPolicy.DEFAULT, List.of(PHP));
    }

    @AfterEach
    void close() {
        client.finishAndReleaseAll();
        pool.close();
    }

    static final String CHUNKED_POST = "POST /a.php HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";

    /** A chunked body refused after its first chunk: the answer, a closed connection, and nothing kept. */
    void assertRefusedAndGatheredBodyReleased(String laterChunks, String statusLine) {
        String response = EmbeddedClient.send(client, CHUNKED_POST + "a\r\n0123456789\r\n" + laterChunks);
        assertThat(response).startsWith(statusLine);
        assertThat(client.isActive()).isFalse();
        assertGatheredBodyReleased();
    }

    /** The body gathered so far, and whatever else was handed out for the request, was released. */
    void assertGatheredBodyReleased() {
        assertThat(allocator.handedOut).as("the body gathered").isNotEmpty();
        assertThat(allocator.handedOut).allMatch(buffer -> buffer.refCnt() == 0, "released");
    }

    @Test
    void chunkedBodyOverTheLimitIs413AndTheGatheredBodyIsReleased() {
        assertRefusedAndGatheredBodyReleased("a\r\n0123456789\r\n", "HTTP/1.1 413 ");
    }

    @Test
    void malformedChunkAfterAGoodOneIs400AndTheGatheredBodyIsReleased() {
        assertRefusedAndGatheredBodyReleased("zz\r\n", "HTTP/1.1 400 ");
    }

    @Test
    void chunkedBodyExpectingContinueGetsA100BeforeItIsGathered() {
        assertThat(EmbeddedClient.send(client,
                "POST /a.php HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n"))
                .isEqualTo("HTTP/1.1 100 Continue\r\n\r\n");
        // over the limit, so that the pool is never asked
        String response = EmbeddedClient.send(client, "a\r\n0123456789\r\na\r\n0123456789\r\n");
        assertThat(response).startsWith("HTTP/1.1 413 ").doesNotContain("100 Continue");
        assertGatheredBodyReleased();
    }

    @Test
    void clientGoneMidBodyReleasesTheGatheredBody() {
        EmbeddedClient.send(client, CHUNKED_POST + "a\r\n0123456789\r\n");
        client.close();
        assertGatheredBodyReleased();
    }
}
