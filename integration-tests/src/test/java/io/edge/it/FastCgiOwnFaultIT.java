package io.edge.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.conf.ConfigLoader;
import io.edge.conf.EdgeSettings;
import io.edge.conf.SiteSettings;
import io.edge.core.EdgeServer;
import io.edge.core.fastcgi.FastCgiResponder;
import io.edge.core.fastcgi.WaitStats;
import io.edge.core.http.BackendGate;
import io.edge.core.http.RawHttpClient;
import io.edge.fastcgi.BackendGroupSettings;
import io.edge.fastcgi.cgi.ScriptResolver;
import io.edge.fastcgi.pool.BackendPool;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An exception of edge's own once a script's answer ended (the response cache's end: storing it, answering a
 * revalidated entry) answers the client, a 500, where it left the client waiting for its timeout. The fault is the
 * response cache's place, a gate whose tap throws at the end (FastCgiResponder's constructor takes any gate).
 */
class FastCgiOwnFaultIT {

    @TempDir
    Path dir;

    /** Failed before: no answer within the client's 20 s (SocketTimeoutException), nothing logged. */
    @Test
    void anExceptionOfEdgesOwnAtTheEndOfAScriptsAnswerIsA500() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.writeString(www.resolve("a.php"), "<?php echo 'ok';");
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 1")) {
            Path conf = dir.resolve("edge.conf");
            Files.writeString(conf, """
                    edge {
                      server.listen = ["127.0.0.1:0"]
                      server.access-log = off
                      sites = [{ server-names = ["_"], default = true, root = "www",
                        locations = [{ match = "/", fastcgi = php }] }]
                      fastcgi.backends.php { addresses = ["%s"], max-connections = 1 }
                    }
                    """.formatted(fpm.address()));
            EdgeSettings settings = new ConfigLoader().load(conf);
            SiteSettings site = settings.sites().get(0);
            BackendGroupSettings group = settings.backends().get("php");
            BackendPool pool = BackendPool.create(group);
            BackendGate faulty = ThrowingTap.gate(ThrowingTap.At.END);
            // made here, not on the event loop where a location's responder is first asked for (it looks at its roots);
            // its probe knows the one script without a look at the disk, which edge's own does off the loop
            ScriptResolver.FileProbe known = path -> path.endsWith("a.php") ? ScriptResolver.FileProbe.Kind.FILE
                    : ScriptResolver.FileProbe.Kind.MISSING;
            FastCgiResponder responder = new FastCgiResponder(site.locations().get(0), site.root(), pool, null,
                    group.timeouts(), group.responseBuffer(), new WaitStats(), known, faulty);
            EdgeServer server = new EdgeServer(settings, location -> responder);
            try {
                server.start();
                // twice: the one slot (max-connections = 1) was given back, not held (the second would have had a 503)
                for (int i = 0; i < 2; i++) {
                    try (RawHttpClient client = new RawHttpClient(server.boundAddresses().get(0))) {
                        client.send("GET /a.php HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
                        assertThat(client.read().status()).as("request %d", i).isEqualTo(500);
                    }
                }
            } finally {
                server.shutdown();
                pool.close();
            }
        }
    }
}
