package io.edge.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.core.http.RawHttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Sites chosen by Host as nginx's server_name chooses them, on a real edge with real files and a real php-fpm: exact,
 * leading wildcard, trailing wildcard ({@code img.*}), then the first regular expression that finds a match.
 */
class ServerNamesIT {

    @TempDir
    Path dir;

    @Test
    void trailingWildcardsAndRegularExpressionsPickTheirSitesInNginxsOrder() throws Exception {
        for (String site : new String[] {"exact", "leading", "images", "shop", "fallback"}) {
            Files.writeString(Files.createDirectories(dir.resolve(site)).resolve("who.txt"), site);
        }
        Files.writeString(dir.resolve("shop/name.php"), "<?php echo $_SERVER['SERVER_NAME'];");
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 1\n");
             EdgeHarness edge = EdgeHarness.start(dir, """
                     sites = [
                       { server-names = ["www.shop.com"], root = "exact", locations = [{ match = "/" }] }
                       { server-names = ["*.shop.com"], root = "leading", locations = [{ match = "/" }] }
                       { server-names = ["img.*"], root = "images", locations = [{ match = "/" }] }
                       { server-names = ["~^(www\\\\.)?Shop\\\\.(net|org)$", "~^shop"], root = "shop", locations = [
                         { match = "/" }, { match = "~ \\\\.php$", fastcgi = php }
                       ] }
                       { server-names = ["_"], default = true, root = "fallback", locations = [{ match = "/" }] }
                     ]
                     fastcgi.backends.php { addresses = ["%s"] }
                     """.formatted(fpm.address()))) {
            assertThat(who(edge, "www.shop.com")).isEqualTo("exact");
            assertThat(who(edge, "cdn.shop.com")).isEqualTo("leading");
            assertThat(who(edge, "img.shop.com")).as("a leading wildcard before a trailing one").isEqualTo("leading");
            assertThat(who(edge, "img.example.co.uk:8080")).isEqualTo("images");
            assertThat(who(edge, "WWW.SHOP.NET.")).as("caseless, as the regex has an upper-case letter")
                    .isEqualTo("shop");
            assertThat(who(edge, "shop.org")).isEqualTo("shop");
            assertThat(who(edge, "shopping.example")).as("its second name, unanchored at the end").isEqualTo("shop");
            assertThat(who(edge, "example.com")).as("no name: the default site").isEqualTo("fallback");
            assertThat(who(edge, "www.shop.net.evil")).isEqualTo("fallback");
            try (RawHttpClient client = new RawHttpClient(edge.address())) {
                assertThat(client.send("GET /name.php HTTP/1.1\r\nHost: www.shop.net\r\n\r\n").read().text())
                        .as("a script's SERVER_NAME: the site's first name, as nginx's, never a host the client chose"
                                + " that a regex let in").isEqualTo("~^(www\\.)?Shop\\.(net|org)$");
            }
        }
    }

    private static String who(EdgeHarness edge, String host) throws Exception {
        try (RawHttpClient client = new RawHttpClient(edge.address())) {
            RawHttpClient.Response response = client.send("GET /who.txt HTTP/1.1\r\nHost: " + host + "\r\n\r\n").read();
            assertThat(response.status()).as(host).isEqualTo(200);
            return response.text();
        }
    }
}
