package io.edge.conf;

import static io.edge.conf.GeoConfigTest.mapOf;
import static io.edge.conf.GeoConfigTest.value;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.tuple;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code server.split-clients} (nginx's split_clients): read, named as a map is, and its problems. The expected parts
 * are nginx 1.22.1's answers, not worked out here: nginx ran with the same splits written as {@code split_clients
 * "${arg_x}AAA" $variant { 0.5% .one; 2.0% .two; * ""; }} (and the others below) and {@code return 200 "[$variant]"},
 * and was asked {@code /v?x=<input>} for each input; the point is that a client lands in the part nginx puts it in.
 */
class SplitClientsConfigTest {

    @TempDir
    Path dir;

    private static final String SPLITS = """
            server.split-clients {
              variant { source = "${arg_x}AAA", values = [
                { percent = "0.5%", value = ".one" }, { percent = "2.0%", value = ".two" }, { percent = "*", value = "" }
              ]}
              half { source = "$arg_x", values = [{ percent = "50%", value = a }, { percent = "50%", value = b }] }
              third { source = "$arg_x", values = [
                { percent = "33.33%", value = a }, { percent = "33.33%", value = b }, { percent = "33.33%", value = c }
              ]}
              trunc { source = "$arg_x", values = [{ percent = "0.01%", value = a }, { percent = "12.34%", value = b }] }
            }
            """;

    private EdgeSettings load(String body) throws Exception {
        return new ConfigLoader().load(EdgeConfFile.write(dir, body));
    }

    @Test
    void aClientLandsInThePartNginxPutsItIn() throws Exception {
        EdgeSettings settings = load(SPLITS + """
                sites = [{ root = www, locations = [{ match = "/", headers {
                  X-Variant = "$variant", X-Half = "$half", X-Third = "$third", X-Trunc = "$trunc" } }] }]
                """);
        var headers = settings.sites().get(0).locations().get(0).headers();
        VariableMap variant = mapOf(headers.get("X-Variant"));
        // the source as evaluated, "${arg_x}AAA", with x as nginx was asked for it
        assertThat(value(variant, "u37AAA")).isEqualTo(".one");
        assertThat(value(variant, "u14AAA")).isEqualTo(".two");
        assertThat(value(variant, "u66AAA")).isEqualTo(".two");
        assertThat(value(variant, "u168AAA")).isEqualTo(".two");
        assertThat(value(variant, "u183AAA")).isEqualTo(".two");
        assertThat(value(variant, "u191AAA")).isEqualTo(".two");
        for (String rest : List.of("aAAA", "bAAA", "helloAAA", "1.2.3.4AAA", "127.0.0.1AAA", "u1AAA", "AAA")) {
            assertThat(value(variant, rest)).as(rest).isEmpty();
        }
        VariableMap half = mapOf(headers.get("X-Half"));
        for (String a : List.of("c", "x", "8", "10", "11", "abcd", "abcde", "abcdef", "", "%C3%A9t%C3%A9")) {
            assertThat(value(half, a)).as(a).isEqualTo("a");
        }
        for (String b : List.of("a", "b", "1.2.3.4", "127.0.0.1", "hello", "y", "z", "12345", "7", "9", "%ff%fe%fd")) {
            assertThat(value(half, b)).as(b).isEqualTo("b");
        }
        VariableMap third = mapOf(headers.get("X-Third"));
        assertThat(value(third, "c")).isEqualTo("a");
        assertThat(value(third, "a")).isEqualTo("b");
        assertThat(value(third, "abcde")).isEqualTo("b");
        assertThat(value(third, "hello")).isEqualTo("c");
        assertThat(value(third, "12345")).isEqualTo("c");
        // 99.99% in all: a hash in the last 0.01% is in no part, "" as nginx's
        assertThat(value(third, "u2465")).isEmpty();
        assertThat(value(third, "u6088")).isEmpty();
        VariableMap trunc = mapOf(headers.get("X-Trunc"));
        assertThat(value(trunc, "u13236")).isEqualTo("a");
        assertThat(value(trunc, "u16050")).isEqualTo("a");
        assertThat(value(trunc, "x")).isEqualTo("b");
        assertThat(value(trunc, "8")).isEqualTo("b");
        assertThat(value(trunc, "a")).as("past 12.35%, no \"*\"").isEmpty();
    }

    @Test
    void theHashIsNginxsMurmurHash2() {
        // ngx_murmur_hash2's values, the tail of one, two and three bytes and whole words, bytes past 0x7f
        assertThat(VariableMap.murmurHash2("")).isZero();
        assertThat(VariableMap.murmurHash2("AAA")).isEqualTo(2474210034L);
        assertThat(VariableMap.murmurHash2("%C3%A9t%C3%A9")).isEqualTo(1970323377L);
        assertThat(VariableMap.murmurHash2("%ff%fe%fd")).isEqualTo(2560931154L);
    }

    @Test
    void aPercentageIsReadAsNginxsAtofpReadsIt() {
        assertThat(VariableMaps.hundredths("0.5%")).isEqualTo(50);
        assertThat(VariableMaps.hundredths("2.0%")).isEqualTo(200);
        assertThat(VariableMaps.hundredths("2.%")).isEqualTo(200);
        assertThat(VariableMaps.hundredths(".25%")).isEqualTo(25);
        assertThat(VariableMaps.hundredths("100%")).isEqualTo(10000);
        assertThat(VariableMaps.hundredths("12.34%")).isEqualTo(1234);
        for (String refused : List.of("0.009%", "0.019%", "1.234%", "0%", "0.00%", "5", "%", "-1%", "1..2%", "1,5%",
                " 5%", "1e2%")) {
            assertThat(VariableMaps.hundredths(refused)).as(refused).isEqualTo(-1);
        }
    }

    @Test
    void aMapNamesASplit() throws Exception {
        EdgeSettings settings = load("""
                server.split-clients { group { source = "$remote_addr", values = [{ percent = "*", value = "x" }] } }
                server.maps { page { source = "$group", values = [{ match = "x", value = "/x/" }] } }
                sites = [{ root = www, locations = [{ match = "/", headers { X-Page = "$page" } }] }]
                """);
        VariableMap page = mapOf(settings.sites().get(0).locations().get(0).headers().get("X-Page"));
        assertThat(page.source()).extracting(part -> part.map() == null ? null : part.map().name())
                .containsExactly("group");
        assertThat(value(page.source().get(0).map(), "10.0.0.1")).as("\"*\" takes every client").isEqualTo("x");
    }

    @Test
    void everyProblemIsListedWithItsLineAndKey() throws Exception {
        Path file = EdgeConfFile.write(dir, """
                server.maps { same { source = "$uri" } }
                server.split-clients {
                  same { source = "$uri", values = [{ percent = "*", value = "" }] }
                  a { source = "$nomap", colour = red }
                  b { source = "$uri", values = [{ percent = "0.009%", value = "1" }, { percent = "5", value = "2" }] }
                  c { source = "$uri", values = [{ percent = "60%", value = "1" }, { percent = "40.01%", value = "2" }] }
                  d { source = "$uri", values = [{ percent = "*", value = "1" }, { percent = "1%", value = "2" }] }
                  e { values = [{ percent = "1%", value = "1", weight = 2 }] }
                  f = 5
                }
                sites = [{ root = www }]
                """);
        List<ConfigProblem> problems = catchThrowableOfType(ConfigException.class,
                () -> new ConfigLoader().load(file)).problems();
        assertThat(problems).extracting(ConfigProblem::line, ConfigProblem::key).containsExactlyInAnyOrder(
                tuple(4, "edge.server.split-clients.same"),
                tuple(5, "edge.server.split-clients.a.source"),
                tuple(5, "edge.server.split-clients.a.colour"),
                tuple(6, "edge.server.split-clients.b.values[0].percent"),
                tuple(6, "edge.server.split-clients.b.values[1].percent"),
                tuple(7, "edge.server.split-clients.c.values[1].percent"),
                tuple(8, "edge.server.split-clients.d.values[1].percent"),
                tuple(9, "edge.server.split-clients.e.source"),
                tuple(9, "edge.server.split-clients.e.values[0].weight"),
                tuple(10, "edge.server.split-clients.f"));
        assertThat(problems).extracting(ConfigProblem::message).contains(
                "$same is a map's or a geo's name already",
                "\"colour\" is not a key of a split",
                "\"0.009%\" is not a percentage nginx takes",
                "\"5\" is not a percentage nginx takes",
                "\"40.01%\" makes the split's percentages add up to more than 100% (a \"*\" before it takes the rest)",
                "\"weight\" is not a key of a split's value");
    }
}
