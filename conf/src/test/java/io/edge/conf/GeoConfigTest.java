package io.edge.conf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.tuple;

import java.nio.file.Path;
import java.util.List;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code server.geo} (nginx's geo): read, named as a map is, looked up by longest prefix, and its problems. */
class GeoConfigTest {

    @TempDir
    Path dir;

    private EdgeSettings load(String body) throws Exception {
        return new ConfigLoader().load(EdgeConfFile.write(dir, body));
    }

    /** The map, geo or split {@code text} names first. */
    static VariableMap mapOf(VariableText text) {
        return text.parts().stream().filter(part -> part.map() != null).findFirst().orElseThrow().map();
    }

    /** The literal value {@code geo} (a map, geo or split) finds for {@code address} (its source's value). */
    static String value(VariableMap geo, String address) {
        StringBuilder text = new StringBuilder();
        geo.find(address).value().forEach(part -> text.append(part.literal()));
        return text.toString();
    }

    @Test
    void theMostSpecificNetworkDecidesIpv4AndIpv6ApartElseTheDefault() throws Exception {
        EdgeSettings settings = load("""
                server.geo {
                  net { default = "0", values = [
                    { match = "10.0.0.0/8", value = "ten" }
                    { match = "10.1.0.0/16", value = "ten-one" }
                    { match = "10.1.2.3", value = "host" }
                    { match = "2001:db8::/32", value = "doc6" }
                    { match = "2001:db8:1::/48", value = "doc6-1" }
                    { match = "::/0", value = "any6" }
                  ]}
                  by_arg { source = "$arg_ip", values = [{ match = "255.255.255.255", value = "none" }] }
                }
                sites = [{ root = www, locations = [{ match = "/", headers { X-Net = "$net", X-Arg = "$by_arg" } }] }]
                """);
        LocationSettings location = settings.sites().get(0).locations().get(0);
        VariableMap net = mapOf(location.headers().get("X-Net"));
        assertThat(net.source()).extracting(Return.Part::variable).containsExactly("remote_addr");
        assertThat(value(net, "10.9.9.9")).isEqualTo("ten");
        assertThat(value(net, "10.1.9.9")).isEqualTo("ten-one");
        assertThat(value(net, "10.1.2.3")).isEqualTo("host");
        assertThat(value(net, "10.1.2.4")).isEqualTo("ten-one");
        assertThat(value(net, "11.0.0.1")).isEqualTo("0");
        assertThat(value(net, "::ffff:10.1.2.3")).as("an IPv4-mapped client is its IPv4 address").isEqualTo("host");
        assertThat(value(net, "2001:db8:1:2::1")).isEqualTo("doc6-1");
        assertThat(value(net, "2001:db8:2::1")).isEqualTo("doc6");
        assertThat(value(net, "::1")).as("::/0 holds every IPv6 address, no IPv4 one").isEqualTo("any6");
        assertThat(value(net, "not an address")).isEqualTo("0");
        // a source's text read as nginx's ngx_parse_addr reads it, checked against nginx 1.22 side by side
        assertThat(value(net, "::10.1.2.3")).as("IPv4-compatible: an IPv6 address").isEqualTo("any6");
        assertThat(value(net, "0010.1.2.3")).as("an octet's leading zeros").isEqualTo("host");
        assertThat(value(net, "10..2.3")).as("an empty octet is 0").isEqualTo("ten");
        assertThat(value(net, "[2001:db8::1]")).as("brackets: no address").isEqualTo("0");
        assertThat(value(net, "fe80::1%eth0")).as("a zone: no address").isEqualTo("0");
        assertThat(value(net, "10.1.2.3 ")).isEqualTo("0");
        VariableMap byArg = mapOf(location.headers().get("X-Arg"));
        assertThat(byArg.source()).extracting(Return.Part::variable).containsExactly("arg_ip");
        assertThat(value(byArg, "x")).as("no address: 255.255.255.255, as nginx's").isEqualTo("none");
        assertThat(value(byArg, "1.2.3.4")).as("the default's default: empty").isEmpty();
    }

    @Test
    void aMapNamesAGeo() throws Exception {
        EdgeSettings settings = load("""
                server.geo { office { default = "no", values = [{ match = "192.168.1.0/24", value = "yes" }] } }
                server.maps { gate { source = "$office", values = [{ match = "no", value = "403" }] } }
                sites = [{ root = www, locations = [{ match = "/", headers { X-Gate = "$gate" } }] }]
                """);
        VariableMap gate = mapOf(settings.sites().get(0).locations().get(0).headers().get("X-Gate"));
        assertThat(gate.source()).extracting(part -> part.map() == null ? null : part.map().name())
                .containsExactly("office");
    }

    @Test
    void everyProblemIsListedWithItsLineAndKey() throws Exception {
        Path file = EdgeConfFile.write(dir, """
                server.maps { same { source = "$uri" } }
                server.geo {
                  same { default = "1" }
                  remote_addr { default = "1" }
                  a { source = "$nomap", colour = red }
                  b { values = [{ match = "10.0.0.7/8", value = "1" }, { match = "nonsense", value = "2" }] }
                  c { values = [{ match = "10.0.0.0/8", value = "1" }, { match = "10.0.0.0/8", value = "2" }] }
                  d = 5
                }
                sites = [{ root = www }]
                """);
        List<ConfigProblem> problems = catchThrowableOfType(ConfigException.class,
                () -> new ConfigLoader().load(file)).problems();
        assertThat(problems).extracting(ConfigProblem::line, ConfigProblem::key).containsExactlyInAnyOrder(
                tuple(4, "edge.server.geo.same"),
                tuple(5, "edge.server.geo.remote_addr"),
                tuple(6, "edge.server.geo.a.source"),
                tuple(6, "edge.server.geo.a.colour"),
                tuple(7, "edge.server.geo.b.values[0].match"),
                tuple(7, "edge.server.geo.b.values[1].match"),
                tuple(8, "edge.server.geo.c.values[1].match"),
                tuple(9, "edge.server.geo.d"));
        assertThat(problems).extracting(ConfigProblem::message).contains(
                "$same is a map's name already",
                "$remote_addr is a variable edge has",
                "\"colour\" is not a key of a geo",
                "\"$nomap\" has unknown variable $nomap (known: $" + String.join(", $", new TreeSet<>(Return.VARIABLES))
                        + ", $http_<header>, $arg_<name>, $cookie_<name>; a geo's or a split's source names no map)",
                "\"10.0.0.7/8\" has bits set past its /8",
                "\"nonsense\" is not an IP address",
                "\"10.0.0.0/8\" is the network 10.0.0.0/8 of edge.server.geo.c.values[0] already");
    }
}
