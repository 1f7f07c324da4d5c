package io.edge.conf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.tuple;

import java.net.InetAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A location's {@code return} (nginx's return), {@code rewrite} (nginx's rewrite ... last) and {@code access} (nginx's
 * allow and deny) onto LocationSettings.
 */
class ReturnAccessConfigTest {

    @TempDir
    Path dir;

    @Test
    void aReturnIsReadAsNginxWritesIt() throws Exception {
        EdgeSettings settings = new ConfigLoader().load(EdgeConfFile.write(dir, """
                sites = [{ root = www, locations = [
                  { match = "/" }
                  { match = "/old/", return = "301 https://example.org$request_uri" }
                  { match = "= /gone", return = 410 }
                  { match = "= /elsewhere", return = "https://example.org/" }
                  { match = "~ ^/p/(\\\\d+)/(?<slug>[a-z]+)$", return = "308 /item/${1}x/$slug$is_args$args" }
                ] }]
                """));
        List<LocationSettings> locations = settings.sites().get(0).locations();
        assertThat(locations.get(0).handler()).isEqualTo(LocationSettings.Handler.STATIC);
        assertThat(locations.get(0).returns()).isNull();
        LocationSettings old = locations.get(1);
        assertThat(old.handler()).isEqualTo(LocationSettings.Handler.RETURN);
        assertThat(old.returns().status()).isEqualTo(301);
        assertThat(old.returns().text()).containsExactly(new Return.Part("https://example.org", null),
                new Return.Part(null, "request_uri"));
        assertThat(locations.get(2).returns()).isEqualTo(new Return(410, List.of()));
        assertThat(locations.get(3).returns().status()).as("a URL alone, as nginx: 302").isEqualTo(302);
        assertThat(locations.get(4).returns().text()).extracting(Return.Part::literal, Return.Part::variable)
                .containsExactly(tuple("/item/", null), tuple(null, "1"), tuple("x/", null), tuple(null, "slug"),
                        tuple(null, "is_args"), tuple(null, "args"));
        assertThat(locations.get(4).returns().text().get(1).isCapture()).isTrue();
        assertThat(locations.get(4).returns().text().get(3).isCapture()).isTrue();
        assertThat(locations.get(4).returns().text().get(4).isCapture()).isFalse();
    }

    @Test
    void aCaptureIsOneDigitAsNginxReadsIt() {
        Return answer = Return.parse("200 $10", Pattern.compile("^/(a)$"));
        assertThat(answer.text()).containsExactly(new Return.Part(null, "1"), new Return.Part("0", null));
    }

    @Test
    void onlyAGroupOfTheRegexIsANamedCaptureNotTextThatLooksLikeOne() {
        assertThat(Return.parse("302 /r/$x", Pattern.compile("^/p/(?<x>[a-z]+)$")).text())
                .containsExactly(new Return.Part("/r/", null), new Return.Part(null, "x"));
        assertThatThrownBy(() -> Return.parse("302 /r/$x", Pattern.compile("^/p\\(?<x>\\)$")))
                .hasMessageContaining("unknown variable $x");
        assertThatThrownBy(() -> Return.parse("302 /r/$x", Pattern.compile("^/p[(?<x>)]$")))
                .hasMessageContaining("unknown variable $x");
    }

    @Test
    void aTextMayHoldLineFeedsButAUrlNoWhiteSpace() {
        assertThat(Return.parse("200 a\nb", null).text()).containsExactly(new Return.Part("a\nb", null));
        assertThatThrownBy(() -> Return.parse("302 /a\tb", null)).hasMessageContaining("white space");
        assertThatThrownBy(() -> Return.parse("200 a\rb", null)).hasMessageContaining("control character");
        assertThatThrownBy(() -> Return.parse("204 nothing", null)).hasMessageContaining("no body");
    }

    @Test
    void aQuotedTextOrUrlLosesItsQuotesAsNginxsDoesItsVariablesKept() {
        assertThat(Return.parse("200 'a b'", null).text()).containsExactly(new Return.Part("a b", null));
        assertThat(Return.parse("200 \"a b\"", null).text()).containsExactly(new Return.Part("a b", null));
        assertThat(Return.parse("200 \"x $uri 'y'\"", null).text()).containsExactly(new Return.Part("x ", null),
                new Return.Part(null, "uri"), new Return.Part(" 'y'", null));
        assertThat(Return.parse("200 'x $uri \"y\"'", null).text()).containsExactly(new Return.Part("x ", null),
                new Return.Part(null, "uri"), new Return.Part(" \"y\"", null));
        assertThat(Return.parse("200 ''", null).text()).as("nginx's empty text").isEmpty();
        assertThat(Return.parse("301 '/b/$1'", Pattern.compile("^/a/(.*)$")).text())
                .containsExactly(new Return.Part("/b/", null), new Return.Part(null, "1"));
        assertThat(Return.parse("'https://example.org/'", null))
                .isEqualTo(new Return(302, List.of(new Return.Part("https://example.org/", null))));
        assertThat(Return.parse("200 a'b'", null).text()).as("quotes inside a word are its own, as nginx's")
                .containsExactly(new Return.Part("a'b'", null));
        assertThatThrownBy(() -> Return.parse("200 'a' 'b'", null)).hasMessageContaining("after its closing '");
        assertThatThrownBy(() -> Return.parse("200 \"a b", null)).hasMessageContaining("without its closing");
    }

    @Test
    void badReturnsAreListedWithWhatIsWrong() throws Exception {
        Path file = EdgeConfFile.write(dir, """
                fastcgi.backends.php { addresses = ["127.0.0.1:9000"] }
                sites = [{ root = www, locations = [
                  { match = "/a/", return = "301" }
                  { match = "/b/", return = "200 $nope" }
                  { match = "/c/", return = "200 $1" }
                  { match = "~ ^/d/(.*)$", return = "301 /$2" }
                  { match = "/e/", return = 99 }
                  { match = "/f/", return = "hello" }
                  { match = "/g/", return = 403, fastcgi = php }
                  { match = "/h/", return = "444 bye" }
                  { match = "/i/", return = "200 cost: 5$" }
                  { match = "/j/", return = 404, internal = true }
                  { match = "/k/", return = "200 ${unclosed" }
                ] }]
                """);
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(file));
        assertThat(e).isNotNull();
        assertThat(e.problems()).extracting(ConfigProblem::line, ConfigProblem::key, ConfigProblem::message)
                .containsExactlyInAnyOrder(
                        tuple(4, "edge.sites[0].locations[0].return", "\"301\" has no URL for its redirect (301)"),
                        tuple(5, "edge.sites[0].locations[1].return", "\"200 $nope\" has unknown variable $nope (known: "
                                + "$args, $content_length, $content_type, $document_uri, $host, $http2, $https, $is_args, "
                                + "$proxy_add_x_forwarded_for, $proxy_host, $query_string, $remote_addr, $remote_port, "
                                + "$request_id, $request_method, "
                                + "$request_uri, $scheme, $secure_link, $secure_link_expires, $server_addr, $server_name, $server_port, $server_protocol, "
                                + "$ssl_cipher, $ssl_client_cert, $ssl_client_escaped_cert, $ssl_client_fingerprint, $ssl_client_i_dn,"
                                + " $ssl_client_raw_cert, $ssl_client_s_dn, $ssl_client_serial, $ssl_client_v_end, $ssl_client_v_remain,"
                                + " $ssl_client_v_start, $ssl_client_verify, $ssl_protocol, $ssl_server_name, "
                                + "$uri, $http_<header>, $arg_<name>, $cookie_<name>)"),
                        tuple(6, "edge.sites[0].locations[2].return",
                                "\"200 $1\" has capture $1 in a location whose match is no regex"),
                        tuple(7, "edge.sites[0].locations[3].return",
                                "\"301 /$2\" has capture $2, but the location's regex has 1 group"),
                        tuple(8, "edge.sites[0].locations[4].return", "\"99\" has status 99, not from 200 to 599"),
                        tuple(9, "edge.sites[0].locations[5].return",
                                "\"hello\" starts with \"hello\", neither a status nor a URL"),
                        tuple(10, "edge.sites[0].locations[6].return",
                                "set in a location with fastcgi = \"php\", which it would never reach"),
                        tuple(11, "edge.sites[0].locations[7].return",
                                "\"444 bye\" has a text with 444, which answers nothing"),
                        tuple(12, "edge.sites[0].locations[8].return", "\"200 cost: 5$\" has a \"$\" that starts no "
                                + "variable name at index 7 of its text (a variable is $name or ${name}; a capture $1 "
                                + "to $9)"),
                        tuple(13, "edge.sites[0].locations[9].internal", "true in a location with return"),
                        tuple(14, "edge.sites[0].locations[10].return",
                                "\"200 ${unclosed\" has a \"${\" without its \"}\""));
    }

    @Test
    void accessRulesAreReadInOrderAndTheFirstThatHoldsTheClientDecides() throws Exception {
        EdgeSettings settings = new ConfigLoader().load(EdgeConfFile.write(dir, """
                location-defaults.access = ["deny 192.0.2.1"]
                sites = [{ root = www, locations = [
                  { match = "/" }
                  { match = "/admin/", access = ["allow 10.0.0.0/8", "allow 2001:db8::/32", "deny all"] }
                  { match = "/open/", access = [] }
                ] }]
                """));
        List<LocationSettings> locations = settings.sites().get(0).locations();
        assertThat(locations.get(0).access()).as("location-defaults'").hasToString("[deny 192.0.2.1/32]");
        List<AccessRule> admin = locations.get(1).access();
        assertThat(admin).as("a location's own list replaces the defaults'").hasSize(3);
        assertThat(AccessRule.allows(admin, InetAddress.getByName("10.1.2.3"))).isTrue();
        assertThat(AccessRule.allows(admin, InetAddress.getByName("2001:db8::7"))).isTrue();
        assertThat(AccessRule.allows(admin, InetAddress.getByName("192.168.1.1"))).isFalse();
        assertThat(AccessRule.allows(admin, InetAddress.getByName("::1"))).isFalse();
        assertThat(AccessRule.allows(locations.get(0).access(), InetAddress.getByName("192.0.2.1"))).isFalse();
        assertThat(AccessRule.allows(locations.get(0).access(), InetAddress.getByName("192.0.2.2")))
                .as("a client no rule names is let in, as nginx lets it").isTrue();
        assertThat(locations.get(2).access()).isEmpty();
    }

    @Test
    void badAccessRulesAreListedWithWhatIsWrong() throws Exception {
        Path file = EdgeConfFile.write(dir, """
                sites = [{ root = www, locations = [
                  { match = "/", access = ["permit 10.0.0.1", "deny example.org", "allow", "deny 10.0.0.7/8",
                    "allow all", "deny 10.0.0.1", "deny 1.2.3.4 5.6.7.8"] }
                ] }]
                """);
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(file));
        assertThat(e).isNotNull();
        assertThat(e.problems()).extracting(ConfigProblem::key, ConfigProblem::message).containsExactlyInAnyOrder(
                tuple("edge.sites[0].locations[0].access[0]", "\"permit 10.0.0.1\" starts with \"permit\", not allow or deny"),
                tuple("edge.sites[0].locations[0].access[1]", "\"deny example.org\" is not an IP address"),
                tuple("edge.sites[0].locations[0].access[2]", "\"allow\" names no clients"),
                tuple("edge.sites[0].locations[0].access[3]", "\"deny 10.0.0.7/8\" has bits set past its /8"),
                tuple("edge.sites[0].locations[0].access[5]", "\"deny 10.0.0.1\" follows an \"allow all\" or \"deny all\","
                        + " which decides for every client first"),
                tuple("edge.sites[0].locations[0].access[6]", "\"deny 1.2.3.4 5.6.7.8\" has more than two words"));
    }

    @Test
    void aRewriteSetsOrKeepsTheQueryAsNginxDoes() throws Exception {
        EdgeSettings settings = new ConfigLoader().load(EdgeConfFile.write(dir, """
                sites = [{ root = www, locations = [
                  { match = "~ ^/article/([0-9]+)$", rewrite = "/article.php?id=$1" }
                  { match = "~ ^/b/(.*)$", rewrite = "/b.php?id=$1?" }
                  { match = "/c/", rewrite = "/c.php?" }
                  { match = "/d/", rewrite = "/d$uri" }
                ] }]
                """));
        List<LocationSettings> locations = settings.sites().get(0).locations();
        assertThat(locations).extracting(LocationSettings::handler).containsOnly(LocationSettings.Handler.REWRITE);
        Rewrite article = locations.get(0).rewrite();
        assertThat(article.path()).containsExactly(new Return.Part("/article.php", null));
        assertThat(article.query()).containsExactly(new Return.Part("id=", null), new Return.Part(null, "1"));
        assertThat(article.setsQuery()).isTrue();
        assertThat(article.keepsQuery()).as("new arguments, the request's appended").isTrue();
        assertThat(locations.get(1).rewrite().keepsQuery()).as("a trailing ? drops the request's").isFalse();
        assertThat(locations.get(1).rewrite().query()).containsExactly(new Return.Part("id=", null),
                new Return.Part(null, "1"));
        assertThat(locations.get(2).rewrite()).isEqualTo(new Rewrite(List.of(new Return.Part("/c.php", null)),
                List.of(), true, false));
        assertThat(locations.get(3).rewrite().setsQuery()).as("no ?: the request's query stays").isFalse();
        assertThat(locations.get(3).rewrite().keepsQuery()).isTrue();
    }

    @Test
    void badRewritesAreListedWithWhatIsWrong() throws Exception {
        Path file = EdgeConfFile.write(dir, """
                fastcgi.backends.php { addresses = ["127.0.0.1:9000"] }
                sites = [{ root = www, locations = [
                  { match = "/a/", rewrite = "article.php" }
                  { match = "/b/", rewrite = "/b.php?id=$1" }
                  { match = "/c/", rewrite = "/c.php", return = 404 }
                  { match = "/d/", rewrite = "/d.php", fastcgi = php }
                  { match = "/e/", rewrite = "/e f" }
                  { match = "/f/", rewrite = "/100%/x" }
                ] }]
                """);
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(file));
        assertThat(e).isNotNull();
        assertThat(e.problems()).extracting(ConfigProblem::line, ConfigProblem::key, ConfigProblem::message)
                .containsExactlyInAnyOrder(
                        tuple(4, "edge.sites[0].locations[0].rewrite", "\"article.php\" does not start with \"/\""),
                        tuple(5, "edge.sites[0].locations[1].rewrite",
                                "\"/b.php?id=$1\" has capture $1 in a location whose match is no regex"),
                        tuple(6, "edge.sites[0].locations[2].rewrite", "set in a location with a return, which answers first"),
                        tuple(7, "edge.sites[0].locations[3].rewrite",
                                "set in a location with fastcgi = \"php\", which it would never reach"),
                        tuple(8, "edge.sites[0].locations[4].rewrite",
                                "\"/e f\" has white space or a control character"),
                        tuple(9, "edge.sites[0].locations[5].rewrite", "\"/100%/x\" has a % not followed by two hex"
                                + " digits in its path (a percent sign is %25: the path is decoded as a request's)"));
    }

    @Test
    void aLimitReqIsReadWithNginxsRatesAndLocationsNamingAZoneShareIt() throws Exception {
        EdgeSettings settings = new ConfigLoader().load(EdgeConfFile.write(dir, """
                sites = [{ root = www, locations = [
                  { match = "/" }
                  { match = "= /login", limit-req { rate = "5r/s", burst = 10, nodelay = true, zone = auth } }
                  { match = "= /reset", limit-req { rate = "5 r/s", zone = auth } }
                  { match = "/api/", limit-req { rate = "30 r/m", status = 503 } }
                ] }]
                """));
        List<LocationSettings> locations = settings.sites().get(0).locations();
        assertThat(locations.get(0).limitReqs()).isEmpty();
        assertThat(locations.get(1).limitReqs()).containsExactly(new LimitReq("zone auth", 5, 10, 10, 429, 128));
        assertThat(locations.get(2).limitReqs()).containsExactly(new LimitReq("zone auth", 5, 0, 0, 429, 128));
        assertThat(locations.get(3).limitReqs()).containsExactly(
                new LimitReq("location edge.sites[0].locations[3].limit-req", 0.5, 0, 0, 503, 128));
        assertThat(locations.get(3).limitReqs().get(0).rateText()).isEqualTo("30r/m");
    }

    @Test
    void badLimitReqsAreListedWithWhatIsWrong() throws Exception {
        Path file = EdgeConfFile.write(dir, """
                sites = [{ root = www, locations = [
                  { match = "/a/", limit-req { burst = 5 } }
                  { match = "/b/", limit-req { rate = "fast" } }
                  { match = "/c/", limit-req { rate = "0 r/s" } }
                  { match = "/d/", limit-req { rate = "2 r/s", zone = z } }
                  { match = "/e/", limit-req { rate = "3 r/s", zone = z } }
                  { match = "/f/", limit-req { rate = "1 r/s", status = 302 } }
                ] }]
                """);
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(file));
        assertThat(e).isNotNull();
        assertThat(e.problems()).extracting(ConfigProblem::line, ConfigProblem::key, ConfigProblem::message)
                .containsExactlyInAnyOrder(
                        tuple(3, "edge.sites[0].locations[0].limit-req.burst", "set without a rate, which a limit needs"),
                        tuple(4, "edge.sites[0].locations[1].limit-req.rate", "\"fast\" is not a rate"),
                        tuple(5, "edge.sites[0].locations[2].limit-req.rate", "\"0 r/s\" allows no request"),
                        tuple(7, "edge.sites[0].locations[4].limit-req.rate", "\"3 r/s\" differs from the rate "
                                + "edge.sites[0].locations[3].limit-req gives zone z, whose table of clients is one"),
                        tuple(8, "edge.sites[0].locations[5].limit-req.status", "302 is out of range"));
    }

    @Test
    void aLimitUnderLocationDefaultsWithoutItsRateOrMaxIsNamedByTheKeyWrittenThere() throws Exception {
        Path file = EdgeConfFile.write(dir, """
                location-defaults {
                  limit-req { nodelay = true }
                  limit-conn {
                    status = 503
                  }
                }
                sites = [{ root = www }]
                """);
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(file));
        assertThat(e).isNotNull();
        assertThat(e.problems()).extracting(ConfigProblem::line, ConfigProblem::key, ConfigProblem::message)
                .containsExactlyInAnyOrder(
                        tuple(3, "edge.location-defaults.limit-req.nodelay", "set without a rate, which a limit needs"),
                        tuple(5, "edge.location-defaults.limit-conn.status", "set without a max, which a limit needs"));
    }
}
