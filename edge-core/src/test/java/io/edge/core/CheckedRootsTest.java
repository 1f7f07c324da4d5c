package io.edge.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.conf.ConfigLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The directories a FastCGI location's X-Accel-Redirect may take a file from (its site's document roots) are each
 * looked at every second, off the loops: once per directory in a configuration, however many locations of scripts
 * (and sites) name it. One look per location and directory made a site of many PHP locations and aliases stat its
 * directories that many times each second.
 */
class CheckedRootsTest {

    @TempDir
    Path dir;

    @Test
    void aDirectoryIsCheckedOnceHoweverManyLocationsOfScriptsNameIt() throws Exception {
        Files.createDirectories(dir.resolve("www"));
        Files.createDirectories(dir.resolve("w3/pics"));
        Path conf = Files.writeString(dir.resolve("edge.conf"), "edge { server.listen = [\"127.0.0.1:0\"]\n"
                + "sites = [{ server-names = [a.example], root = www, locations = [\n"
                + "  { match = \"~ \\\\.php$\", fastcgi = php }\n"
                + "  { match = \"= /one\", fastcgi = php, fastcgi-script = \"/one.php\" }\n"
                + "  { match = \"/api/\", fastcgi = php, front-controller = \"/api/index.php\" }\n"
                + "  { match = \"/pics/\", alias = \"w3/pics/\" }\n"
                + "] }, { server-names = [b.example], root = www, locations = [\n"
                + "  { match = \"~ \\\\.php$\", fastcgi = php }\n"
                + "] }]\n"
                + "fastcgi.backends.php.addresses = [\"unix:" + dir.resolve("fpm.sock") + "\"] }\n");
        Edge edge = new Edge(new ConfigLoader().load(conf));
        edge.start();
        try {
            assertThat(edge.checkedRootsInUse()).as("www and w3/pics, each once").isEqualTo(2);
        } finally {
            edge.stop();
        }
    }

    /**
     * A location whose group a variable chooses ({@code fastcgi = "$php_pool"}) has a responder for every group of
     * the configuration: their directories are the same shared ones, not one look per group and directory.
     */
    @Test
    void aLocationChoosingAmongGroupsHasItsDirectoriesCheckedOnce() throws Exception {
        Files.createDirectories(dir.resolve("www"));
        Files.createDirectories(dir.resolve("w3/files"));
        Path conf = Files.writeString(dir.resolve("edge.conf"), "edge { server.listen = [\"127.0.0.1:0\"]\n"
                + "server.maps.php_pool { source = \"$http_x_tenant\", default = php, values = [{ match = beta, value = php_beta }] }\n"
                + "sites = [{ server-names = [a.example], root = www, locations = [\n"
                + "  { match = \"~ \\\\.php$\", fastcgi = \"$php_pool\", x-sendfile = [\"w3/files\"] }\n"
                + "] }]\n"
                + "fastcgi.backends.php.addresses = [\"unix:" + dir.resolve("a.sock") + "\"]\n"
                + "fastcgi.backends.php_beta.addresses = [\"unix:" + dir.resolve("b.sock") + "\"]\n"
                + "fastcgi.backends.php_gamma.addresses = [\"unix:" + dir.resolve("c.sock") + "\"] }\n");
        Edge edge = new Edge(new ConfigLoader().load(conf));
        edge.start();
        try {
            assertThat(edge.checkedRootsInUse()).as("www and w3/files, each once for the three groups").isEqualTo(2);
        } finally {
            edge.stop();
        }
    }
}
