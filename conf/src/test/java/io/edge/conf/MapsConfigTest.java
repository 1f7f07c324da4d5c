package io.edge.conf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.tuple;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code server.maps} (nginx's map): read, named by every text that takes variables, and its problems. */
class MapsConfigTest {

    @TempDir
    Path dir;

    private static final String MAPS = """
            server.maps {
              cors_origin { source = "$http_origin", values = [{ match = "~^https://(www\\\\.)?example\\\\.(com|org)$", value = "$http_origin" }] }
              is_bot { source = "$http_user_agent", default = "0", values = [{ match = "~*(googlebot|bingbot)", value = "1" }] }
              app_env { source = "$host", hostnames = true, default = prod, values = [
                { match = ".staging.example.org", value = staging }
                { match = "*.dev.example.org", value = "dev-$is_bot" }
                { match = "www.example.*", value = www }
                { match = "Exact.Example.org", value = exact }
                { match = "~^(?<sub>[a-z]+)\\\\.example\\\\.(org)$", value = "re-$sub-$2" }
              ]}
            }
            """;

    private EdgeSettings load(String body) throws Exception {
        return new ConfigLoader().load(EdgeConfFile.write(dir, body));
    }

    private List<ConfigProblem> problems(String body) throws Exception {
        Path file = EdgeConfFile.write(dir, body);
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(file));
        assertThat(e).as("refused").isNotNull();
        return e.problems();
    }

    private static VariableMap mapOf(VariableText text) {
        return text.parts().stream().filter(part -> part.map() != null).findFirst().orElseThrow().map();
    }

    @Test
    void aMapIsNamedByHeadersParamsReturnRewriteAndTheLog() throws Exception {
        EdgeSettings settings = load(MAPS + """
                server.access-log-format = "$remote_addr bot=$is_bot"
                sites = [{ root = www, locations = [
                  { match = "/", headers { Access-Control-Allow-Origin = "$cors_origin" }, always-headers { X-Env = "$APP_ENV" } }
                  { match = "/r", return = "302 https://$app_env.example.org$request_uri" }
                  { match = "~ ^/w/(.*)$", rewrite = "/$is_bot/$1" }
                ]}]
                """);
        LocationSettings root = settings.sites().get(0).locations().stream().filter(l -> l.match().equals("/"))
                .findFirst().orElseThrow();
        VariableMap cors = mapOf(root.headers().get("Access-Control-Allow-Origin"));
        assertThat(cors.name()).isEqualTo("cors_origin");
        assertThat(cors.source()).extracting(Return.Part::variable).containsExactly("http_origin");
        assertThat(mapOf(root.alwaysHeaders().get("X-Env")).name()).as("named ignoring case, as a header's").isEqualTo("app_env");
        assertThat(settings.server().accessLogFormat().parts()).filteredOn(part -> part.map() != null)
                .extracting(part -> part.map().name()).containsExactly("is_bot");
        Return answer = settings.sites().get(0).locations().stream().filter(l -> l.match().equals("/r")).findFirst()
                .orElseThrow().returns();
        assertThat(answer.text()).filteredOn(part -> part.map() != null).extracting(part -> part.map().name())
                .containsExactly("app_env");
        assertThat(answer.text()).filteredOn(part -> part.map() != null).allMatch(part -> !part.isCapture());
        Rewrite rewrite = settings.sites().get(0).locations().stream().filter(l -> l.rewrite() != null).findFirst()
                .orElseThrow().rewrite();
        assertThat(rewrite.path()).extracting(Return.Part::variable, part -> part.map() == null ? null
                : part.map().name()).containsExactly(tuple(null, null), tuple("is_bot", "is_bot"), tuple(null, null),
                tuple("1", null));
    }

    @Test
    void aValueIsLookedUpExactThenWildcardsThenRegexesInOrderElseTheDefault() throws Exception {
        EdgeSettings settings = load(MAPS + """
                sites = [{ root = www, locations = [{ match = "/", headers { X-Env = "$app_env" } }] }]
                """);
        VariableMap env = mapOf(settings.sites().get(0).locations().get(0).headers().get("X-Env"));
        assertThat(env.find("exact.example.ORG").value()).as("exact, ignoring case")
                .extracting(Return.Part::literal).containsExactly("exact");
        assertThat(env.find("staging.example.org.").value()).as("the name itself, its trailing dot dropped")
                .extracting(Return.Part::literal).containsExactly("staging");
        assertThat(env.find("a.b.staging.example.org").value()).extracting(Return.Part::literal)
                .containsExactly("staging");
        assertThat(env.find("x.dev.example.org").value()).extracting(Return.Part::literal, Return.Part::variable)
                .containsExactly(tuple("dev-", null), tuple(null, "is_bot"));
        assertThat(env.find("dev.example.org").value()).as("*. takes no bare name: the regex does")
                .extracting(Return.Part::variable).containsExactly(null, "sub", null, "2");
        VariableMap.Found regex = env.find("shop.example.org");
        assertThat(regex.captures().group("sub")).isEqualTo("shop");
        assertThat(regex.captures().group(2)).isEqualTo("org");
        assertThat(regex.value().get(1).isCapture()).isTrue();
        assertThat(env.find("www.example.com").value()).as("a wildcard before a regex").extracting(Return.Part::literal)
                .containsExactly("www");
        assertThat(env.find("example.com").value()).extracting(Return.Part::literal).containsExactly("prod");
        assertThat(env.find("").captures()).isNull();
    }

    @Test
    void regexesAreCaseSensitiveOrNotAndNotTriedOnAnEmptyValue() throws Exception {
        EdgeSettings settings = load("""
                server.maps.m { source = "$arg_q", default = "none", values = [
                  { match = "~^A", value = "upper" }
                  { match = "~*^a", value = "any" }
                  { match = "~^$", value = "empty" }
                  { match = "\\\\~x", value = "tilde" }
                ]}
                sites = [{ root = www, locations = [{ match = "/", headers { X-M = "$m" } }] }]
                """);
        VariableMap map = mapOf(settings.sites().get(0).locations().get(0).headers().get("X-M"));
        assertThat(map.find("Ab").value().get(0).literal()).isEqualTo("upper");
        assertThat(map.find("ab").value().get(0).literal()).isEqualTo("any");
        assertThat(map.find("").value().get(0).literal()).isEqualTo("none");
        assertThat(map.find("~X").value().get(0).literal()).isEqualTo("tilde");
    }

    /**
     * A map entry's regex with a group named as one of edge's variables ({@code (?<host>...)}) is a problem, as nginx
     * refuses it ("the duplicate "host" variable"): its value's $host was the request's, not the capture.
     */
    @Test
    void aGroupNamedAsAVariableIsAProblem() throws Exception {
        List<ConfigProblem> problems = problems("""
                server.maps.tenant { source = "$http_x_tenant", values = [
                  { match = "~^(?<host>[a-z]+)\\\\.example$", value = "$host" }
                  { match = "~^(?<t>[a-z]+)$", value = "$t" } ] }
                sites = [{ root = www, locations = [{ match = "/", headers { X-Tenant = "$tenant" } }] }]
                """);
        assertThat(problems).extracting(ConfigProblem::line, ConfigProblem::key, ConfigProblem::message)
                .containsExactly(tuple(3, "edge.server.maps.tenant.values[0].match", "\"~^(?<host>[a-z]+)\\.example$\""
                        + " has a group named host, one of edge's variables ($host): nginx refuses it too (the"
                        + " duplicate \"host\" variable)"));
        assertThat(problems.get(0).expected()).isEqualTo(LocationMatch.VARIABLE_GROUP_EXPECTED);
    }

    @Test
    void everyProblemIsListedWithItsLineAndKey() throws Exception {
        List<ConfigProblem> problems = problems("""
                server.maps {
                  host { source = "$http_host" }
                  status { source = "$uri" }
                  Bad-Name { source = "$uri" }
                  a { source = "$gzip_ratio", values = [{ match = "~(unclosed", value = "x" }] }
                  b { source = "$uri", values = [{ match = "x", value = "1" }, { match = "X", value = "2" }] }
                  c { source = "$d" }
                  d { source = "$c", colour = red }
                  e { source = "$uri", values = [{ match = "x", value = "$1" }, { match = "~(y)", value = "$2" }] }
                }
                sites = [{ root = www, locations = [{ match = "/", headers { X-A = "$nomap" } }] }]
                """);
        assertThat(problems).extracting(ConfigProblem::line, ConfigProblem::key).containsExactlyInAnyOrder(
                tuple(3, "edge.server.maps.host"),
                tuple(4, "edge.server.maps.status"),
                tuple(5, "edge.server.maps.Bad-Name"),
                tuple(6, "edge.server.maps.a.source"),
                tuple(6, "edge.server.maps.a.values[0].match"),
                tuple(7, "edge.server.maps.b.values[1].match"),
                tuple(8, "edge.server.maps.c.source"),
                tuple(9, "edge.server.maps.d.source"),
                tuple(9, "edge.server.maps.d.colour"),
                tuple(10, "edge.server.maps.e.values[0].value"),
                tuple(10, "edge.server.maps.e.values[1].value"),
                tuple(12, "edge.sites[0].locations[0].headers.X-A"));
        assertThat(problems).extracting(ConfigProblem::message).contains(
                "$host is a variable edge has",
                "$status is a variable of nginx's",
                "\"Bad-Name\" is not a variable's name",
                "\"X\" is a key of edge.server.maps.b.values[0] already (keys are compared ignoring case)",
                "$c names itself: $c -> $d -> $c",
                "$d names itself: $d -> $c -> $d",
                "\"$1\" has capture $1, but only a ~regex's value has captures",
                "\"$2\" has capture $2, but its regex has 1 group", "\"colour\" is not a key of a map");
        assertThat(problems).extracting(ConfigProblem::message).anySatisfy(message -> assertThat(message)
                .startsWith("\"$gzip_ratio\" has unknown variable $gzip_ratio (known: $args,"));
        assertThat(problems).extracting(ConfigProblem::message).anySatisfy(message -> assertThat(message)
                .startsWith("\"~(unclosed\" bad regular expression:"));
        assertThat(problems).extracting(ConfigProblem::message).anySatisfy(message -> assertThat(message)
                .startsWith("\"$nomap\" has unknown variable $nomap (known: ").endsWith(" (maps: $a, $b, $c, $d, $e)"));
    }
}
