package io.edge.conf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.tuple;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A location's {@code referers} (nginx's valid_referers): read onto LocationSettings, and judged as nginx does. */
class ReferersTest {

    private static final List<String> SITE = List.of("example.org", "*.example.org");

    @TempDir
    Path dir;

    private Referers read(String valid) throws Exception {
        EdgeSettings settings = new ConfigLoader().load(EdgeConfFile.write(dir, """
                sites = [{ root = www, locations = [{ match = "/", referers.valid = %s }] }]
                """.formatted(valid)));
        return settings.sites().get(0).locations().get(0).referers();
    }

    @Test
    void noneAndBlockedTakeAMissingRefererAndOneThatIsNoUrl() throws Exception {
        Referers none = read("[none]");
        assertThat(none.valid(null, SITE)).isTrue();
        assertThat(none.valid("XXXXXXXXXXXXXXX", SITE)).isFalse();
        Referers blocked = read("[blocked]");
        assertThat(blocked.valid(null, SITE)).as("no Referer is not a blocked one").isFalse();
        assertThat(blocked.valid("XXXXXXXXXXXXXXX", SITE)).isTrue();
        assertThat(blocked.valid("ftp://example.org/", SITE)).isTrue();
        assertThat(blocked.valid("http://a", SITE)).as("shorter than nginx's shortest URL, http://i.ru").isTrue();
        assertThat(blocked.valid("https://i.r", SITE)).as("11 characters: a URL for nginx, whatever its scheme")
                .isFalse();
        assertThat(blocked.valid("http://other.net/", SITE)).as("a URL of another site").isFalse();
    }

    @Test
    void hostsMatchAsNginxsWildcardsDoIgnoringCaseAndPort() throws Exception {
        Referers referers = read("[\"partner.net\", \"*.cdn.net\", \".shop.net\", \"www.mirror.*\"]");
        assertThat(referers.valid("http://partner.net/page", SITE)).isTrue();
        assertThat(referers.valid("HTTPS://Partner.NET:8443/page", SITE)).isTrue();
        assertThat(referers.valid("http://partner.net", SITE)).as("no path at all").isTrue();
        assertThat(referers.valid("http://evil-partner.net/", SITE)).isFalse();
        assertThat(referers.valid("http://partner.net.evil.com/", SITE)).isFalse();
        assertThat(referers.valid("http://a.b.cdn.net/", SITE)).isTrue();
        assertThat(referers.valid("http://cdn.net/", SITE)).as("*.name: only names under it").isFalse();
        assertThat(referers.valid("http://shop.net/", SITE)).as(".name: itself too").isTrue();
        assertThat(referers.valid("http://eu.shop.net/", SITE)).isTrue();
        assertThat(referers.valid("http://www.mirror.co.uk/", SITE)).isTrue();
        assertThat(referers.valid("http://www.mirror/", SITE)).as("name.*: something after the dot").isFalse();
        assertThat(referers.valid("http://example.org/", SITE)).as("the site's own only with server-names").isFalse();
    }

    @Test
    void serverNamesAreTheSitesWithItsWildcards() throws Exception {
        Referers referers = read("[server-names]");
        assertThat(referers.valid("https://example.org/gallery", SITE)).isTrue();
        assertThat(referers.valid("https://www.example.org/", SITE)).isTrue();
        assertThat(referers.valid("https://example.org.evil.com/", SITE)).isFalse();
        assertThat(referers.valid(null, SITE)).isFalse();
        assertThat(read("[server_names]").valid("http://example.org/", SITE)).as("nginx's spelling").isTrue();
    }

    /**
     * A regex entry as nginx's PCRE reads it ((?P<name>), [[:alpha:]]), tried within a budget: one that backtracks
     * past it validates nothing rather than hold the event loop; so does a site's regex name.
     */
    @Test
    void regexEntriesReadAsPcreAndGiveUpRatherThanBacktrackForever() throws Exception {
        Referers referers = read("[\"~^(?P<host>[[:alpha:]]+)\\\\.example/\", \"~^(a+)+b\"]");
        assertThat(referers.valid("http://shop.example/x", SITE)).isTrue();
        assertThat(referers.valid("http://sh0p.example/x", SITE)).as("[[:alpha:]] as PCRE reads it").isFalse();
        assertThat(referers.valid("http://" + "a".repeat(40), SITE)).as("exponential: given up").isFalse();
        assertThat(read("[server-names]").valid("http://" + "a".repeat(40) + ".com/", List.of("~^(a+)+\\\\.org$")))
                .isFalse();
    }

    /** A site's trailing wildcard and regex names, as nginx's server_names takes them: the regex after the hosts. */
    @Test
    void serverNamesTakeTheSitesTrailingWildcardsAndRegularExpressions() throws Exception {
        List<String> site = List.of("shop.*", "~^www\\d*\\.example\\.(com|net)$");
        Referers referers = read("[server-names, \"partner.net/only/\"]");
        assertThat(referers.valid("http://shop.example.com/x", site)).isTrue();
        assertThat(referers.valid("http://www2.example.net:8080/x", site)).as("the host, without its port").isTrue();
        assertThat(referers.valid("http://WWW.example.com/", site)).as("in lower case, as a Host is").isTrue();
        assertThat(referers.valid("http://www.example.org/", site)).isFalse();
        assertThat(referers.valid("http://example.com/www.example.com", site)).as("the host only").isFalse();
        assertThat(referers.valid("http://partner.net/other/", List.of("~partner")))
                .as("a host entry that names it decides first, by its path").isFalse();
    }

    @Test
    void aPathMustStartTheUrlsPathAndTheClosestHostDecides() throws Exception {
        Referers referers = read("[\"example.net/galleries/\", \"*.example.net/pics/\", \"www.example.net\"]");
        assertThat(referers.valid("http://example.net/galleries/1.html", SITE)).isTrue();
        assertThat(referers.valid("http://example.net:8080/galleries/1.html", SITE)).as("past a port").isTrue();
        assertThat(referers.valid("http://example.net/blog/", SITE)).isFalse();
        assertThat(referers.valid("http://cdn.example.net/pics/a", SITE)).isTrue();
        assertThat(referers.valid("http://cdn.example.net/x", SITE)).isFalse();
        assertThat(referers.valid("http://www.example.net/x", SITE))
                .as("an exact name above the wildcard naming it too, as nginx's hash").isTrue();
    }

    @Test
    void aRegexIsFoundPastTheSchemeIgnoringCase() throws Exception {
        Referers referers = read("[\"~\\\\.google\\\\.\", \"~^social\\\\.example/share\"]");
        assertThat(referers.valid("https://www.GOOGLE.de/search?q=x", SITE)).isTrue();
        assertThat(referers.valid("https://social.example/share/9", SITE)).isTrue();
        assertThat(referers.valid("https://x.social.example/share/9", SITE)).as("anchored past the scheme").isFalse();
        assertThat(referers.valid("https://google.com/", SITE)).isFalse();
        assertThat(referers.valid("http://" + "a".repeat(300) + ".google.com/", SITE))
                .as("a host of 256 characters and more is no host, as nginx's").isFalse();
    }

    @Test
    void theInvalidAnswerIsAReturnAndLocationDefaultsHoldEveryLocation() throws Exception {
        EdgeSettings settings = new ConfigLoader().load(EdgeConfFile.write(dir, """
                location-defaults.referers { valid = [none, server-names], invalid = "302 https://example.org/hotlink.png" }
                sites = [{ root = www, locations = [
                  { match = "/" }
                  { match = "/open/", referers.valid = null }
                  { match = "/bots/", referers.invalid = 444 }
                ] }]
                """));
        List<LocationSettings> locations = settings.sites().get(0).locations();
        assertThat(locations.get(0).referers().invalid().status()).isEqualTo(302);
        assertThat(locations.get(0).referers().none()).isTrue();
        assertThat(locations.get(1).referers()).isNull();
        assertThat(locations.get(2).referers().invalid()).isEqualTo(new Return(444, List.of()));
    }

    @Test
    void badReferersAreListedWithWhatIsWrong() throws Exception {
        Path file = EdgeConfFile.write(dir, """
                sites = [{ root = www, locations = [
                  { match = "/a/", referers { valid = [none, "exa*mple.org", "example.org:8080", "~(unclosed"] } }
                  { match = "/b/", referers { valid = [] } }
                  { match = "/c/", referers { invalid = 404 } }
                  { match = "/d/", referers { valid = [none], invalid = "600 no" } }
                  { match = "/e/", referers { valid = [none], invalid = "302 /x/$1" } }
                ] }]
                """);
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(file));
        assertThat(e).isNotNull();
        assertThat(e.problems()).extracting(ConfigProblem::line, ConfigProblem::key, ConfigProblem::message)
                .containsExactlyInAnyOrder(
                        tuple(3, "edge.sites[0].locations[0].referers.valid[1]", "\"exa*mple.org\" has a \"*\""
                                + " elsewhere than a whole first or last label"),
                        tuple(3, "edge.sites[0].locations[0].referers.valid[2]", "\"example.org:8080\" names a port"
                                + " (a Referer's port is not compared)"),
                        tuple(3, "edge.sites[0].locations[0].referers.valid[3]", "\"~(unclosed\" bad regular"
                                + " expression: Unclosed group at index 9"),
                        tuple(4, "edge.sites[0].locations[1].referers.valid", "is empty: every request would be refused"),
                        tuple(5, "edge.sites[0].locations[2].referers.invalid", "set without a valid list, which turns"
                                + " the check on"),
                        tuple(6, "edge.sites[0].locations[3].referers.invalid", "\"600 no\" has status 600, not from"
                                + " 200 to 599"),
                        tuple(7, "edge.sites[0].locations[4].referers.invalid", "\"302 /x/$1\" has capture $1 in a"
                                + " location whose match is no regex"));
    }
}
