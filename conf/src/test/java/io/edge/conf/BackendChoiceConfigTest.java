package io.edge.conf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.tuple;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A location's {@code proxy = "$pool"} and {@code fastcgi = "$php_pool"}, nginx's {@code proxy_pass http://$pool} and
 * {@code fastcgi_pass $php_pool}: a group of that kind chosen for each request by variables.
 */
class BackendChoiceConfigTest {

    @TempDir
    Path dir;

    private static final String GROUPS = """
            proxy.backends.app { addresses = ["127.0.0.1:3000"] }
            proxy.backends.app_beta { addresses = ["127.0.0.1:3001"] }
            fastcgi.backends.php { addresses = ["127.0.0.1:9000"] }
            fastcgi.backends.php_beta { addresses = ["127.0.0.1:9001"] }
            server.maps {
              pool { source = "$http_x_tenant", default = app, values = [{ match = beta, value = app_beta }] }
              php_pool { source = "$http_x_tenant", default = php, values = [{ match = beta, value = php_beta }] }
            }
            """;

    @Test
    void aVariableNamesTheGroupForEachRequest() throws Exception {
        EdgeSettings settings = EdgeConfFile.load(dir, GROUPS + """
                sites = [{ root = www, locations = [
                  { match = "~ \\\\.php$", fastcgi = "$php_pool" }
                  { match = "/", proxy = "$pool" }
                  { match = "/v1/", proxy = "app_$arg_v" }
                  { match = "/lit/", proxy = app }
                ] }]
                """);
        LocationSettings php = settings.sites().get(0).locations().get(0);
        assertThat(php.handler()).isEqualTo(LocationSettings.Handler.FASTCGI);
        assertThat(php.fastcgiBackend()).as("as written").isEqualTo("$php_pool");
        assertThat(php.backendChoice().parts()).singleElement().extracting(Return.Part::variable).isEqualTo("php_pool");
        assertThat(php.sendsTo("php_beta")).isTrue();

        LocationSettings proxied = settings.sites().get(0).locations().get(1);
        assertThat(proxied.handler()).isEqualTo(LocationSettings.Handler.PROXY);
        assertThat(proxied.backendChoice()).isNotNull();
        assertThat(proxied.proxy().backend()).isEqualTo("$pool");
        assertThat(proxied.proxy().hosts()).isEqualTo(Map.of("app", "127.0.0.1:3000", "app_beta", "127.0.0.1:3001"));
        assertThat(proxied.proxy().host("app_beta")).as("$proxy_host of the group chosen").isEqualTo("127.0.0.1:3001");
        assertThat(proxied.proxy().redirects()).as("reference.conf's default names one group's URL: none, as nginx's"
                + " with variables").isEmpty();
        assertThat(settings.sites().get(0).locations().get(2).backendChoice().parts()).hasSize(2);

        LocationSettings literal = settings.sites().get(0).locations().get(3);
        assertThat(literal.backendChoice()).isNull();
        assertThat(literal.proxy().host("app_beta")).as("the group it names").isEqualTo("127.0.0.1:3000");
        assertThat(literal.proxy().redirects()).hasSize(1);
    }

    /** A set's variable (nginx's set $name value) names a group as a map's does. */
    @Test
    void aSetsVariableNamesAGroup() throws Exception {
        EdgeSettings settings = EdgeConfFile.load(dir, GROUPS + """
                sites = [{ root = www, rewrites = [{ set = "$tenant_pool app_beta" }], locations = [
                  { match = "/", proxy = "$tenant_pool" }
                ] }]
                """);
        assertThat(settings.sites().get(0).locations().get(0).backendChoice().parts()).singleElement()
                .extracting(Return.Part::map).isNotNull();
    }

    /**
     * A group's name written in other case names it, as a variable's value does and as nginx finds an upstream by its
     * name (measured, nginx 1.22: proxy_pass http://APP_BETA; and fastcgi_pass PHP; reached upstreams app_beta and php).
     */
    @Test
    void aLiteralNameInOtherCaseNamesItsGroup() throws Exception {
        EdgeSettings settings = EdgeConfFile.load(dir, GROUPS + """
                proxy.backends.Web { addresses = ["127.0.0.1:3002"] }
                sites = [{ root = www, locations = [
                  { match = "~ \\\\.php$", fastcgi = PHP_Beta }
                  { match = "/a/", proxy = APP }
                  { match = "/b/", proxy = web }
                ] }]
                """);
        List<LocationSettings> locations = settings.sites().get(0).locations();
        assertThat(locations.get(0).fastcgiBackend()).isEqualTo("php_beta");
        assertThat(locations.get(0).sendsTo("php_beta")).isTrue();
        assertThat(locations.get(1).proxy().backend()).isEqualTo("app");
        assertThat(locations.get(1).proxy().host()).as("$proxy_host: app's first address").isEqualTo("127.0.0.1:3000");
        assertThat(locations.get(2).proxy().backend()).isEqualTo("Web");
    }

    /**
     * Two groups of a kind whose names differ in case alone would be one name, as a name finds its group whatever its
     * case: a problem at the later of them in order, as nginx 1.22 refuses {@code upstream app} beside {@code upstream
     * APP} ("duplicate upstream", measured). Groups of two kinds do not meet.
     */
    @Test
    void twoGroupsWhoseNamesDifferInCaseAloneAreAProblem() throws Exception {
        Path file = EdgeConfFile.write(dir, GROUPS + """
                proxy.backends.web { addresses = ["127.0.0.1:3002"] }
                proxy.backends.Web { addresses = ["127.0.0.1:3003"] }
                fastcgi.backends.PHP { addresses = ["127.0.0.1:9002"] }
                fastcgi.backends.web { addresses = ["127.0.0.1:9003"] }
                sites = [{ root = www, locations = [{ match = "/", proxy = web }] }]
                """);
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(file));
        assertThat(e.problems()).extracting(ConfigProblem::line, ConfigProblem::key, ConfigProblem::message)
                .containsExactlyInAnyOrder(
                        tuple(10, "edge.proxy.backends.web", "\"web\" and \"Web\" differ in case alone, and a name "
                                + "finds its group whatever its case"),
                        tuple(4, "edge.fastcgi.backends.php", "\"php\" and \"PHP\" differ in case alone, and a name "
                                + "finds its group whatever its case"));
    }

    /**
     * The response cache beside a variable, as nginx's proxy_cache beside proxy_pass http://$pool (whose default key,
     * $scheme$proxy_host$request_uri, keeps each group's answers apart): the cache keys each group's apart too.
     */
    @Test
    void aVariableMayStandBesideTheCache() throws Exception {
        EdgeSettings settings = EdgeConfFile.load(dir, GROUPS + """
                sites = [{ root = www, locations = [
                  { match = "~ \\\\.php$", fastcgi = "$php_pool", cache = true }
                  { match = "/", proxy = "$pool", cache = true }
                ] }]
                """);
        assertThat(settings.sites().get(0).locations()).allSatisfy(location -> {
            assertThat(location.cache()).isTrue();
            assertThat(location.backendChoice()).isNotNull();
        });
    }

    /** Every problem at once, with file, line and key; a literal name that is no group stays one. */
    @Test
    void anUnknownVariableANameThatIsNoGroupAndWhatNeedsOneGroupAreProblems() throws Exception {
        Path file = EdgeConfFile.write(dir, GROUPS + """
                sites = [{ root = www, locations = [
                  { match = "/a/", proxy = "$nosuch" }
                  { match = "~ \\\\.php$", fastcgi = "$nosuch" }
                  { match = "/b/", proxy = apx }
                  { match = "/c/", fastcgi = phx }
                  { match = "/f/", proxy = "$pool", proxy-redirect = default }
                  { match = "/g/", proxy = "$pool", proxy-redirect = [{ from = "http://x/", to = "/" }, default] }
                  { match = "/h/", proxy = "$proxy_host" }
                  { match = "/i/", proxy = "$$app" }
                ] }]
                """);
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(file));
        assertThat(e.problems()).extracting(ConfigProblem::line, ConfigProblem::key).containsExactlyInAnyOrder(
                tuple(11, "edge.sites[0].locations[0].proxy"),
                tuple(12, "edge.sites[0].locations[1].fastcgi"),
                tuple(13, "edge.sites[0].locations[2].proxy"),
                tuple(14, "edge.sites[0].locations[3].fastcgi"),
                tuple(15, "edge.sites[0].locations[4].proxy-redirect"),
                tuple(16, "edge.sites[0].locations[5].proxy-redirect"),
                tuple(17, "edge.sites[0].locations[6].proxy"),
                tuple(18, "edge.sites[0].locations[7].proxy"));
        assertThat(e.problems()).allSatisfy(p -> assertThat(p.file()).isEqualTo(file));
        assertThat(e.problems()).extracting(ConfigProblem::message).anySatisfy(message -> assertThat(message)
                .startsWith("\"$nosuch\" has unknown variable $nosuch"));
        assertThat(e.problems()).extracting(ConfigProblem::message).contains(
                "no backend named \"apx\" (did you mean \"app\"?)",
                "\"$proxy_host\" has $proxy_host, which is not known before the group is chosen",
                "\"$$app\" names no variable");
        assertThat(e.problems()).filteredOn(p -> p.key().endsWith("locations[4].proxy-redirect"))
                .extracting(ConfigProblem::message).singleElement().asString()
                .contains("\"proxy_redirect default\" cannot be used with \"proxy_pass\" directive with variables");
    }

    /**
     * A variable whose every value is known at load and names no group of its kind loads with a warning (file, line,
     * key), as nginx 1.22 -t passes proxy_pass http://$pool; and fastcgi_pass $php_pool; with maps of no upstream's
     * name: each request there would be answered as one naming no group. Where one value names a group, or a value is
     * not known at load (a request's variable, a set's, a capture), nothing is said.
     */
    @Test
    void aVariableThatCanNameNoGroupIsAWarning() throws Exception {
        EdgeSettings settings = EdgeConfFile.load(dir, GROUPS + """
                server.maps {
                  nowhere { source = "$http_x_tenant", default = nosuch, values = [{ match = beta, value = other }] }
                  tier { source = "$arg_t", default = gamma }
                  either { source = "$arg_e", default = "$nowhere", values = [{ match = a, value = "$pool" }] }
                  wild { source = "$arg_w", values = [{ match = "~^(.*)$", value = "$1" }] }
                }
                sites = [{ root = www, rewrites = [{ if = "$arg_s", set = "$chosen $arg_s" }], locations = [
                  { match = "/a/", proxy = "$nowhere" }
                  { match = "/b/", fastcgi = "$nowhere" }
                  { match = "/c/", proxy = "app_$tier" }
                  { match = "/d/", proxy = "$either" }
                  { match = "/e/", proxy = "PHP_$nowhere" }
                  { match = "/f/", proxy = "$wild" }
                  { match = "/g/", proxy = "$chosen" }
                  { match = "/h/", fastcgi = "php_$arg_v" }
                ] }]
                """);
        assertThat(settings.warnings()).extracting(ConfigProblem::line, ConfigProblem::key, ConfigProblem::message)
                .containsExactlyInAnyOrder(
                        tuple(17, "edge.sites[0].locations[0].proxy", "\"$nowhere\" can only be \"nosuch\", \"other\","
                                + " which name no group of edge.proxy.backends: each of its requests is answered as one"
                                + " naming no group (502, 500 for an empty value)"),
                        tuple(18, "edge.sites[0].locations[1].fastcgi", "\"$nowhere\" can only be \"nosuch\","
                                + " \"other\", which name no group of edge.fastcgi.backends: each of its requests is"
                                + " answered as one naming no group (500)"),
                        tuple(19, "edge.sites[0].locations[2].proxy", "\"app_$tier\" can only be \"app_gamma\", which"
                                + " name no group of edge.proxy.backends: each of its requests is answered as one naming"
                                + " no group (502, 500 for an empty value)"),
                        tuple(21, "edge.sites[0].locations[4].proxy", "\"PHP_$nowhere\" can only be \"PHP_nosuch\","
                                + " \"PHP_other\", which name no group of edge.proxy.backends: each of its requests is"
                                + " answered as one naming no group (502, 500 for an empty value)"));
        assertThat(settings.sites().get(0).locations()).allSatisfy(location -> assertThat(location.backendChoice())
                .as("loads").isNotNull());
    }

    /**
     * A location's named group of a map's name sets the map for the rest of the request (53f86d56): {@code /a/app}
     * rewritten to {@code /r/} goes to group app though the map alone can only be "nosuch", so that map's values are
     * not known at load and nothing is said, as for a site rewrite's group or a set. A map no regex names keeps its
     * warning.
     */
    @Test
    void aMapALocationsNamedGroupSetsIsNotKnownAtLoad() throws Exception {
        EdgeSettings settings = EdgeConfFile.load(dir, GROUPS + """
                server.maps {
                  nowhere { source = "$http_x_tenant", default = nosuch }
                  bylocation { source = "$http_x_tenant", default = nosuch }
                  byif { source = "$http_x_tenant", default = nosuch }
                  untouched { source = "$http_x_tenant", default = nosuch }
                }
                sites = [{ root = www, locations = [
                  { match = "/a/", rewrites = [{ rewrite = "^/a/(?<nowhere>[a-z]+)$ /r/ last" }] }
                  { match = "~ ^/l/(?<bylocation>[a-z]+)$", rewrites = [{ rewrite = "^ /r2/ last" }] }
                  { match = "/n/", locations = [{ match = "/n/i/", rewrites = [
                    { if = "$uri ~ ^/n/i/(?<byif>[a-z]+)$", rewrite = "^ /r3/ last" }] }] }
                  { match = "/r/", proxy = "$nowhere" }
                  { match = "/r2/", proxy = "$bylocation" }
                  { match = "/r3/", proxy = "$byif" }
                  { match = "/u/", proxy = "$untouched" }
                ] }]
                """);
        assertThat(settings.warnings()).extracting(ConfigProblem::key, ConfigProblem::message)
                .containsExactly(tuple("edge.sites[0].locations[6].proxy", "\"$untouched\" can only be \"nosuch\","
                        + " which name no group of edge.proxy.backends: each of its requests is answered as one naming"
                        + " no group (502, 500 for an empty value)"));
    }

    /**
     * A default no request can reach is no value the checks count: a geo that holds 0.0.0.0/0 and ::/0 (every address,
     * and a source that is none, looked up as 255.255.255.255) and a split with a "*" part never give theirs, so a
     * variable whose reachable values name no group is the warning even where the default names one, and the split's
     * "" is not listed. A geo with 0.0.0.0/0 alone still gives its default to an IPv6 client: nothing said.
     */
    @Test
    void aDefaultNoRequestReachesIsNoValue() throws Exception {
        EdgeSettings settings = EdgeConfFile.load(dir, GROUPS + """
                server.geo {
                  everywhere { default = app, values = [{ match = "0.0.0.0/0", value = eu }, { match = "::/0", value = eu }] }
                  ipv4 { default = app, values = [{ match = "0.0.0.0/0", value = eu }] }
                }
                server.split-clients {
                  halves { source = "$remote_addr", values = [{ percent = "50%", value = eu }, { percent = "*", value = us }] }
                }
                sites = [{ root = www, locations = [
                  { match = "/a/", proxy = "$everywhere" }
                  { match = "/b/", proxy = "$ipv4" }
                  { match = "/c/", proxy = "$halves" }
                ] }]
                """);
        assertThat(settings.warnings()).extracting(ConfigProblem::line, ConfigProblem::key, ConfigProblem::message)
                .containsExactlyInAnyOrder(
                        tuple(18, "edge.sites[0].locations[0].proxy", "\"$everywhere\" can only be \"eu\", which name"
                                + " no group of edge.proxy.backends: each of its requests is answered as one naming no"
                                + " group (502, 500 for an empty value)"),
                        tuple(20, "edge.sites[0].locations[2].proxy", "\"$halves\" can only be \"eu\", \"us\", which"
                                + " name no group of edge.proxy.backends: each of its requests is answered as one naming"
                                + " no group (502, 500 for an empty value)"));
    }

    /**
     * Maps naming maps are each gone through once: a chain of 8 maps of 30 entries, each naming the next, loads at once
     * with its warning. Each entry's value was gone through again for each entry naming its map: 31^8 texts, a
     * --check-config (and a reload) that did not end.
     */
    @Test
    void aChainOfWideMapsIsGoneThroughOnce() throws Exception {
        StringBuilder maps = new StringBuilder("server.maps {\n");
        for (int map = 0; map < 8; map++) {
            String next = map < 7 ? "\"$m" + (map + 1) + "\"" : "nosuch";
            maps.append("  m").append(map).append(" { source = \"$arg_a").append(map).append("\", default = ")
                    .append(next).append(", values = [");
            for (int entry = 0; entry < 30; entry++) {
                maps.append(entry == 0 ? "" : ", ").append("{ match = k").append(entry).append(", value = ")
                        .append(next).append(" }");
            }
            maps.append("] }\n");
        }
        String conf = GROUPS + maps + """
                }
                sites = [{ root = www, locations = [{ match = "/", proxy = "$m0" }] }]
                """;
        EdgeSettings settings = assertTimeoutPreemptively(Duration.ofSeconds(20), () -> EdgeConfFile.load(dir, conf));
        assertThat(settings.warnings()).extracting(ConfigProblem::message).singleElement().asString()
                .startsWith("\"$m0\" can only be \"nosuch\", which name no group of edge.proxy.backends");
    }

    /**
     * A variable written once, in location-defaults, whose values name no group is one warning, at location-defaults'
     * key and line, as a problem of a value written there is said once: it was said for each location inheriting it,
     * under that location's key but at location-defaults' line.
     */
    @Test
    void aVariableInLocationDefaultsThatCanNameNoGroupIsOneWarning() throws Exception {
        EdgeSettings settings = EdgeConfFile.load(dir, GROUPS + """
                server.maps.nowhere { source = "$http_x_tenant", default = nosuch }
                location-defaults { proxy = "$nowhere" }
                sites = [
                  { server-names = [a], root = www, locations = [{ match = "/" }, { match = "/x/" }] }
                  { server-names = [b], root = www, locations = [{ match = "/" }] }
                ]
                """);
        assertThat(settings.warnings()).extracting(ConfigProblem::line, ConfigProblem::key).singleElement()
                .isEqualTo(tuple(11, "edge.location-defaults.proxy"));
    }
}
