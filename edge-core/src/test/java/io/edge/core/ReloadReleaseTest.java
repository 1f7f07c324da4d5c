package io.edge.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.cache.content.ContentCache;
import io.edge.cache.http.ResponseCache;
import io.edge.conf.ConfigLoader;
import java.lang.ref.WeakReference;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a reload replaced becomes garbage once its last exchange has ended, as nginx frees an old cycle: a server
 * reloaded every few minutes for months must not keep every configuration it ever ran.
 */
class ReloadReleaseTest {

    @TempDir
    Path dir;

    /** A static site and a cached PHP location (its php-fpm need not run); each reload changes both caches. */
    private Path write(String revalidate) throws Exception {
        return Files.writeString(dir.resolve("edge.conf"), "edge { server.listen = [\"127.0.0.1:0\"]\n"
                + "sites = [{ root = www, locations = [{ match = \"= /cached\", fastcgi = php, cache = true }] }]\n"
                + "fastcgi.backends.php.addresses = [\"unix:" + dir.resolve("fpm.sock") + "\"]\n"
                + "cache.content.revalidate = " + revalidate + ", cache.responses.stale-grace = " + revalidate + " }\n");
    }

    /** A reload that fails because edge stops meanwhile (a SIGTERM during it) is no error, as the soak audit found. */
    @Test
    void aReloadFailingAsEdgeStopsIsAbandonedNotAnError() throws Exception {
        Files.createDirectory(dir.resolve("www"));
        Path file = write("1 s");
        Edge edge = new Edge(new ConfigLoader().load(file));
        edge.start();
        edge.stop();
        try (io.edge.core.http.CapturedLog log = io.edge.core.http.CapturedLog.of(Main.class.getName())) {
            Main.reload(edge, file);
            assertThat(log.events()).extracting(e -> e.getLevel() + " " + e.getFormattedMessage())
                    .noneMatch(line -> line.startsWith("ERROR"))
                    .anyMatch(line -> line.startsWith("INFO reload abandoned: edge stops"));
        }
    }

    @Test
    void theCachesAReloadReplacedAreLetGo() throws Exception {
        Files.createDirectory(dir.resolve("www"));
        Edge edge = new Edge(new ConfigLoader().load(write("1 s")));
        edge.start();
        try {
            WeakReference<ContentCache> first = new WeakReference<>(edge.contentCacheInUse());
            WeakReference<ResponseCache> firstResponses = new WeakReference<>(edge.responseCacheInUse());
            assertThat(first.get()).isNotNull();
            assertThat(firstResponses.get()).isNotNull();

            edge.reload(write("2 s")); // another cache, which takes over what the first held
            edge.reload(write("3 s")); // and another
            WeakReference<ContentCache> inUse = new WeakReference<>(edge.contentCacheInUse());

            // no exchange runs: the replaced generations retire at once, on the retirer's thread
            for (int i = 0; i < 200 && (first.get() != null || firstResponses.get() != null
                    || edge.generationsClosing() > 0); i++) {
                System.gc();
                Thread.sleep(20);
            }
            assertThat(first.get()).as("the first configuration's content cache, replaced twice").isNull();
            assertThat(firstResponses.get()).as("its response cache, replaced twice").isNull();
            assertThat(inUse.get()).as("the one in use").isNotNull();
        } finally {
            edge.stop();
        }
    }
}
