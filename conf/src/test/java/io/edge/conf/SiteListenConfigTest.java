package io.edge.conf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.tuple;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A site's {@code listen}: the addresses of server.listen it answers on, as nginx's listen in a server block, with a
 * default and server names judged per address.
 */
class SiteListenConfigTest {

    private static final InetSocketAddress PUBLIC = new InetSocketAddress("127.0.0.1", 19650);
    private static final InetSocketAddress ADMIN = new InetSocketAddress("127.0.0.1", 19651);
    private static final String LISTEN = "server.listen = [\"127.0.0.1:19650\", \"127.0.0.1:19651\"]\n";

    @TempDir
    Path dir;

    @Test
    void aSiteWithoutListenTakesEveryAddress() throws Exception {
        EdgeSettings settings = load(LISTEN + "sites = [{ root = www }]");
        assertThat(settings.sites().get(0).listen()).containsExactly(PUBLIC, ADMIN);
        assertThat(settings.sites().get(0).listensOn(ADMIN)).isTrue();
    }

    /** nginx's {@code server { listen 8080; server_name _; }} beside {@code server { listen 8081; server_name _; }}. */
    @Test
    void twoSitesOnAPortEachWithTheSameNameAndADefaultEach() throws Exception {
        EdgeSettings settings = load(LISTEN + """
                sites = [
                  { root = www, server-names = ["_"], default = true, listen = ["127.0.0.1:19650"] }
                  { root = www, server-names = ["_"], default = true, listen = ["127.0.0.1:19651"] }
                ]""");
        assertThat(settings.sites()).extracting(SiteSettings::listen)
                .containsExactly(List.of(PUBLIC), List.of(ADMIN));
        assertThat(settings.sites().get(0).listensOn(ADMIN)).isFalse();
    }

    @Test
    void anAddressThatIsNoneOfServerListensIsAProblem() {
        List<ConfigProblem> problems = problems(LISTEN + """
                sites = [
                  { root = www, listen = ["127.0.0.1:19652"] }
                  { root = www, listen = ["127.0.0.1:19650", "127.0.0.1:19651"] }
                ]""");
        assertThat(problems).extracting(ConfigProblem::line, ConfigProblem::key, ConfigProblem::message,
                ConfigProblem::expected).containsExactly(tuple(4, "edge.sites[0].listen[0]",
                "\"127.0.0.1:19652\" is not an address of server.listen",
                "addresses of server.listen: \"127.0.0.1:19650\", \"127.0.0.1:19651\""));
    }

    /**
     * "*:port", "[::]:port" and "0.0.0.0:port" are one listener, a dual-stack socket (server.listen): a site names it
     * in any of the three words, whichever server.listen wrote.
     */
    @Test
    void aSiteNamesAWildcardListenerInAnyOfItsWords() throws Exception {
        for (String[] words : new String[][] {{"[::]", "*"}, {"*", "[::]"}, {"[::]", "0.0.0.0"}}) {
            EdgeSettings settings = load("server.listen = [\"" + words[0] + ":19650\", \"127.0.0.1:19651\"]\n" + """
                    sites = [
                      { root = www, listen = ["%s:19650"] }
                      { root = www, listen = ["127.0.0.1:19651"] }
                    ]""".formatted(words[1]));
            assertThat(settings.sites().get(0).listen()).as(words[1] + " under " + words[0])
                    .containsExactlyElementsOf(settings.server().listen().subList(0, 1));
        }
    }

    /** Routed by the listener a connection came in on, a site names a listener: a wildcard's, not one address of it. */
    @Test
    void anAddressUnderAWildcardOfServerListenIsAProblemNamingIt() {
        List<ConfigProblem> problems = problems("server.listen = [\"*:19650\"]\n"
                + "sites = [{ root = www, listen = [\"127.0.0.1:19650\"] }]");
        assertThat(problems).extracting(ConfigProblem::key, ConfigProblem::message).containsExactly(
                tuple("edge.sites[0].listen[0]", "\"127.0.0.1:19650\" is not an address of server.listen (its"
                        + " \"*:19650\" takes every address on the port: a site names the listener)"));
        assertThat(problemsOrNone("server.listen = [\"*:19650\"]\nsites = [{ root = www, listen = [\"*:19650\"] }]"))
                .isEmpty();
    }

    @Test
    void aMalformedOrRepeatedAddressIsAProblem() {
        List<ConfigProblem> problems = problems(LISTEN + """
                sites = [{ root = www, listen = ["127.0.0.1", "127.0.0.1:19650", "127.0.0.1:19650"] }]""");
        assertThat(problems).extracting(ConfigProblem::key, ConfigProblem::message).containsExactly(
                tuple("edge.sites[0].listen[0]", "\"127.0.0.1\" has no port"),
                tuple("edge.sites[0].listen[2]", "\"127.0.0.1:19650\" is listed twice"));
    }

    @Test
    void anAddressOfServerListenNoSiteListensOnIsAProblem() {
        List<ConfigProblem> problems = problems(LISTEN + "sites = [{ root = www, listen = [\"127.0.0.1:19650\"] }]");
        assertThat(problems).extracting(ConfigProblem::line, ConfigProblem::key, ConfigProblem::message,
                ConfigProblem::expected).containsExactly(tuple(2, "edge.server.listen[1]",
                "\"127.0.0.1:19651\" is in no site's listen: no site would answer there",
                "a site with listen = [\"127.0.0.1:19651\"], or the address not in server.listen"));
    }

    @Test
    void twoDefaultsOnOneAddressAreAProblem() {
        List<ConfigProblem> problems = problems(LISTEN + """
                sites = [
                  { root = www, default = true, listen = ["127.0.0.1:19650"] }
                  { root = www, server-names = [a.org], default = true }
                ]""");
        assertThat(problems).extracting(ConfigProblem::line, ConfigProblem::key, ConfigProblem::message)
                .containsExactly(tuple(5, "edge.sites[1].default",
                        "a second default site on \"127.0.0.1:19650\" (edge.sites[0] is)"));
    }

    @Test
    void aNameOfTwoSitesOnOneAddressIsAProblemOnTwoAddressesNone() {
        List<ConfigProblem> problems = problems(LISTEN + """
                sites = [
                  { root = www, server-names = [a.org], listen = ["127.0.0.1:19650"] }
                  { root = www, server-names = [a.org], listen = ["127.0.0.1:19651"] }
                  { root = www, server-names = [a.org] }
                ]""");
        assertThat(problems).extracting(ConfigProblem::key, ConfigProblem::message).containsExactly(
                tuple("edge.sites[2].server-names[0]", "\"a.org\" is already a name of edge.sites[0] on"
                        + " \"127.0.0.1:19650\""));
    }

    /**
     * Once refused (the response cache keyed an answer by Host and target alone, so the admin port's stored page
     * answered the public port); each site's answers are now kept apart (SiteListenCacheIT), and a cached location
     * beside sites on addresses of their own is a configuration like any other.
     */
    @Test
    void aResponseCacheBesideSitesOnAddressesOfTheirOwnIsAccepted() throws Exception {
        EdgeSettings settings = load(LISTEN + """
                fastcgi.backends.php.addresses = ["127.0.0.1:9000"]
                sites = [
                  { root = www, listen = ["127.0.0.1:19650"], locations = [{ match = "/", fastcgi = php, cache = true }] }
                  { root = www, listen = ["127.0.0.1:19651"], locations = [{ match = "/", fastcgi = php, cache = true }] }
                ]""");
        assertThat(settings.sites()).extracting(SiteSettings::listen).containsExactly(List.of(PUBLIC), List.of(ADMIN));
        assertThat(settings.sites()).allSatisfy(site -> assertThat(site.locations().get(0).cache()).isTrue());
    }

    private EdgeSettings load(String body) throws Exception {
        return new ConfigLoader().load(EdgeConfFile.write(dir, body));
    }

    private List<ConfigProblem> problemsOrNone(String body) {
        try {
            load(body);
            return List.of();
        } catch (ConfigException e) {
            return e.problems();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private List<ConfigProblem> problems(String body) {
        List<ConfigProblem> problems = problemsOrNone(body);
        assertThat(problems).as("loading should fail").isNotEmpty();
        return problems;
    }
}
