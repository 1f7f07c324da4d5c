package io.edge.core.fastcgi;

import static org.assertj.core.api.Assertions.assertThat;

import com.github.benmanes.caffeine.cache.Ticker;
import io.edge.conf.LocationSettings;
import io.edge.conf.SiteSettings;
import io.edge.core.http.Exchange;
import io.edge.fastcgi.BackendGroupSettings;
import io.edge.fastcgi.cgi.ScriptResolver;
import io.edge.fastcgi.pool.BackendPool;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A script path the probe does not remember is looked at on a probe thread; meanwhile the request's body is not
 * read (it stays in the kernel), and reading resumes when the lookup is back on the event loop.
 */
class ProbeHopTest {

    @TempDir
    Path root;

    private LocalConnection connection;
    private BackendPool pool;

    @BeforeEach
    void connect() throws Exception {
        connection = new LocalConnection();
    }

    @AfterEach
    void close() throws Exception {
        connection.close();
        if (pool != null) {
            pool.close();
        }
    }

    @Test
    void aPostsBodyStaysUnreadWhileItsScriptIsLookedAtOnAProbeThread() throws Exception {
        Files.writeString(root.resolve("a.php"), "<?php echo 'a';");
        CountDownLatch probing = new CountDownLatch(1);
        CountDownLatch letGo = new CountDownLatch(1);
        ScriptResolver.FileProbe slow = path -> { // a stat that waits, as on a hung NFS mount
            probing.countDown();
            try {
                letGo.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return ScriptResolver.FileProbe.FILESYSTEM.kind(path);
        };
        BackendGroupSettings group = FastCgiResponderTest.unreachableGroup(root);
        pool = BackendPool.create(group);
        LocationSettings php = FastCgiResponderTest.PHP;
        SiteSettings site = FastCgiResponderTest.site(root);
        FastCgiResponder responder = new FastCgiResponder(php, root, pool, null, group.timeouts(), group.responseBuffer(), new WaitStats(),
                new CachedFileProbe(slow, Duration.ofSeconds(60), Ticker.systemTicker()), null);
        Channel client = connection.client;
        RecordingExchange exchange = new RecordingExchange(client, site, php);
        client.eventLoop().submit(() -> responder.respond(exchange)).get(10, TimeUnit.SECONDS);
        assertThat(probing.await(10, TimeUnit.SECONDS)).as("looked at off the loop").isTrue();
        assertThat(exchange.pauses).as("the body stays in the kernel meanwhile").containsExactly(true);
        letGo.countDown();
        exchange.askedForBody.await(10, TimeUnit.SECONDS);
        assertThat(exchange.pauses).as("back on the loop: read again, then asked for").startsWith(true, false);
        client.eventLoop().submit(() -> exchange.bodyIncomplete.run()).get(10, TimeUnit.SECONDS); // the client left
    }

    /** The parts of an exchange this responder uses before a backend is asked, recorded; runs on {@code client}'s loop. */
    private static final class RecordingExchange implements Exchange {
        final List<Boolean> pauses = new CopyOnWriteArrayList<>();
        final CountDownLatch askedForBody = new CountDownLatch(1);
        final HttpRequest request = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/a.php");
        final Channel client;
        final SiteSettings site;
        final LocationSettings location;
        volatile Runnable bodyIncomplete = () -> { };
        volatile boolean ended;

        RecordingExchange(Channel client, SiteSettings site, LocationSettings location) {
            this.client = client;
            this.site = site;
            this.location = location;
            request.headers().set("Host", "a").set("Content-Length", "10");
        }

        @Override public HttpRequest request() { return request; }
        @Override public String path() { return "/a.php"; }
        @Override public String query() { return ""; }
        @Override public boolean isHead() { return false; }
        @Override public SiteSettings site() { return site; }
        @Override public LocationSettings location() { return location; }
        @Override public Channel clientChannel() { return client; }
        @Override public InetSocketAddress remoteAddress() { return new InetSocketAddress("127.0.0.1", 40000); }
        @Override public boolean https() { return false; }
        @Override public InetSocketAddress localAddress() { return new InetSocketAddress("127.0.0.1", 8080); }
        @Override public void readBody(Consumer<HttpContent> onContent, Runnable onIncomplete) {
            bodyIncomplete = onIncomplete;
            askedForBody.countDown();
        }
        @Override public void pauseBody(boolean paused) { pauses.add(paused); }
        @Override public ChannelFuture write(Object message) { ReferenceCountUtil.release(message); return client.newSucceededFuture(); }
        @Override public ChannelFuture writeAndFlush(Object message) { return write(message); }
        @Override public void flush() { }
        @Override public boolean isWritable() { return true; }
        @Override public void onWritable(Runnable task) { task.run(); }
        @Override public void complete(ChannelFuture lastWrite) { ended = true; }
        @Override public void completeAndClose(ChannelFuture lastWrite) { ended = true; }
        @Override public void fail(Throwable cause) { ended = true; }
        @Override public void sendError(HttpResponseStatus status) { ended = true; }
        @Override public void onClientGone(Runnable task) { }
        @Override public void whenEnded(Runnable task) { throw new UnsupportedOperationException("no limit here"); }
        @Override public boolean isEnded() { return ended; }
    }
}
