package io.edge.conf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.entry;
import static org.assertj.core.api.Assertions.tuple;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A location's {@code headers} (nginx's add_header) and {@code always-headers} (add_header ... always) onto
 * LocationSettings, and what is refused.
 */
class HeadersConfigTest {

    @TempDir
    Path dir;

    @Test
    void aLocationsHeadersAreAddedToThoseOfTheDefaults() throws Exception {
        EdgeSettings settings = new ConfigLoader().load(EdgeConfFile.write(dir, """
                location-defaults.headers { X-Content-Type-Options = nosniff }
                sites = [{ root = www, locations = [
                  { match = "/" },
                  { match = "/api/", headers { "Access-Control-Allow-Origin" = "*", Cache-Control = "no-store" } }
                ] }]
                """));
        assertThat(settings.sites().get(0).locations().get(0).headers())
                .containsExactly(entry("X-Content-Type-Options", VariableText.of("nosniff")));
        assertThat(settings.sites().get(0).locations().get(1).headers()).containsOnly(
                entry("Access-Control-Allow-Origin", VariableText.of("*")), entry("Cache-Control", VariableText.of("no-store")),
                entry("X-Content-Type-Options", VariableText.of("nosniff")));
    }

    @Test
    void aLocationsHeaderOfTheSameNameReplacesTheDefaultsAndAnEmptyOneIsKeptToDropIt() throws Exception {
        // An empty value adds no field (ServerExchange, as nginx): "" is how one location drops a default
        EdgeSettings settings = new ConfigLoader().load(EdgeConfFile.write(dir, """
                location-defaults.headers { X-Frame-Options = DENY }
                sites = [{ root = www, locations = [
                  { match = "/" },
                  { match = "/embed/", headers { X-Frame-Options = SAMEORIGIN } },
                  { match = "/widget/", headers { X-Frame-Options = "" } }
                ] }]
                """));
        assertThat(settings.sites().get(0).locations().get(1).headers())
                .containsExactly(entry("X-Frame-Options", VariableText.of("SAMEORIGIN")));
        assertThat(settings.sites().get(0).locations().get(2).headers()).containsExactly(entry("X-Frame-Options", VariableText.of("")));
    }

    @Test
    void noneByDefault() throws Exception {
        EdgeSettings settings = new ConfigLoader().load(EdgeConfFile.write(dir, "sites = [{ root = www }]"));
        assertThat(settings.sites().get(0).locations().get(0).headers()).isEmpty();
    }

    @Test
    void badNamesEdgesOwnHeadersLineBreaksAndNamesTwiceAreProblemsWithTheirLines() throws Exception {
        Path file = EdgeConfFile.write(dir, """
                sites = [{ root = www, locations = [
                  { match = "/a/", headers { "X Bad" = v } },
                  { match = "/b/", headers { Content-Length = "5" } },
                  { match = "/c/", headers { X-Split = "a\\r\\nSet-Cookie: x=1" } },
                  { match = "/d/", headers { X-Twice = a, x-twice = b } }
                ] }]
                """);
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(file));
        assertThat(e).isNotNull();
        assertThat(e.problems()).extracting(ConfigProblem::line, ConfigProblem::message).containsExactlyInAnyOrder(
                tuple(3, "\"X Bad\" is not a header name"),
                tuple(4, "Content-Length is edge's to set"),
                tuple(5, "\"a\\r\\nSet-Cookie: x=1\" is not a header value"),
                tuple(6, "x-twice is set twice (names are compared ignoring case)"));
    }

    @Test
    void alwaysHeadersMergeWithTheDefaultsAsHeadersDo() throws Exception {
        EdgeSettings settings = new ConfigLoader().load(EdgeConfFile.write(dir, """
                location-defaults.always-headers { Strict-Transport-Security = "max-age=31536000", X-Frame-Options = DENY }
                sites = [{ root = www, locations = [
                  { match = "/" },
                  { match = "/embed/", always-headers { X-Frame-Options = SAMEORIGIN, X-Robots-Tag = noindex } },
                  { match = "/widget/", always-headers { X-Frame-Options = "" } }
                ] }]
                """));
        List<LocationSettings> locations = settings.sites().get(0).locations();
        assertThat(locations.get(0).alwaysHeaders()).containsOnly(
                entry("Strict-Transport-Security", VariableText.of("max-age=31536000")), entry("X-Frame-Options", VariableText.of("DENY")));
        assertThat(locations.get(1).alwaysHeaders()).containsOnly(entry("Strict-Transport-Security", VariableText.of("max-age=31536000")),
                entry("X-Frame-Options", VariableText.of("SAMEORIGIN")), entry("X-Robots-Tag", VariableText.of("noindex")));
        assertThat(locations.get(2).alwaysHeaders()).containsOnly(
                entry("Strict-Transport-Security", VariableText.of("max-age=31536000")), entry("X-Frame-Options", VariableText.of("")));
        assertThat(locations).allSatisfy(location -> assertThat(location.headers()).isEmpty());
        assertThat(settings.alwaysHeaders()).as("the defaults', for answers no location gives").containsOnly(
                entry("Strict-Transport-Security", VariableText.of("max-age=31536000")), entry("X-Frame-Options", VariableText.of("DENY")));
    }

    @Test
    void noAlwaysHeadersByDefault() throws Exception {
        EdgeSettings settings = new ConfigLoader().load(EdgeConfFile.write(dir, "sites = [{ root = www }]"));
        assertThat(settings.sites().get(0).locations().get(0).alwaysHeaders()).isEmpty();
        assertThat(settings.alwaysHeaders()).isEmpty();
    }

    @Test
    void alwaysHeadersAreCheckedAsHeadersAre() throws Exception {
        Path file = EdgeConfFile.write(dir, """
                sites = [{ root = www, locations = [
                  { match = "/a/", always-headers { "X Bad" = v } },
                  { match = "/b/", always-headers { Connection = close } },
                  { match = "/c/", always-headers { X-Split = "a\\r\\nSet-Cookie: x=1" } },
                  { match = "/d/", always-headers { X-Twice = a, x-twice = b } },
                  { match = "/e/", always-headers { Access-Control-Allow-Origin = "$http_origin", X-Root = "$document_root" } }
                ] }]
                """);
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(file));
        assertThat(e).isNotNull();
        assertThat(e.problems()).extracting(ConfigProblem::line, ConfigProblem::key, ConfigProblem::message)
                .containsExactlyInAnyOrder(
                        tuple(3, "edge.sites[0].locations[0].always-headers.\"X Bad\"", "\"X Bad\" is not a header name"),
                        tuple(4, "edge.sites[0].locations[1].always-headers.Connection", "Connection is edge's to set"),
                        tuple(5, "edge.sites[0].locations[2].always-headers.X-Split",
                                "\"a\\r\\nSet-Cookie: x=1\" is not a header value"),
                        tuple(6, "edge.sites[0].locations[3].always-headers.x-twice",
                                "x-twice is set twice (names are compared ignoring case)"),
                        tuple(7, "edge.sites[0].locations[4].always-headers.X-Root", "\"$document_root\" names"
                                + " nginx's $document_root, which edge does not have in always-headers (known: $args,"
                                + " $content_length, $content_type, $document_uri, $host, $http2, $https, $is_args,"
                                + " $proxy_add_x_forwarded_for, $proxy_host, $query_string, $remote_addr, $remote_port,"
                                + " $request_id, $request_method,"
                                + " $request_uri, $scheme, $secure_link, $secure_link_expires, $server_addr, $server_name, $server_port, $server_protocol,"
                                + " $ssl_cipher, $ssl_client_cert, $ssl_client_escaped_cert, $ssl_client_fingerprint, $ssl_client_i_dn,"
                                + " $ssl_client_raw_cert, $ssl_client_s_dn, $ssl_client_serial, $ssl_client_v_end, $ssl_client_v_remain,"
                                + " $ssl_client_v_start, $ssl_client_verify, $ssl_protocol, $ssl_server_name,"
                                + " $uri, $upstream_cache_status, $http_<header>, $arg_<name>, $cookie_<name>; $$ for a literal $)"));
    }

    /**
     * A name in both headers and always-headers of a location is a problem where the location wrote it (it would go out
     * twice on a 200), but not when one of them is "" (how a location drops a default's to move it to the other).
     */
    @Test
    void aNameInBothHeadersAndAlwaysHeadersIsAProblemWhereTheLocationWroteIt() throws Exception {
        Path file = EdgeConfFile.write(dir, """
                location-defaults.headers { X-Frame-Options = DENY }
                sites = [{ root = www, locations = [
                  { match = "/", always-headers { x-frame-options = DENY } },
                  { match = "/both/", headers { X-A = 1 }, always-headers { X-A = 2 } },
                  { match = "/moved/", headers { X-Frame-Options = "" }, always-headers { X-Frame-Options = DENY } }
                ] }]
                """);
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(file));
        assertThat(e).isNotNull();
        assertThat(e.problems()).extracting(ConfigProblem::line, ConfigProblem::key, ConfigProblem::message)
                .containsExactly(
                        tuple(4, "edge.sites[0].locations[0].always-headers.x-frame-options",
                                "x-frame-options is in both headers and always-headers (names are compared ignoring"
                                + " case)"),
                        tuple(5, "edge.sites[0].locations[1].always-headers.X-A",
                                "X-A is in both headers and always-headers (names are compared ignoring case)"));
        assertThat(e.problems().get(0).expected()).isEqualTo("each name in one of them: always-headers for every"
                + " answer, headers for the statuses of nginx's add_header; x-frame-options = \"\" drops a default's");
    }

    @Test
    void aDefaultsNameInBothIsAProblemOnceAtTheDefaults() throws Exception {
        Path file = EdgeConfFile.write(dir, """
                location-defaults {
                  headers { X-Content-Type-Options = nosniff }
                  always-headers { X-Content-Type-Options = nosniff }
                }
                sites = [{ root = www, locations = [{ match = "/" }, { match = "/b/" }] }]
                """);
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(file));
        assertThat(e).isNotNull();
        assertThat(e.problems()).extracting(ConfigProblem::line, ConfigProblem::key).containsExactly(
                tuple(4, "edge.location-defaults.always-headers.X-Content-Type-Options"));
    }
}
