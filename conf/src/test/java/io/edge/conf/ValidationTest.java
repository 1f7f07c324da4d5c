package io.edge.conf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.entry;
import static org.assertj.core.api.Assertions.tuple;

import io.edge.fastcgi.BackendGroupSettings;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One rule per test: each bad value gives one problem naming its key, line and what was expected. */
class ValidationTest {

    private static final String SITE = "sites = [{ root = www }]";

    @TempDir
    Path dir;

    @Test
    void unknownKeySuggestsTheNearestKnownOne() {
        ConfigProblem problem = single(SITE + "\nserver.max-conections = 5");
        assertThat(problem.key()).isEqualTo("edge.server.max-conections");
        assertThat(problem.message()).isEqualTo("unknown key (did you mean \"max-connections\"?)");
        assertThat(problem.line()).isEqualTo(3);
    }

    /** A key written a level too high is pointed to where it is known (there was no suggestion: the config audit). */
    @Test
    void aKeyWrittenALevelTooHighIsPointedToWhereItBelongs() {
        ConfigProblem problem = single(SITE + "\nserver.keep-alive-requests = 5");
        assertThat(problem.key()).isEqualTo("edge.server.keep-alive-requests");
        assertThat(problem.message()).isEqualTo("unknown key (did you mean \"limits.keep-alive-requests\"?)");
        assertThat(single(SITE + "\npid-file = edge.pid").message())
                .isEqualTo("unknown key (did you mean \"server.pid-file\"?)");
    }

    @Test
    void unknownKeyWithoutAnyCloseNameHasNoSuggestion() {
        assertThat(single(SITE + "\nserver.banana = 1").message()).isEqualTo("unknown key");
    }

    /** Without a close name to suggest, what is expected is one of the keys known where it was written. */
    @Test
    void unknownKeyWithoutAnyCloseNameListsTheKeysKnownThere() {
        ConfigProblem problem = single("sites = [{ root = www, bananas { X-Frame-Options = DENY } }]");
        assertThat(problem.key()).isEqualTo("edge.sites[0].bananas");
        assertThat(problem.message()).isEqualTo("unknown key");
        assertThat(problem.expected())
                .isEqualTo("one of default, dotfiles, error-pages, index, listen, locations, rewrites, root, server-names, symlinks, tls");
        assertThat(single(SITE + "\nserver.max-conections = 5").expected()).as("a suggestion says it already").isNull();
    }

    /**
     * nginx writes gzip, expires or add_header in a server block, index in a location: here a location's key in a site
     * was an unknown key with the site's keys to choose from, as if misspelt, and a site's key in a location the same.
     */
    @Test
    void aLocationsKeyInASiteAndASitesKeyInALocationAreSaidToBelongThere() {
        List<ConfigProblem> problems = problems("""
                sites = [{ root = www, gzip.enabled = true, headers { X-Frame-Options = DENY },
                  locations = [{ match = "/", index = ["index.php"] }] }]
                """);
        assertThat(problems).extracting(ConfigProblem::key, ConfigProblem::line, ConfigProblem::message,
                ConfigProblem::expected).containsExactlyInAnyOrder(
                tuple("edge.sites[0].gzip", 2, "unknown key here: gzip is a location's key",
                        "gzip in the site's locations, or under location-defaults for every location"),
                tuple("edge.sites[0].headers", 2, "unknown key here: headers is a location's key",
                        "headers in the site's locations, or under location-defaults for every location"),
                tuple("edge.sites[0].locations[0].index", 3, "unknown key here: index is a site's key",
                        "index in the site, or under site-defaults for every site"));
    }

    /**
     * nginx's per-server access_log names a file; edge's is server.access-log, one for every site, and a location's
     * access-log only says whether its requests go to it: a file named in a site or a location is pointed there, not
     * to the location's switch.
     */
    @Test
    void anAccessLogFileInASiteOrALocationIsPointedToTheServersLog() {
        List<ConfigProblem> problems = problems("""
                sites = [{ root = www, access-log = "/var/log/edge/site.log",
                  locations = [{ match = "/", access-log = "/var/log/edge/loc.log" }] }]
                """);
        String serverLog = "the log's file in server.access-log (one for every site); a location's access-log = false"
                + " keeps its requests out of it";
        assertThat(problems).extracting(ConfigProblem::key, ConfigProblem::line, ConfigProblem::message,
                ConfigProblem::expected).containsExactlyInAnyOrder(
                tuple("edge.sites[0].access-log", 2, "unknown key here: access-log is a location's key", serverLog),
                tuple("edge.sites[0].locations[0].access-log", 3, "\"/var/log/edge/loc.log\" is not a boolean",
                        "true or false (" + serverLog + ")"));
    }

    /** The same under the defaults: a location's key under site-defaults, a site's under location-defaults. */
    @Test
    void aLocationsKeyUnderSiteDefaultsAndASitesKeyUnderLocationDefaultsAreSaidToBelongThere() {
        List<ConfigProblem> problems = problems("""
                site-defaults { expires = 1 h }
                location-defaults { index = ["index.php"] }
                sites = [{ root = www }]
                """);
        assertThat(problems).extracting(ConfigProblem::key, ConfigProblem::line, ConfigProblem::message,
                ConfigProblem::expected).containsExactlyInAnyOrder(
                tuple("edge.site-defaults.expires", 2, "unknown key here: expires is a location's key",
                        "expires under location-defaults, or in the sites' locations"),
                tuple("edge.location-defaults.index", 3, "unknown key here: index is a site's key",
                        "index under site-defaults, or in the sites"));
    }

    @Test
    void unknownKeysInsideSitesLocationsAndBackendsAreFound() {
        List<ConfigProblem> problems = problems("""
                sites = [{ root = www, indx = [a], locations = [{ match = "/", fastcig = php }] }]
                fastcgi.backends.php { addresses = ["127.0.0.1:9000"], queue.max-waiter = 3 }
                """);
        assertThat(problems).extracting(ConfigProblem::key, ConfigProblem::message).containsExactlyInAnyOrder(
                tuple("edge.sites[0].indx", "unknown key (did you mean \"index\"?)"),
                tuple("edge.sites[0].locations[0].fastcig",
                        "unknown key (did you mean \"fastcgi\"?)"),
                tuple("edge.fastcgi.backends.php.queue.max-waiter",
                        "unknown key (did you mean \"max-waiters\"?)"));
    }

    @Test
    void unknownKeysInDefaultsAreReportedOnceWhereWritten() {
        List<ConfigProblem> problems = problems("""
                site-defaults.rooot = www
                location-defaults.fastcig = php
                fastcgi.backend-defaults.balanse = round-robin
                sites = [{ root = www, locations = [{ match = "/" }, { match = "/a/" }] }, { root = www }]
                fastcgi.backends.php.addresses = ["127.0.0.1:9000"]
                """);
        assertThat(problems).extracting(ConfigProblem::key, ConfigProblem::line).containsExactlyInAnyOrder(
                tuple("edge.site-defaults.rooot", 2),
                tuple("edge.location-defaults.fastcig", 3),
                tuple("edge.fastcgi.backend-defaults.balanse", 4));
    }

    @Test
    void backendDefaultsAreCheckedWithoutAnyBackend() {
        List<ConfigProblem> problems = problems(SITE + """

                fastcgi.backend-defaults { max-connections = -1, queue.timeout = 0,
                  addresses = ["nowhere"], spawn.ini = ["no equals sign"] }
                """);
        assertThat(problems).extracting(ConfigProblem::key, ConfigProblem::line).containsExactlyInAnyOrder(
                tuple("edge.fastcgi.backend-defaults.max-connections", 3),
                tuple("edge.fastcgi.backend-defaults.queue.timeout", 3),
                tuple("edge.fastcgi.backend-defaults.addresses[0]", 4),
                tuple("edge.fastcgi.backend-defaults.spawn.ini[0]", 4));
        assertThat(problems.get(0)).hasToString(dir.resolve("edge.conf")
                + ":3: edge.fastcgi.backend-defaults.max-connections: -1 is out of range (expected: a whole number >= 1)");
    }

    /**
     * status-allow guards the status page only: set on another location, as if it were nginx's allow, it would seem to
     * guard it while every client still reached it. A problem there; under location-defaults it applies to status.
     */
    @Test
    void statusAllowOutsideAStatusLocationIsAProblem() throws Exception {
        ConfigProblem problem = single(SITE.replace("root = www }", "root = www, locations = [{ match = \"/admin/\","
                + " status-allow = [\"10.0.0.0/8\"] }] }"));
        assertThat(problem.key()).isEqualTo("edge.sites[0].locations[0].status-allow");
        assertThat(problem.message()).isEqualTo("set in a location without status = true or fastcgi-script: it guards"
                + " status pages only, not this location");
        EdgeSettings defaults = new ConfigLoader().load(write(SITE.replace("root = www }", "root = www, locations = ["
                + "{ match = \"= /status\", status = true }, { match = \"/\" }] }")
                + "\nlocation-defaults.status-allow = [\"10.0.0.0/8\"]"));
        assertThat(defaults.sites().get(0).locations().get(0).statusAllow()).hasSize(1);
    }

    /**
     * A spawn block turned off is checked for form as one turned on, as nginx checks every directive: its mistakes
     * waited for the day it was turned on. What it names (an account of this machine, the binary) is not looked up.
     */
    @Test
    void aSpawnTurnedOffIsCheckedForFormAll() {
        List<ConfigProblem> problems = problems(SITE + """

                fastcgi.backends.other { addresses = ["127.0.0.1:9000"],
                  spawn { request-terminate-timeout = "abc", user = "no body", group = nosuchgroup,
                          ini = ["memory_limit = 1G", "no equals sign"], command = "/nonexistent/php-fpm" } }
                """);
        assertThat(problems).extracting(ConfigProblem::key).containsExactlyInAnyOrder(
                "edge.fastcgi.backends.other.spawn.request-terminate-timeout",
                "edge.fastcgi.backends.other.spawn.user",
                "edge.fastcgi.backends.other.spawn.ini[1]");
        assertThat(problems).extracting(ConfigProblem::message).contains("\"no body\" is not an account name");
    }

    @Test
    void responseBufferingIsMappedAndItsSizesChecked() throws Exception {
        BackendGroupSettings.ResponseBuffer defaults = new ConfigLoader().load(write(SITE
                + "\nfastcgi.backends.php.addresses = [\"127.0.0.1:9000\"]")).backends().get("php").responseBuffer();
        assertThat(defaults).isEqualTo(new BackendGroupSettings.ResponseBuffer(64 * 1024, 1L << 30));
        BackendGroupSettings.ResponseBuffer set = new ConfigLoader().load(write(SITE
                + "\nfastcgi.backends.php { addresses = [\"127.0.0.1:9000\"], response-buffer { memory = 8 KiB, "
                + "max-temp-file = 0, head-size = 4 KiB } }")).backends().get("php").responseBuffer();
        assertThat(set).isEqualTo(new BackendGroupSettings.ResponseBuffer(8192, 0, true, 4096));
        assertThat(defaults.headSize()).as("reference.conf's").isEqualTo(32 * 1024);
        BackendGroupSettings.ResponseBuffer off = new ConfigLoader().load(write(SITE
                + "\nfastcgi.backends.php { addresses = [\"127.0.0.1:9000\"], response-buffer.enabled = false }"))
                .backends().get("php").responseBuffer();
        assertThat(off).isEqualTo(new BackendGroupSettings.ResponseBuffer(64 * 1024, 1L << 30, false));
        List<ConfigProblem> problems = problems(SITE + """

                fastcgi.backends.php {
                  addresses = ["127.0.0.1:9000"]
                  response-buffer { memory = 1 GiB,
                    max-temp-file = lots
                    enabled = off-please
                    head-size = 100 }
                }
                """);
        assertThat(problems).extracting(ConfigProblem::key, ConfigProblem::line).containsExactlyInAnyOrder(
                tuple("edge.fastcgi.backends.php.response-buffer.memory", 5),
                tuple("edge.fastcgi.backends.php.response-buffer.max-temp-file", 6),
                tuple("edge.fastcgi.backends.php.response-buffer.enabled", 7),
                tuple("edge.fastcgi.backends.php.response-buffer.head-size", 8));
        assertThat(problems).filteredOn(p -> p.key().endsWith("head-size")).singleElement().hasToString(
                dir.resolve("edge.conf") + ":8: edge.fastcgi.backends.php.response-buffer.head-size: 100 is out of "
                + "range (expected: a size such as 1 MiB, from 1024 to 1048576 bytes)");
        // the example a size's problem gives is one the key takes: 16 MiB is past head-size's range
        assertThat(single(SITE + "\nfastcgi.backends.php { addresses = [\"127.0.0.1:9000\"], "
                + "response-buffer.head-size = lots }").toString()).endsWith(
                "\"lots\" is not a size (expected: a size such as 1 MiB)");
        assertThat(problems).filteredOn(p -> p.key().endsWith("memory")).singleElement().hasToString(
                dir.resolve("edge.conf") + ":5: edge.fastcgi.backends.php.response-buffer.memory: \"1 GiB\" is out of "
                + "range (expected: a size such as 16 MiB, from 0 to 67108864 bytes)");
    }

    @Test
    void aBadDefaultInheritedByBackendsIsReportedOnceAtTheDefaults() {
        List<ConfigProblem> problems = problems(SITE + """

                fastcgi.backend-defaults { max-connections = -1, queue.timeout = 0 }
                fastcgi.backends {
                  a { addresses = ["127.0.0.1:9000"] }
                  b { addresses = ["127.0.0.1:9001"], queue.max-waiters = 5 }
                  c { addresses = ["127.0.0.1:9002"], max-connections = 0 }
                }
                """);
        assertThat(problems).extracting(ConfigProblem::key, ConfigProblem::line).containsExactlyInAnyOrder(
                tuple("edge.fastcgi.backend-defaults.max-connections", 3),
                tuple("edge.fastcgi.backend-defaults.queue.timeout", 3),
                tuple("edge.fastcgi.backends.c.max-connections", 7));
    }

    @Test
    void aBadSiteOrLocationDefaultIsReportedOnceAtTheDefaults() {
        List<ConfigProblem> problems = problems("""
                site-defaults.dotfiles = maybe
                location-defaults.cache = perhaps
                sites = [{ root = www, locations = [{ match = "/" }, { match = "/a/" }] }, { root = www, dotfiles = no }]
                """);
        assertThat(problems).extracting(ConfigProblem::key, ConfigProblem::line).containsExactlyInAnyOrder(
                tuple("edge.site-defaults.dotfiles", 2),
                tuple("edge.location-defaults.cache", 3),
                tuple("edge.sites[1].dotfiles", 4));
    }

    @Test
    void locationsInheritedFromSiteDefaultsAreReportedOnceUnderTheDefaults() {
        List<ConfigProblem> problems = problems("""
                site-defaults.locations = [{ match = "/", fastcgi = nope }]
                sites = [{ root = www }, { root = www }]
                """);
        assertThat(problems).extracting(ConfigProblem::key, ConfigProblem::line)
                .containsExactly(tuple("edge.site-defaults.locations[0].fastcgi", 2));
    }

    /**
     * A location naming a backend that is there but broken got a second problem, "no backend named", which sent the
     * user to look for a backend they had written; the backend's own problem is the one. A name written nowhere still
     * is one.
     */
    @Test
    void aLocationNamingABrokenBackendAddsNoProblemOfItsOwn() {
        List<ConfigProblem> problems = problems("""
                sites = [{ root = www, locations = [{ match = "/", fastcgi = php }, { match = "/b/", fastcgi = "php fpm" },
                                                    { match = "/c/", fastcgi = env }, { match = "/d/", fastcgi = nope }] }]
                fastcgi.backends { php = 5, "php fpm" { addresses = ["127.0.0.1:9000"] }, env = ${NOPE_EDGE_BACKEND}
                                   ok { addresses = ["127.0.0.1:9001"] } }
                """);
        assertThat(problems).extracting(ConfigProblem::key).containsExactlyInAnyOrder(
                "edge.fastcgi.backends.php", "edge.fastcgi.backends.\"php fpm\"", "edge.fastcgi.backends.env",
                "edge.sites[0].locations[3].fastcgi");
        assertThat(problems("""
                sites = [{ root = www, locations = [{ match = "/", fastcgi = php }] }]
                fastcgi.backends = 5
                """)).extracting(ConfigProblem::key).containsExactly("edge.fastcgi.backends");
        assertThat(problems("""
                sites = [{ root = www, locations = [{ match = "/", fastcgi = php }] }]
                fastcgi = [php]
                """)).extracting(ConfigProblem::key).containsExactly("edge.fastcgi");
    }

    /**
     * fastcgi-params expand the request's variables, as nginx's fastcgi_param does (Debian's {@code HTTPS $https}); one
     * edge does not have (its FastCGI module's $document_root, or none of nginx's) is a problem naming those it has,
     * never sent as written. {@code $$} writes a literal {@code $}; a {@code $} before no name is kept (a price).
     */
    @Test
    void fastcgiParamsExpandTheRequestsVariablesAndAnUnknownOneIsAProblem() throws Exception {
        List<ConfigProblem> problems = problems("""
                sites = [{ root = www, locations = [{ match = "/", fastcgi = php, fastcgi-params {
                  HTTPS = "$https", SERVER_NAME_X = "${host}", FORWARDED = "for=$http_x_forwarded_for",
                  UPPER = "$Host", DB_PASSWORD = "pa$$w0rd", PRICE = "$5", SHELL = "$PATH", APP_ENV = prod,
                  ROOT = "$document_root", OPEN = "${host", EMPTY = "${}" } }] }]
                fastcgi.backends.php.addresses = ["127.0.0.1:9000"]
                """);
        assertThat(problems).extracting(ConfigProblem::key, ConfigProblem::line).containsExactly(
                tuple("edge.sites[0].locations[0].fastcgi-params.PRICE", 4),
                tuple("edge.sites[0].locations[0].fastcgi-params.SHELL", 4),
                tuple("edge.sites[0].locations[0].fastcgi-params.EMPTY", 5),
                tuple("edge.sites[0].locations[0].fastcgi-params.OPEN", 5),
                tuple("edge.sites[0].locations[0].fastcgi-params.ROOT", 5));
        assertThat(problems.get(0).message()).as("a capture, as nginx reads it: none outside a regex location")
                .isEqualTo("\"$5\" has capture $5 in a location whose match is no regex");
        assertThat(problems.get(2).message()).isEqualTo("\"${}\" has \"${}\", which names no variable");
        assertThat(problems.get(3).message()).isEqualTo("\"${host\" has a \"${\" without its \"}\"");
        assertThat(problems.get(4).message()).startsWith("\"$document_root\" names nginx's $document_root, which edge"
                + " does not have in fastcgi-params (known: $args, $content_length,");
        assertThat(problems.get(1).message()).startsWith("\"$PATH\" has unknown variable $path (known: $args,")
                .endsWith("$http_<header>, $arg_<name>, $cookie_<name>; $$ for a literal $)");
        assertThat(problems.get(1).expected()).isEqualTo("a value with the variables edge has, $$ for a literal $"
                + " before a name (\"$$name\" sends \"$name\")");

        Map<String, VariableText> params = new ConfigLoader().load(write("""
                sites = [{ root = www, locations = [{ match = "/", fastcgi = php, fastcgi-params {
                  HTTPS = "$https", SERVER_NAME_X = "${host}", UPPER = "$Host", DB_PASSWORD = "pa$$w0rd$",
                  PRICE = "US$ 5, $$5, $0", APP_ENV = prod, HTTPS_IF = "$https if_not_empty", NONE = " if_not_empty",
                  ON = "on if_not_empty" } }] }]
                fastcgi.backends.php.addresses = ["127.0.0.1:9000"]
                """)).sites().get(0).locations().get(0).fastcgiParams();
        assertThat(params.get("HTTPS").parts()).containsExactly(new Return.Part(null, "https"));
        assertThat(params.get("HTTPS").constant()).isNull();
        assertThat(params.get("SERVER_NAME_X").parts()).containsExactly(new Return.Part(null, "host"));
        assertThat(params.get("UPPER").parts()).as("names ignoring case").containsExactly(new Return.Part(null, "host"));
        assertThat(params.get("DB_PASSWORD").constant()).isEqualTo("pa$w0rd$");
        assertThat(params.get("PRICE").constant()).isEqualTo("US$ 5, $5, $0");
        assertThat(params.get("APP_ENV").constant()).isEqualTo("prod");
        assertThat(params.get("HTTPS").ifNotEmpty()).isFalse();
        assertThat(params.get("HTTPS_IF")).as("nginx's if_not_empty")
                .isEqualTo(new VariableText(List.of(new Return.Part(null, "https")), null, true));
        assertThat(params.get("ON")).isEqualTo(new VariableText(List.of(new Return.Part("on", null)), "on", true));
        assertThat(params).as("empty for sure: never sent").doesNotContainKey("NONE");
    }

    /**
     * So do headers, as nginx's add_header does (a CORS line, Access-Control-Allow-Origin $http_origin); a value with
     * none is a constant, built once.
     */
    @Test
    void headerValuesExpandTheRequestsVariables() throws Exception {
        LocationSettings location = new ConfigLoader().load(write("""
                sites = [{ root = www, locations = [{ match = "/", headers {
                  Access-Control-Allow-Origin = "$http_origin", X-Host = "${host}", X-Request-Id = "$request_id",
                  Link = "<https://$host$uri>; rel=canonical", X-Price = "$$5", X-Frame-Options = DENY,
                  X-Literal = "$$request_id" } }] }]
                """)).sites().get(0).locations().get(0);
        assertThat(location.headers().get("Link").parts()).containsExactly(new Return.Part("<https://", null),
                new Return.Part(null, "host"), new Return.Part(null, "uri"), new Return.Part(">; rel=canonical", null));
        assertThat(location.headers().get("X-Request-Id").parts()).containsExactly(new Return.Part(null, "request_id"));
        assertThat(location.headers().get("Access-Control-Allow-Origin").parts())
                .containsExactly(new Return.Part(null, "http_origin"));
        assertThat(location.headers().get("X-Price").constant()).isEqualTo("$5");
        assertThat(location.headers().get("X-Literal").constant()).isEqualTo("$request_id");
        assertThat(location.headers().get("X-Frame-Options")).isEqualTo(VariableText.of("DENY"));
        List<ConfigProblem> problems = problems("""
                sites = [{ root = www, locations = [{ match = "/", headers {
                  X-Foo = "$foo", X-Time = "$request_time" } }] }]
                """);
        assertThat(problems).extracting(ConfigProblem::key, ConfigProblem::line).containsExactly(
                tuple("edge.sites[0].locations[0].headers.X-Foo", 3),
                tuple("edge.sites[0].locations[0].headers.X-Time", 3));
        assertThat(problems.get(0).message()).startsWith("\"$foo\" has unknown variable $foo (known: $args,");
        assertThat(problems.get(1).message()).startsWith("\"$request_time\" names nginx's $request_time, which edge"
                + " does not have in headers (known:");
    }

    /**
     * A location regex's group named as one of edge's variables ({@code (?<host>...)}, {@code (?<Uri>...)}) is a
     * problem, as nginx refuses it ("the duplicate "host" variable"): its headers' and return's {@code $host} was read as
     * the capture and sent as the request's Host.
     */
    @Test
    void aGroupNamedAsAVariableIsAProblem() {
        List<ConfigProblem> problems = problems("""
                sites = [{ root = www, locations = [
                  { match = "~ ^/h/(?<host>[^/]+)/", headers { X-H = "$host" } }
                  { match = "~* ^/u/(?<Uri>.+)$", return = "200 $uri" }
                  { match = "~ ^/s/(?<size>\\\\d+)/", headers { X-Size = "$size" } }
                ] }]
                """);
        assertThat(problems).extracting(ConfigProblem::key, ConfigProblem::line).containsExactly(
                tuple("edge.sites[0].locations[0].match", 3), tuple("edge.sites[0].locations[1].match", 4));
        assertThat(problems.get(0).message()).isEqualTo("\"~ ^/h/(?<host>[^/]+)/\" has a group named host, one of"
                + " edge's variables ($host): nginx refuses it too (the duplicate \"host\" variable)");
    }

    /**
     * A server name's, a rewrite's or an if's group named as one of edge's variables ({@code (?<host>...)},
     * {@code (?<Scheme>...)}) is a problem too, as nginx refuses it ("the duplicate "host" variable"): its capture
     * went nowhere, a text's {@code $host} read the request's. A group of another name is taken.
     */
    @Test
    void aSiteRegexsGroupNamedAsAVariableIsAProblem() {
        List<ConfigProblem> problems = problems("""
                sites = [{ root = www, server-names = ["~^(?<host>.+)\\\\.example\\\\.com$", "~^(?<sub>.+)\\\\.org$"]
                  rewrites = [
                    { rewrite = "^/u/(?<uri>.+)$ /$uri" }
                    { if = "$http_x_forwarded_proto ~ ^(?<Scheme>https?)$", return = "403" }
                    { rewrite = "^/s/(?<slug>.+)$ /$sub/$slug" }
                  ]
                  locations = [{ match = "/", rewrites = [{ rewrite = "^/a/(?<https>.*)$ /a" }] }] }]
                """);
        assertThat(problems).extracting(ConfigProblem::key, ConfigProblem::line).containsExactly(
                tuple("edge.sites[0].server-names[0]", 2), tuple("edge.sites[0].rewrites[0].rewrite", 4),
                tuple("edge.sites[0].rewrites[1].if", 5), tuple("edge.sites[0].locations[0].rewrites[0].rewrite", 8));
        assertThat(problems.get(0).message()).isEqualTo("\"~^(?<host>.+)\\.example\\.com$\" has a group named host, one"
                + " of edge's variables ($host): nginx refuses it too (the duplicate \"host\" variable)");
        assertThat(problems.get(2).message()).isEqualTo("\"$http_x_forwarded_proto ~ ^(?<Scheme>https?)$\" has a"
                + " group named Scheme, one of edge's variables ($scheme): nginx refuses it too (the duplicate"
                + " \"scheme\" variable)");
        assertThat(problems).extracting(ConfigProblem::expected).containsOnly(LocationMatch.VARIABLE_GROUP_EXPECTED);
    }

    /**
     * A regex location's captures, $1 to $9 and its named groups, are its headers', always-headers' and
     * fastcgi-params' as its return's (nginx's add_header X-Size $size, fastcgi_param SIZE $1 after
     * {@code location ~ ^/img/(?<size>\d+)/}): a group's name read ignoring case as any variable's, and before a map's;
     * one its regex has not is a problem, as is any capture outside a regex location.
     */
    @Test
    void aRegexLocationsCapturesAreItsHeadersAndParams() throws Exception {
        LocationSettings location = new ConfigLoader().load(write("""
                server.maps.size { source = "$uri", values = [] }
                sites = [{ root = www, locations = [{ match = "~ ^/img/(?<size>\\\\d+)/(.+)$", fastcgi = php,
                  headers { X-Size = "$size", X-Name = "img-${2}", X-Upper = "$SIZE" },
                  always-headers { X-First = "$1" },
                  fastcgi-params { SIZE = "$size", NAME = "$2 if_not_empty" } }] }]
                fastcgi.backends.php.addresses = ["127.0.0.1:9000"]
                """)).sites().get(0).locations().get(0);
        assertThat(location.headers().get("X-Size").parts()).containsExactly(new Return.Part(null, "size"));
        assertThat(location.headers().get("X-Size").parts().get(0).isCapture()).as("the group's, not the map's")
                .isTrue();
        assertThat(location.headers().get("X-Upper").parts()).containsExactly(new Return.Part(null, "size"));
        assertThat(location.headers().get("X-Name").parts()).containsExactly(new Return.Part("img-", null),
                new Return.Part(null, "2"));
        assertThat(location.alwaysHeaders().get("X-First").parts()).containsExactly(new Return.Part(null, "1"));
        assertThat(location.fastcgiParams().get("SIZE").parts()).containsExactly(new Return.Part(null, "size"));
        assertThat(location.fastcgiParams().get("NAME"))
                .isEqualTo(new VariableText(List.of(new Return.Part(null, "2")), null, true));

        List<ConfigProblem> problems = problems("""
                sites = [{ root = www, locations = [
                  { match = "~ ^/img/(?<size>\\\\d+)/$", headers { X-Three = "$3", X-Width = "$width" } }
                  { match = "/thumbs/", always-headers { X-One = "$1" } } ] }]
                """);
        assertThat(problems).extracting(ConfigProblem::key, ConfigProblem::message).containsExactly(
                tuple("edge.sites[0].locations[0].headers.X-Three",
                        "\"$3\" has capture $3, but the location's regex has 1 group"),
                tuple("edge.sites[0].locations[0].headers.X-Width", "\"$width\" has unknown variable $width (known:"
                        + problems.get(1).message().substring(problems.get(1).message().indexOf("(known:") + 7)),
                tuple("edge.sites[0].locations[1].always-headers.X-One",
                        "\"$1\" has capture $1 in a location whose match is no regex"));
    }

    /**
     * fastcgi-params name CGI variables, never one edge derives from each request (a fixed SCRIPT_FILENAME would run
     * another script than the one asked for), and hold no line break; the others reach the location, by name. An HTTP_
     * one replaces the client's header, as nginx's fastcgi_param does (Symfony's HTTP_X_SENDFILE_TYPE).
     */
    @Test
    void fastcgiParamsAreCgiVariablesEdgeDoesNotDeriveFromTheRequest() throws Exception {
        List<ConfigProblem> problems = problems("""
                sites = [{ root = www, locations = [{ match = "/", fastcgi = php, fastcgi-params {
                  HTTPS = on, "1X" = a, "A-B" = b, SCRIPT_FILENAME = "/x.php", HTTP_HOST = h, EOL = "a\\nb" } }] }]
                fastcgi.backends.php.addresses = ["127.0.0.1:9000"]
                """);
        assertThat(problems).extracting(ConfigProblem::key, ConfigProblem::message).containsExactly(
                tuple("edge.sites[0].locations[0].fastcgi-params.1X", "\"1X\" is not a CGI variable name"),
                tuple("edge.sites[0].locations[0].fastcgi-params.A-B", "\"A-B\" is not a CGI variable name"),
                tuple("edge.sites[0].locations[0].fastcgi-params.EOL", "\"a\\u000ab\" has a control character"),
                tuple("edge.sites[0].locations[0].fastcgi-params.SCRIPT_FILENAME",
                        "SCRIPT_FILENAME is derived from each request"));
        assertThat(problems("""
                sites = [{ root = www, locations = [{ match = "/static/", fastcgi-params { HTTPS = on } }] }]
                """)).extracting(ConfigProblem::key, ConfigProblem::message).containsExactly(
                tuple("edge.sites[0].locations[0].fastcgi-params", "set in a location without fastcgi"));
        // php-fpm takes a pair in one PARAMS record: a longer value was every request of the location refused (414)
        ConfigProblem tooLong = single("sites = [{ root = www, locations = [{ match = \"/\", fastcgi = php, "
                + "fastcgi-params { APP_KEY = " + "k".repeat(65_523) + ", APP_ENV = " + "\u00e9".repeat(32_762)
                + " } }] }]\nfastcgi.backends.php.addresses = [\"127.0.0.1:9000\"]");
        assertThat(tooLong.key()).as("the value's UTF-8 bytes count").isEqualTo(
                "edge.sites[0].locations[0].fastcgi-params.APP_ENV");
        assertThat(tooLong.message()).isEqualTo("is 65524 bytes, more than a FastCGI record takes beside its name");
        assertThat(tooLong.expected()).isEqualTo("a value of at most 65523 bytes");
        EdgeSettings settings = new ConfigLoader().load(write("""
                location-defaults.fastcgi-params { HTTPS = on, APP_ENV = prod }
                sites = [{ root = www, locations = [{ match = "/", fastcgi = php, fastcgi-params { APP_ENV = dev,
                  SERVER_SOFTWARE = "nginx/1.22.1", HTTP_X_SENDFILE_TYPE = X-Accel-Redirect } }, { match = "/static/" }] }]
                fastcgi.backends.php.addresses = ["127.0.0.1:9000"]
                """));
        assertThat(settings.sites().get(0).locations().get(0).fastcgiParams()).containsExactly(
                entry("APP_ENV", VariableText.of("dev")), entry("HTTPS", VariableText.of("on")), entry("HTTP_X_SENDFILE_TYPE", VariableText.of("X-Accel-Redirect")),
                entry("SERVER_SOFTWARE", VariableText.of("nginx/1.22.1")));
    }

    /**
     * A location's gzip: level 1 to 9, a size for min-length, media types without parameters (or "*"), each once; on
     * where a backend answers, merged with location-defaults' as any object is; enabled in a location of files alone
     * is a problem, since files go as they are.
     */
    @Test
    void realIpTrustsTheProxiesItNamesForTheHeaderItNames() throws Exception {
        assertThat(problems("""
                server.real-ip { from = ["10.0.0.0/8", "proxy.example", "10.0.0.7/8"], header = "X Forwarded",
                  recursive = "sometimes" }
                sites = [{ root = www }]
                """)).extracting(ConfigProblem::key, ConfigProblem::expected).containsExactly(
                tuple("edge.server.real-ip.from[1]", "IP addresses or ranges such as \"127.0.0.1\", \"::1\" or "
                        + "\"10.0.0.0/8\""),
                tuple("edge.server.real-ip.from[2]", "IP addresses or ranges such as \"127.0.0.1\", \"::1\" or "
                        + "\"10.0.0.0/8\""),
                tuple("edge.server.real-ip.header", "a field name such as X-Forwarded-For or X-Real-IP"),
                tuple("edge.server.real-ip.recursive", "true or false"));
        assertThat(problems("server.real-ip.header = \"\"\nsites = [{ root = www }]"))
                .extracting(ConfigProblem::key).containsExactly("edge.server.real-ip.header");
        // nginx's real_ip_header proxy_protocol would read a request header of that name here, which clients can send
        for (String header : List.of("proxy_protocol", "Proxy-Protocol", "Forwarded")) {
            assertThat(problems("server.real-ip { from = [\"10.0.0.1\"], header = " + header + " }\n"
                    + "sites = [{ root = www }]")).as(header).singleElement()
                    .satisfies(p -> assertThat(p.key()).isEqualTo("edge.server.real-ip.header"));
        }
        assertThat(problems("server.real-ip { from = [\"10.0.0.1\"], header = proxy_protocol }\n"
                + "sites = [{ root = www }]")).singleElement().satisfies(p -> assertThat(p.expected())
                .startsWith("proxy-protocol = true"));
        assertThat(problems("server.real-ip.proxy-protocol = true\nsites = [{ root = www }]"))
                .extracting(ConfigProblem::key, ConfigProblem::message)
                .containsExactly(tuple("edge.server.real-ip.proxy-protocol", "true with no proxy in from"));
        EdgeSettings settings = new ConfigLoader().load(write("""
                server.real-ip { from = ["10.0.0.0/8", "::1"], header = X-Real-IP, recursive = true }
                sites = [{ root = www }]
                """));
        ServerSettings.RealIp realIp = settings.server().realIp();
        assertThat(realIp.from()).extracting(AddressRange::prefix).containsExactly(8, 128);
        assertThat(realIp.header()).isEqualTo("X-Real-IP");
        assertThat(realIp.recursive()).isTrue();
        assertThat(realIp.proxyProtocol()).isFalse();
        assertThat(realIp.enabled()).isTrue();
        assertThat(realIp.protoHeader()).as("none by default").isEmpty();
        assertThat(new ConfigLoader().load(write("sites = [{ root = www }]")).server().realIp())
                .isEqualTo(ServerSettings.RealIp.OFF);
    }

    /**
     * nginx's real_ip_header without set_real_ip_from, a known trap: the header was taken and never read, the client
     * being every request's proxy, without a word (proxy-protocol and proto-header said so already).
     */
    @Test
    void aRealIpHeaderOrRecursiveWithNoProxyInFromIsAProblem() throws Exception {
        assertThat(problems("server.real-ip { header = X-Real-IP, recursive = true }\nsites = [{ root = www }]"))
                .extracting(ConfigProblem::key, ConfigProblem::line, ConfigProblem::message, ConfigProblem::expected)
                .containsExactly(
                        tuple("edge.server.real-ip.header", 2, "\"X-Real-IP\" with no proxy in from",
                                "the addresses of the proxies that send it in from, or no header"),
                        tuple("edge.server.real-ip.recursive", 2, "true with no proxy in from",
                                "the addresses of the proxies in from, or false"));
        assertThat(new ConfigLoader().load(write("server.real-ip.recursive = false\nsites = [{ root = www }]")).server()
                .realIp()).as("false says nothing is read").isEqualTo(ServerSettings.RealIp.OFF);
    }

    /**
     * real-ip.proto-header: a field name the trusted proxies say the client's scheme in; meaningless without a proxy
     * trusted.
     */
    @Test
    void realIpProtoHeaderIsAFieldNameOfTrustedProxiesWithoutTheProxyProtocol() throws Exception {
        ServerSettings.RealIp realIp = new ConfigLoader().load(write("""
                server.real-ip { from = ["10.0.0.0/8"], proto-header = X-Forwarded-Proto }
                sites = [{ root = www }]
                """)).server().realIp();
        assertThat(realIp.protoHeader()).isEqualTo("X-Forwarded-Proto");
        assertThat(problems("""
                server.real-ip { from = ["10.0.0.0/8"], proto-header = "X Forwarded Proto" }
                sites = [{ root = www }]
                """)).extracting(ConfigProblem::key, ConfigProblem::expected).containsExactly(
                tuple("edge.server.real-ip.proto-header", "a field name such as X-Forwarded-Proto, or \"\" for none"));
        assertThat(problems("server.real-ip.proto-header = X-Forwarded-Proto\nsites = [{ root = www }]"))
                .extracting(ConfigProblem::key, ConfigProblem::message).containsExactly(
                        tuple("edge.server.real-ip.proto-header", "\"X-Forwarded-Proto\" with no proxy in from"));
        // a from whose every entry is wrong says so alone
        assertThat(problems("""
                server.real-ip { from = ["proxy.example"], proto-header = X-Forwarded-Proto }
                sites = [{ root = www }]
                """)).extracting(ConfigProblem::key).containsExactly("edge.server.real-ip.from[0]");
    }

    /**
     * A location's gzip or autoindex, or a backend's keep-alive, written without its switch while the defaults leave it
     * off did nothing, without a word: gzip { level = 6 } compressed nothing (nginx's gzip_comp_level without gzip on).
     * Written under the defaults, for the locations or backends that turn it on, or beside the switch written off,
     * it is no fault.
     */
    @Test
    void settingsOfAFeatureLeftOffAreAProblemWhereWrittenBesideNoSwitch() throws Exception {
        List<ConfigProblem> problems = problems("""
                sites = [{ root = www, locations = [
                  { match = "/", gzip { level = 6, types = ["text/html"] } }
                  { match = "/pub/", autoindex { format = json } }
                ] }]
                fastcgi.backends.php { addresses = ["127.0.0.1:9000"], keep-alive.max-requests = 50 }
                """);
        assertThat(problems).extracting(ConfigProblem::key, ConfigProblem::line, ConfigProblem::message,
                ConfigProblem::expected).containsExactlyInAnyOrder(
                tuple("edge.sites[0].locations[0].gzip.level", 3, "set while gzip is off",
                        "enabled = true beside it (or static = true, for files' .gz)"),
                tuple("edge.sites[0].locations[1].autoindex.format", 4, "set while autoindex is off",
                        "enabled = true beside it"),
                tuple("edge.fastcgi.backends.php.keep-alive.max-requests", 6, "set while keep-alive is off",
                        "enabled = true beside it"));
        assertThat(new ConfigLoader().load(write("""
                location-defaults { gzip.level = 6, autoindex.format = json }
                fastcgi.backend-defaults.keep-alive.max-requests = 50
                sites = [{ root = www, locations = [
                  { match = "/", gzip { enabled = true } }
                  { match = "/a/", gzip { static = true, level = 9 } }
                  { match = "/b/", gzip { enabled = false, level = 9 }, autoindex { enabled = false, format = xml } }
                ] }]
                fastcgi.backends.php { addresses = ["127.0.0.1:9000"], keep-alive { enabled = false, max-requests = 9 } }
                """)).sites().get(0).locations().get(0).gzip().level()).isEqualTo(6);
    }

    /** nginx's sub_filter, sub_filter_once, sub_filter_types, sub_filter_last_modified; location-defaults' laid under. */
    @Test
    void subFilterReplacesStringsWithVariablesInTheOrderWritten() throws Exception {
        EdgeSettings settings = new ConfigLoader().load(write("""
                location-defaults.sub-filter { replace = [{ match = "http://OLD.example", with = "https://$host" },
                  { match = "x", with = "" }], types = ["text/css"] }
                sites = [{ root = www, locations = [{ match = "/", sub-filter.once = false }, { match = "/a/" }] }]
                """));
        LocationSettings.SubFilter filter = settings.sites().get(0).locations().get(0).subFilter();
        assertThat(filter.once()).isFalse();
        assertThat(filter.lastModified()).isFalse();
        assertThat(filter.replace()).extracting(r -> r.match().constant()).containsExactly("http://OLD.example", "x");
        assertThat(filter.replace().get(0).with().constant()).isNull(); // $host: valued per request
        assertThat(filter.filters("text/css")).isTrue();
        assertThat(filter.filters("text/html")).isTrue();
        assertThat(filter.filters("text/plain")).isFalse();
        assertThat(settings.sites().get(0).locations().get(1).subFilter().once()).isTrue();
        assertThat(new ConfigLoader().load(write("""
                sites = [{ root = www, locations = [{ match = "/", sub-filter.once = false }] }]
                """)).sites().get(0).locations().get(0).subFilter()).as("no replace: none").isNull();
    }

    /** nginx's image_filter and its image_filter_* directives as a location's image-filter; location-defaults' under. */
    @Test
    void imageFilterTakesNginxsValuesAndVariables() throws Exception {
        EdgeSettings settings = new ConfigLoader().load(write("""
                location-defaults.image-filter { jpeg-quality = "$arg_q", buffer = 2 MiB }
                server.image-filter { workers = 3, queue = 5, max-pixels = 1000000, timeout = 3 s }
                sites = [{ root = www, locations = [
                  { match = "/r/", image-filter { filter = resize, width = "$arg_w", height = "-", rotate = 90 } },
                  { match = "/s/", image-filter.filter = size }, { match = "/o/" }] }]
                """));
        LocationSettings.ImageFilter resize = settings.sites().get(0).locations().get(0).imageFilter();
        assertThat(resize.action()).isEqualTo(LocationSettings.ImageFilter.Action.RESIZE);
        assertThat(resize.width().constant()).isNull(); // $arg_w: valued per request
        assertThat(resize.height().constant()).isEqualTo("-");
        assertThat(resize.rotate().constant()).isEqualTo("90");
        assertThat(resize.buffer()).isEqualTo(2 * 1024 * 1024);
        assertThat(resize.jpegQuality().constant()).isNull();
        assertThat(resize.sharpen().constant()).isEqualTo("0");
        assertThat(resize.transparency()).isTrue();
        assertThat(resize.interlace()).isFalse();
        assertThat(settings.sites().get(0).locations().get(1).imageFilter().action())
                .isEqualTo(LocationSettings.ImageFilter.Action.SIZE);
        assertThat(settings.sites().get(0).locations().get(2).imageFilter()).as("off: none").isNull();
        assertThat(settings.server().imageWorkers()).isEqualTo(new ServerSettings.ImageWorkers(3, 5, 1000000,
                Duration.ofSeconds(3)));
        assertThat(new ConfigLoader().load(write("sites = [{ root = www }]")).server().imageWorkers())
                .isEqualTo(ServerSettings.ImageWorkers.DEFAULT);
    }

    /** What nginx refuses at its start (image_filter resize 0 10, rotate 45, jpeg_quality 0) is a problem here. */
    @Test
    void imageFilterProblemsAreSaidAtTheirKeys() throws Exception {
        List<ConfigProblem> problems = problems("""
                sites = [{ root = www, locations = [
                  { match = "/a/", image-filter { filter = resize, width = 0, height = "x" } },
                  { match = "/b/", image-filter { filter = rotate, rotate = 45, jpeg-quality = 0 } },
                  { match = "/c/", image-filter { filter = crop } },
                  { match = "/d/", image-filter { filter = shrink, width = "$nope", buffer = 0 } }] }]
                server.image-filter.workers = -1
                server.image-filter.timeout = 0 s
                """);
        String at = "edge.sites[0].locations[";
        assertThat(problems).extracting(ConfigProblem::key).containsExactlyInAnyOrder(
                at + "0].image-filter.width", at + "0].image-filter.height", at + "1].image-filter.rotate",
                at + "1].image-filter.jpeg-quality", at + "2].image-filter.width", at + "2].image-filter.height",
                at + "3].image-filter.filter", at + "3].image-filter.width", at + "3].image-filter.buffer",
                "edge.server.image-filter.workers", "edge.server.image-filter.timeout");
        assertThat(problems).extracting(ConfigProblem::key, ConfigProblem::message).contains(
                tuple(at + "0].image-filter.width", "\"0\" is not a value nginx's image_filter takes"),
                tuple(at + "2].image-filter.height", "is empty"));
        assertThat(problems).filteredOn(p -> p.key().equals("edge.server.image-filter.timeout")).singleElement()
                .satisfies(p -> {
                    assertThat(p.line()).as("its line in the file, below \"edge {\"").isEqualTo(8);
                    assertThat(p.message()).isEqualTo("\"0 s\" is out of range");
                    assertThat(p.expected()).isEqualTo("a duration such as 30 s, more than 0, at most 1 d");
                });
        assertThat(problems).filteredOn(p -> p.key().endsWith("3].image-filter.filter")).singleElement()
                .extracting(ConfigProblem::message).asString().contains("shrink");
    }

    @Test
    void subFilterProblemsAreSaidAtTheirEntries() throws Exception {
        List<ConfigProblem> problems = problems("""
                sites = [{ root = www, locations = [{ match = "/", sub-filter {
                  replace = [{ match = "", with = "a" }, { match = "a" }, { match = "a", with = "$nope" },
                    { match = "a", width = "b" }, "a"]
                  types = ["html"], once = sometimes } }] }]
                """);
        String entry = "edge.sites[0].locations[0].sub-filter.";
        assertThat(problems).extracting(ConfigProblem::key).containsExactlyInAnyOrder(entry + "once",
                entry + "types[0]", entry + "replace[0].match", entry + "replace[1]", entry + "replace[2].with",
                entry + "replace[3].width", entry + "replace[3]", entry + "replace[4]");
        assertThat(problems).extracting(ConfigProblem::key, ConfigProblem::message).contains(
                tuple(entry + "replace[0].match", "is empty"),
                tuple(entry + "replace[1]", "has no with"),
                tuple(entry + "replace[3].width", "is no key of a sub-filter.replace entry (did you mean \"with\"?)"));
        assertThat(problems).filteredOn(p -> p.key().endsWith("replace[2].with")).singleElement()
                .extracting(ConfigProblem::message).asString().startsWith("\"$nope\" has unknown variable $nope");
    }

    /**
     * At most 255 strings in a location, as nginx's sub_filter ("number of search patterns exceeds 255"): one more is
     * a problem at the list's line. 255 are taken.
     */
    @Test
    void aSubFilterOfMoreThan255StringsIsAProblem() throws Exception {
        StringBuilder entries = new StringBuilder();
        for (int i = 0; i < 255; i++) {
            entries.append("{ match = \"m").append(i).append("\", with = \"w\" }\n");
        }
        assertThat(new ConfigLoader().load(write("sites = [{ root = www, locations = [{ match = \"/\", sub-filter.replace = [\n"
                + entries + "] }] }]\n")).sites().get(0).locations().get(0).subFilter().replace()).hasSize(255);
        List<ConfigProblem> problems = problems("sites = [{ root = www, locations = [{ match = \"/\",\n"
                + "sub-filter.replace = [\n" + entries + "{ match = \"one more\", with = \"w\" }] }] }]\n");
        assertThat(problems).extracting(ConfigProblem::line, ConfigProblem::key, ConfigProblem::message,
                ConfigProblem::expected).containsExactly(tuple(3, "edge.sites[0].locations[0].sub-filter.replace",
                "has 256 entries", "at most 255 strings in a location, as nginx's sub_filter"));
    }

    @Test
    void gzipCompressesWhatABackendAnswersByTheTypesItNames() throws Exception {
        List<ConfigProblem> problems = problems("""
                sites = [{ root = www, locations = [{ match = "/", fastcgi = php, gzip {
                  enabled = true, level = 10, min-length = "lots", types = ["text/html", "text/html; charset=utf-8",
                  "TEXT/HTML", "html", "text/*", "*"] } }] }]
                fastcgi.backends.php.addresses = ["127.0.0.1:9000"]
                """);
        assertThat(problems).extracting(ConfigProblem::key, ConfigProblem::message).containsExactly(
                tuple("edge.sites[0].locations[0].gzip.level", "10 is out of range"),
                tuple("edge.sites[0].locations[0].gzip.min-length", "\"lots\" is not a size"),
                tuple("edge.sites[0].locations[0].gzip.types[1]", "\"text/html; charset=utf-8\" is not a media type"),
                tuple("edge.sites[0].locations[0].gzip.types[2]",
                        "\"TEXT/HTML\" is listed twice (types are compared ignoring case)"),
                tuple("edge.sites[0].locations[0].gzip.types[3]", "\"html\" is not a media type"),
                tuple("edge.sites[0].locations[0].gzip.types[4]", "\"text/*\" is not a media type"));
        assertThat(problems("""
                sites = [{ root = www, locations = [{ match = "/static/", gzip.enabled = true },
                  { match = "/files/", gzip.enabled = maybe }] }]
                """)).extracting(ConfigProblem::key, ConfigProblem::message).containsExactly(
                tuple("edge.sites[0].locations[1].gzip.enabled", "\"maybe\" is not a boolean"));
        EdgeSettings settings = new ConfigLoader().load(write("""
                location-defaults.gzip { enabled = true, level = 6 }
                sites = [{ root = www, locations = [{ match = "/", fastcgi = php, gzip { types = ["Application/JSON"] } },
                  { match = "/plain/", fastcgi = php, gzip.enabled = false }, { match = "/static/" },
                  { match = "= /status", status = true }, { match = "/api/", proxy = api },
                  { match = "= /gone", return = 404 }] }]
                fastcgi.backends.php.addresses = ["127.0.0.1:9000"]
                proxy.backends.api.addresses = ["127.0.0.1:3000"]
                """));
        List<LocationSettings> locations = settings.sites().get(0).locations();
        assertThat(locations.get(0).gzip()).isEqualTo(new LocationSettings.Gzip(6, 256, Set.of("application/json")));
        assertThat(locations.get(0).gzip().compresses("application/json")).isTrue();
        assertThat(locations.get(0).gzip().compresses("text/css")).isFalse();
        // as nginx's gzip_types, which always has it: types = [application/json] from gzip_types application/json
        // stopped compressing the pages
        assertThat(locations.get(0).gzip().compresses("text/html")).isTrue();
        assertThat(locations.get(1).gzip()).isNull();
        // files: compressed as they go, as a backend's answers (nginx's gzip on applies to both)
        assertThat(locations.get(2).gzip().level()).isEqualTo(6);
        assertThat(locations.get(2).gzip().compresses("text/css")).isTrue();
        assertThat(locations.get(3).gzip()).isNull(); // the status page goes as it is
        assertThat(locations.get(4).gzip().level()).isEqualTo(6); // a proxied answer, as nginx's gzip filter takes it
        assertThat(locations.get(5).gzip().level()).as("its 404's page, as nginx's").isEqualTo(6);
        assertThat(new ConfigLoader().load(write(SITE)).sites().get(0).locations().get(0).gzip()).isNull(); // off
        // files compressed beforehand: anywhere files are served
        List<LocationSettings> precompressed = new ConfigLoader().load(write("""
                sites = [{ root = www, locations = [{ match = "/assets/", gzip.static = true }, { match = "/" }] }]
                """)).sites().get(0).locations();
        assertThat(precompressed).extracting(LocationSettings::gzipStatic).containsExactly(true, false);
        assertThat(problems("""
                sites = [{ root = www, locations = [{ match = "/assets/", gzip.static = maybe }] }]
                """)).extracting(ConfigProblem::key).containsExactly("edge.sites[0].locations[0].gzip.static");
    }

    /**
     * gzip.proxied, gzip.disable and gzip.http-version as nginx's gzip_proxied, gzip_disable and gzip_http_version:
     * nginx's defaults (off: none to a request with Via), its values as it spells them, each problem at its line.
     */
    @Test
    void gzipClientsAreReadAsNginxsAndEachBadValueIsAProblemAtItsLine() throws Exception {
        List<ConfigProblem> problems = problems("""
                sites = [{ root = www, locations = [{ match = "/", gzip {
                  enabled = true
                  proxied = [expired, nope, expired]
                  disable = ["msie6", "([a-z", "curl/"]
                  http-version = "2.0" } },
                  { match = "/a/", gzip { enabled = true, proxied = [off, any] } },
                  { match = "/b/", gzip { static = true, proxied = [] } }] }]
                """);
        // the lines of the file as written: one more than the body's, below "edge {"
        assertThat(problems).extracting(ConfigProblem::line, ConfigProblem::key, ConfigProblem::message)
                .containsExactly(
                        tuple(4, "edge.sites[0].locations[0].gzip.proxied[1]", "\"nope\" is not a value of gzip_proxied"),
                        tuple(4, "edge.sites[0].locations[0].gzip.proxied[2]", "\"expired\" is listed twice"),
                        tuple(5, "edge.sites[0].locations[0].gzip.disable[1]",
                                "\"([a-z\" bad regular expression: Unclosed character class at index 4"),
                        tuple(6, "edge.sites[0].locations[0].gzip.http-version",
                                "\"2.0\" is not allowed (did you mean \"1.0\"?)"),
                        tuple(7, "edge.sites[0].locations[1].gzip.proxied[0]",
                                "\"off\" beside other values, which it leaves nothing to do"),
                        tuple(8, "edge.sites[0].locations[2].gzip.proxied", "[] names no value"));
        assertThat(problems.get(0).file().getFileName().toString()).endsWith(".conf");
        List<LocationSettings> locations = new ConfigLoader().load(write("""
                sites = [{ root = www, locations = [{ match = "/", gzip.enabled = true },
                  { match = "/p/", gzip { enabled = true, proxied = [no-cache, no_etag, no-last-modified, AUTH],
                    disable = [msie6, "^Bot"], http-version = "1.0" } }] }]
                """)).sites().get(0).locations();
        assertThat(locations.get(0).gzipClients()).isEqualTo(LocationSettings.GzipClients.DEFAULT);
        LocationSettings.GzipClients clients = locations.get(1).gzipClients();
        assertThat(clients.proxied()).containsExactlyInAnyOrder(LocationSettings.Proxied.NO_CACHE,
                LocationSettings.Proxied.NO_ETAG, LocationSettings.Proxied.NO_LAST_MODIFIED,
                LocationSettings.Proxied.AUTH);
        assertThat(clients.disableMsie6()).isTrue();
        assertThat(clients.disable()).singleElement().satisfies(regex -> {
            assertThat(regex.matcher("BOT/1.0").find()).as("caseless, as nginx's").isTrue();
            assertThat(regex.matcher("a Bot").find()).isFalse();
        });
        assertThat(clients.http10()).isTrue();
    }

    /**
     * gzip.http-version written unquoted, as nginx's gzip_http_version 1.0 is: HOCON reads 1.0 as the number 1, which
     * was refused as "1.0 is not allowed (did you mean "1.0"?)" while 1.1 was taken; another number is refused as
     * written.
     */
    @Test
    void gzipHttpVersionIsTakenUnquotedAsWritten() throws Exception {
        List<LocationSettings> locations = new ConfigLoader().load(write("""
                sites = [{ root = www, locations = [{ match = "/", gzip { enabled = true, http-version = 1.0 } },
                  { match = "/a/", gzip { enabled = true, http-version = 1.1 } }] }]
                """)).sites().get(0).locations();
        assertThat(locations.get(0).gzipClients().http10()).isTrue();
        assertThat(locations.get(1).gzipClients().http10()).isFalse();
        assertThat(problems("""
                sites = [{ root = www, locations = [{ match = "/", gzip { enabled = true, http-version = 1.00 } }] }]
                """)).extracting(ConfigProblem::key, ConfigProblem::message)
                .containsExactly(tuple("edge.sites[0].locations[0].gzip.http-version",
                        "1.00 is not allowed (did you mean \"1.0\"?)"));
    }

    @Test
    void aLocationWithABadMatchHasItsOtherKeysCheckedToo() {
        List<ConfigProblem> problems = problems("""
                sites = [{ root = www, locations = [{ match = "~ ([a-z", fastcgi = nope, cache = maybe }] }]
                """);
        assertThat(problems).extracting(ConfigProblem::key).containsExactly(
                "edge.sites[0].locations[0].match",
                "edge.sites[0].locations[0].fastcgi",
                "edge.sites[0].locations[0].cache");
    }

    @Test
    void aBadNumberIsOneProblemNotAlsoOneAboutItsPlaceholder() {
        ConfigProblem problem = single(SITE + "\nstatic.fd-budget = 0");
        assertThat(problem.key()).isEqualTo("edge.static.fd-budget");
        assertThat(problem.message()).isEqualTo("0 is out of range");
    }

    /** A location of files takes one too (nginx's try_files $uri $uri/ /index.html); a status page does not. */
    @Test
    void frontControllerIsAPathOutsideStatusLocations() {
        List<ConfigProblem> problems = problems("""
                sites = [{ root = www, locations = [{ match = "= /edge-status", status = true, front-controller = "/x" },
                                                    { match = "/app/", fastcgi = php, front-controller = "index.php" },
                                                    { match = "/spa/", front-controller = "/spa/index.html" }] }]
                fastcgi.backends.php { addresses = ["127.0.0.1:9000"] }
                """);
        assertThat(problems).extracting(ConfigProblem::key).containsExactlyInAnyOrder(
                "edge.sites[0].locations[0].front-controller", "edge.sites[0].locations[1].front-controller");
    }

    /**
     * A front controller is a path as the script lookup takes one: nginx's "/index.php?$query_string" habit (edge
     * passes the query itself) was taken and answered every request 404, a NUL every request 500.
     */
    @Test
    void aFrontControllerIsANormalisedPathWithoutAQueryOrControlCharacters() {
        List<ConfigProblem> problems = problems("""
                sites = [{ root = www, locations = [
                  { match = "/a/", fastcgi = php, front-controller = "/index.php?$query_string" }
                  { match = "/b/", fastcgi = php, front-controller = "/i\\u0000.php" }
                  { match = "/c/", fastcgi = php, front-controller = "/app/../index.php" }
                  { match = "/d/", fastcgi = php, front-controller = "/app/index.php" }
                ] }]
                fastcgi.backends.php { addresses = ["127.0.0.1:9000"] }
                """);
        assertThat(problems).extracting(ConfigProblem::key, ConfigProblem::message).containsExactly(
                tuple("edge.sites[0].locations[0].front-controller",
                        "\"/index.php?$query_string\" holds a query or fragment (the request's query goes to the script as sent)"),
                tuple("edge.sites[0].locations[1].front-controller", "\"/i\\u0000.php\" holds a control character"),
                tuple("edge.sites[0].locations[2].front-controller",
                        "\"/app/../index.php\" is not a normalised path (an empty, \".\" or \"..\" segment)"));
    }

    /** fastcgi-script: a normalised path, in a location with fastcgi and without a front controller. */
    @Test
    void aFixedScriptIsAPathInAFastcgiLocationWithoutAFrontController() {
        List<ConfigProblem> problems = problems("""
                sites = [{ root = www, locations = [
                  { match = "= /a", fastcgi-script = "/fpm-status" }
                  { match = "= /b", fastcgi = php, fastcgi-script = "fpm-status" }
                  { match = "/c/", fastcgi = php, front-controller = "/index.php", fastcgi-script = "/fpm-ping" }
                  { match = "= /d", fastcgi = php, fastcgi-script = "/fpm-ping" }
                ] }]
                fastcgi.backends.php { addresses = ["127.0.0.1:9000"] }
                """);
        assertThat(problems).extracting(ConfigProblem::key, ConfigProblem::message).containsExactly(
                tuple("edge.sites[0].locations[0].fastcgi-script",
                        "\"/fpm-status\" needs a fastcgi backend in the same location"),
                tuple("edge.sites[0].locations[1].fastcgi-script", "\"fpm-status\" is not a path"),
                tuple("edge.sites[0].locations[2].fastcgi-script",
                        "\"/fpm-ping\" is set with a front-controller (every request runs it: none falls back)"));
    }

    @Test
    void xSendfileDirectoriesMustExistAndBelongToAFastcgiLocation() throws Exception {
        Files.createDirectory(dir.resolve("downloads"));
        List<ConfigProblem> problems = problems("""
                sites = [{ root = www, locations = [{ match = "/", fastcgi = php, x-sendfile = [downloads, missing] },
                                                    { match = "/static/", x-sendfile = [downloads] }] }]
                fastcgi.backends.php { addresses = ["127.0.0.1:9000"] }
                """);
        assertThat(problems).extracting(ConfigProblem::key, p -> p.message().contains("does not exist"))
                .containsExactlyInAnyOrder(tuple("edge.sites[0].locations[0].x-sendfile[1]", true),
                        tuple("edge.sites[0].locations[1].x-sendfile[0]", false));
        Path good = write("""
                sites = [{ root = www, locations = [{ match = "/", fastcgi = php, x-sendfile = [downloads] }] }]
                fastcgi.backends.php { addresses = ["127.0.0.1:9000"] }
                """);
        assertThat(new ConfigLoader().load(good).sites().get(0).locations().get(0).sendfileRoots())
                .containsExactly(dir.resolve("downloads").toAbsolutePath().normalize());
    }

    @Test
    void unknownTopLevelKeyOutsideEdge() throws Exception {
        Path file = EdgeConfFile.write(dir, SITE); // and a key outside edge after it:
        Files.writeString(file, "server.listen = [\"*:80\"]\n", StandardOpenOption.APPEND);
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(file));
        assertThat(e.problems()).singleElement().satisfies(p -> {
            assertThat(p.key()).isEqualTo("server");
            assertThat(p.line()).as("after edge { }'s three").isEqualTo(4);
        });
    }

    @Test
    void userMimeTypesAreNotUnknownKeys() throws Exception {
        Path file = write(SITE + "\nmime-types { heif = image/heif }");
        assertThat(new ConfigLoader().load(file).mimeTypes()).containsEntry("heif", "image/heif");
    }

    /**
     * Defaults that are not an object are one problem, at their line: what is laid over them is checked over the
     * built-in defaults, not reported key by key as missing (some without a line, from the built-in location).
     */
    @Test
    void defaultsThatAreNotAnObjectAreOneProblem() {
        String sites = "sites = [{ root = www, locations = [{ match = \"/\", fastcgi = php }] }, { root = www }]\n"
                + "fastcgi.backends.php.addresses = [\"127.0.0.1:9000\"]\n";
        assertThat(problems(sites + "site-defaults = null")).extracting(ConfigProblem::line, ConfigProblem::key,
                ConfigProblem::message).containsExactly(tuple(4, "edge.site-defaults", "null is no value"));
        assertThat(problems(sites + "location-defaults = 5")).extracting(ConfigProblem::line, ConfigProblem::key,
                ConfigProblem::message).containsExactly(tuple(4, "edge.location-defaults", "5 is not an object"));
        assertThat(problems(sites + "fastcgi.backend-defaults = null")).extracting(ConfigProblem::line,
                ConfigProblem::key, ConfigProblem::message).containsExactly(tuple(4, "edge.fastcgi.backend-defaults", "null is no value"));
    }

    /** An empty x-sendfile directory is a mistake, as an empty root is: not the configuration's own directory. */
    @Test
    void anEmptyXSendfileDirectoryIsAProblem() {
        assertThat(xSendfileProblem("\"\"").message()).isEqualTo("empty path");
    }

    /** The one problem of a PHP location whose x-sendfile lists {@code directory}, written as HOCON; about that element. */
    private ConfigProblem xSendfileProblem(String directory) {
        ConfigProblem problem = single("fastcgi.backends.php.addresses = [\"127.0.0.1:9000\"]\n"
                + "sites = [{ root = www, locations = [{ match = \"/\", fastcgi = php, x-sendfile = [" + directory + "] }] }]");
        assertThat(problem.key()).isEqualTo("edge.sites[0].locations[0].x-sendfile[0]");
        return problem;
    }

    /**
     * An index name is a file in the directory asked for: ".." is its parent, and a NUL made every request for a
     * directory answer 400.
     */
    @Test
    void anIndexThatNamesNoFileInTheDirectoryIsAProblem() {
        assertThat(problems("sites = [{ root = www, index = [\"..\", \".\", \"a\\u0000b\", index.html] }]"))
                .extracting(ConfigProblem::key, ConfigProblem::message).containsExactly(
                        tuple("edge.sites[0].index[0]", "\"..\" is not a file name"),
                        tuple("edge.sites[0].index[1]", "\".\" is not a file name"),
                        tuple("edge.sites[0].index[2]", "\"a\\u0000b\" is not a file name"));
    }

    /** A NUL (HOCON's "\\u0000") cannot be in a path: a problem at its key, as for root, never an exception. */
    @Test
    void aPathWithANulCharacterInAListOrAnErrorPageIsAProblem() {
        assertThat(xSendfileProblem("\"a\\u0000b\"").message()).isEqualTo("\"a\\u0000b\" is not a valid path: Nul character not allowed");
        ConfigProblem page = single("sites = [{ root = www, error-pages { 404 = \"/a\\u0000b.html\" } }]");
        assertThat(page.key()).isEqualTo("edge.sites[0].error-pages.404");
        assertThat(page.message()).isEqualTo("\"/a\\u0000b.html\" is not a valid path: Nul character not allowed");
    }

    /** A key with a dot, a blank or nothing in it is named as it is written, quoted: it can be found and told apart. */
    @Test
    void aKeyThatNeedsQuotesIsNamedQuoted() {
        assertThat(problems(SITE + "\nmime-types { \".png\" = image/png, \"\" = text/plain }"))
                .extracting(ConfigProblem::key).containsExactlyInAnyOrder("edge.mime-types.\".png\"", "edge.mime-types.\"\"");
        assertThat(single(SITE + "\nfastcgi.backends { \"php 8\" { addresses = [\"127.0.0.1:9000\"] } }").key())
                .isEqualTo("edge.fastcgi.backends.\"php 8\"");
        assertThat(single(SITE + "\nserver { \"max connections\" = 5 }").key()).isEqualTo("edge.server.\"max connections\"");
    }

    /** An extension of several parts ("tar.gz") is one; one with an empty part matches no file name. */
    @Test
    void anExtensionMayHoldDotsBetweenItsParts() throws Exception {
        assertThat(new ConfigLoader().load(write(SITE + "\nmime-types { \"tar.gz\" = application/x-tgz }")).mimeTypes())
                .containsEntry("tar.gz", "application/x-tgz");
        assertThat(problems(SITE + "\nmime-types { \"gz.\" = application/gzip, \"tar..gz\" = application/gzip }"))
                .extracting(ConfigProblem::message).containsExactlyInAnyOrder("\"gz.\" is not a file extension",
                        "\"tar..gz\" is not a file extension");
    }

    /** Extensions are matched ignoring case: two of the user's that differ only in case would leave the type to chance. */
    @Test
    void oneExtensionGivenTwoTypesInDifferentCaseIsAProblem() {
        ConfigProblem problem = single(SITE + "\nmime-types { JPG = image/x-citrix-jpeg, jpg = image/jpeg }");
        assertThat(problem.key()).isEqualTo("edge.mime-types.jpg");
        assertThat(problem.line()).isEqualTo(3);
        assertThat(problem.message()).isEqualTo("\"jpg\" is set twice, also as \"JPG\" (extensions are compared ignoring case)");
        assertThat(problem.expected()).isEqualTo("each extension once");
    }

    /**
     * A type goes out as the Content-Type of every file of its extension: "text/html\r\nX-Injected: yes" was a header
     * line of its own in every .html answer. A type is RFC 9110's media-type, in printable ASCII.
     */
    @Test
    void aMimeTypeIsAMediaTypeInPrintableAscii() throws Exception {
        List<ConfigProblem> problems = problems(SITE + """

                mime-types { html = "text/html\\r\\nX-Injected: yes", a = "text/plain; charset=\\u0000", b = "/"
                  c = "\u00e9/\u00e9", d = "text/plain;", e = " text/plain", f = "text /plain" }
                """);
        assertThat(problems).extracting(ConfigProblem::key).containsExactlyInAnyOrder("edge.mime-types.a",
                "edge.mime-types.b", "edge.mime-types.c", "edge.mime-types.d", "edge.mime-types.e", "edge.mime-types.f",
                "edge.mime-types.html");
        assertThat(problems).filteredOn(p -> p.key().endsWith(".html")).singleElement().extracting(ConfigProblem::message)
                .isEqualTo("\"text/html\\u000d\\u000aX-Injected: yes\" is not a media type");
        EdgeSettings settings = new ConfigLoader().load(write(SITE + """

                mime-types { txt = "text/plain; charset=utf-8", x = "application/x-a+b; a=1;b=\\"q \\\\\\" r\\"" }
                """));
        assertThat(settings.mimeTypes()).containsEntry("txt", "text/plain; charset=utf-8")
                .containsEntry("x", "application/x-a+b; a=1;b=\"q \\\" r\"");
    }

    /** A value of the wrong type is one problem: its type, not also what its text would have been checked for. */
    @Test
    void aListWhereAStringBelongsIsOneProblem() {
        assertThat(problems(SITE + "\nmime-types.bar = [1]")).singleElement()
                .satisfies(p -> assertThat(p.message()).isEqualTo("[1] is not a string"));
        assertThat(problems("sites = [{ root = www, locations = [{ match = \"/\", fastcgi = [php] }] }]"))
                .singleElement().satisfies(p -> assertThat(p.message()).isEqualTo("[\"php\"] is not a string"));
        assertThat(problems(SITE + "\nserver.access-log = [a]")).singleElement()
                .satisfies(p -> assertThat(p.message()).isEqualTo("[\"a\"] is not a string"));
        assertThat(problems(SITE + "\nfastcgi.backends.php.spawn { enabled = true, command = [a] }")).singleElement()
                .satisfies(p -> assertThat(p.message()).isEqualTo("[\"a\"] is not a string"));
    }

    @Test
    void wrongType() {
        ConfigProblem problem = single(SITE + "\nserver.limits = 5");
        assertThat(problem.key()).isEqualTo("edge.server.limits");
        assertThat(problem.message()).isEqualTo("5 is not an object");
    }

    @Test
    void aNumberTooLargeSaysItsUpperBound() {
        ConfigProblem intTooLarge = single(SITE + "\nserver.limits.header-count = 99999999999999");
        assertThat(intTooLarge.message()).isEqualTo("99999999999999 is out of range");
        assertThat(intTooLarge.expected()).isEqualTo("a whole number from 1 to 2147483647");
        ConfigProblem longTooLarge = single(SITE + "\nstatic.fd-budget = 9223372036854775808");
        assertThat(longTooLarge.message()).endsWith("9223372036854775808\" is out of range");
        assertThat(longTooLarge.expected()).isEqualTo("a whole number from 1 to 2147483647");
        assertThat(single(SITE + "\nserver.max-connections = -99999999999999999999").message())
                .endsWith(" is out of range");
    }

    @Test
    void aNegativeOrTooLargeSizeIsOutOfRangeNotOtherThanASize() {
        ConfigProblem negative = single(SITE + "\nserver.limits.body = -1");
        assertThat(negative.message()).isEqualTo("-1 is out of range");
        assertThat(negative.expected()).isEqualTo("a size such as 16 MiB, from 0 to 9223372036854775807 bytes");
        assertThat(single(SITE + "\ncache.content.max-bytes = \"-1 KiB\"").message())
                .isEqualTo("\"-1 KiB\" is out of range");
        assertThat(single(SITE + "\ncache.responses.max-bytes = 99999999 PiB").message())
                .isEqualTo("\"99999999 PiB\" is out of range");
        assertThat(single(SITE + "\nserver.limits.body = 1 XB").message()).isEqualTo("\"1 XB\" is not a size");
        // a unit HOCON knows, past what a long holds: out of range, not "no size"
        assertThat(single(SITE + "\nserver.limits.body = 1 ZiB").message()).isEqualTo("\"1 ZiB\" is out of range");
        assertThat(problemsOrNone(SITE + "\nserver.limits.body = 0 ZiB")).as("none of them is 0 bytes").isEmpty();
        // TCP_NOTSENT_LOWAT takes an int: 2 GiB is one past it, never cut to a negative or to what fits
        ConfigProblem lowat = single(SITE + "\nserver.tcp-notsent-lowat = 2 GiB");
        assertThat(lowat.key()).isEqualTo("edge.server.tcp-notsent-lowat");
        assertThat(lowat.message()).isEqualTo("\"2 GiB\" is out of range");
        assertThat(lowat.expected()).isEqualTo("a size such as 16 MiB, from 0 to 2147483647 bytes");
        assertThat(single(SITE + "\nserver.tcp-notsent-lowat = -1").message()).isEqualTo("-1 is out of range");
    }

    /**
     * HOCON reads a size written as a bare number past a long as that long, 8 EiB, and a fraction of a byte as the
     * byte below, without a word; edge refuses both, as it refuses such a number where a whole number is asked for.
     */
    @Test
    void aSizeWrittenAsANumberPastALongIsOutOfRange() {
        ConfigProblem tooLarge = single(SITE + "\ncache.content.max-bytes = 99999999999999999999");
        assertThat(tooLarge).hasToString(dir.resolve("edge.conf") + ":3: edge.cache.content.max-bytes: "
                + "\"99999999999999999999\" is out of range (expected: a size such as 16 MiB, from 0 to "
                + "9223372036854775807 bytes)");
        assertThat(single(SITE + "\ncache.responses.max-bytes = 1e30").message()).endsWith(" is out of range");
        assertThat(single(SITE + "\ncache.responses.max-bytes = 1e400").message()).endsWith(" is out of range");
        assertThat(single(SITE + "\ncache.responses.max-bytes = \"9223372036854775808\"").message())
                .isEqualTo("\"9223372036854775808\" is out of range");
        assertThat(single(SITE + "\ncache.content.max-bytes = 99999999999 EiB").message())
                .isEqualTo("\"99999999999 EiB\" is out of range");
        ConfigProblem fraction = single(SITE + "\ncache.content.max-file-size = 1.5");
        assertThat(fraction.message()).isEqualTo("1.5 is not a whole number");
        assertThat(fraction.expected()).isEqualTo("a size such as 16 MiB, from 0 to 2147483647 bytes");
        assertThat(problemsOrNone(SITE + "\ncache.content.max-bytes = 9223372036854775807")).isEmpty();
        assertThat(problemsOrNone(SITE + "\ncache.content { max-bytes = 0.5 EiB, max-file-size = 1.5 KiB }")).isEmpty();
    }

    /**
     * HOCON reads text that Java's Double.parseDouble takes as a number of bytes or milliseconds before it looks for a
     * unit, and a fraction of a byte as the byte below: "NaN" and "0.5 B" were a body limit of 0, which is none,
     * "Infinity" one of 8 EiB, "16d" 16 ms, "0x1p4 s" 16 s, "16f s" 16 s. A size or a duration is a decimal number of
     * ASCII digits and a unit; a size a whole number of bytes.
     */
    @Test
    void aSizeOrADurationIsADecimalNumberAndAUnitNotWhatJavaReadsAsADouble() throws Exception {
        for (String size : List.of("NaN", "Infinity", "-Infinity", "NaN B", "0x10", "0x1p4 KiB", "16f KiB", "16d B",
                "\u0663 B", "1,5 KiB")) {
            ConfigProblem problem = single(SITE + "\nserver.limits.body = \"" + size + "\"");
            assertThat(problem.key()).isEqualTo("edge.server.limits.body");
            assertThat(problem.message()).as(size).endsWith(" is not a size");
        }
        ConfigProblem fraction = single(SITE + "\nserver.limits.body = \"0.5 B\"");
        assertThat(fraction.message()).isEqualTo("\"0.5 B\" is not a whole number of bytes");
        assertThat(fraction.expected()).isEqualTo("a size such as 16 MiB, from 0 to 9223372036854775807 bytes");
        assertThat(single(SITE + "\nserver.tcp-notsent-lowat = \"1.3 B\"").message())
                .isEqualTo("\"1.3 B\" is not a whole number of bytes");
        for (String duration : List.of("NaN s", "Infinity s", "0x1p4 s", "16f s", "16d s", "\u0663 s")) {
            assertThat(single(SITE + "\nstatic.open-file-cache.revalidate = \"" + duration + "\"").message())
                    .as(duration).endsWith(" is not a duration");
            assertThat(single("sites = [{ root = www, locations = [{ match = \"/\", expires = \"" + duration
                    + "\" }] }]").message()).as(duration).endsWith(" is not a duration");
        }
        EdgeSettings settings = new ConfigLoader().load(write("""
                sites = [{ root = www, locations = [{ match = "/", expires = "16d" }] }]
                server.limits.body = "1e3 B"
                server.timeouts.keep-alive = "1.5m"
                server.tcp-notsent-lowat = "16\u00a0KiB"
                static.open-file-cache.revalidate = "16d"
                """));
        assertThat(settings.sites().get(0).locations().get(0).expires()).isEqualTo(Duration.ofDays(16));
        assertThat(settings.server().limits().body()).isEqualTo(1000);
        assertThat(settings.server().timeouts().keepAlive()).isEqualTo(Duration.ofSeconds(90));
        assertThat(settings.server().tcpNotsentLowat()).isEqualTo(16 * 1024);
        assertThat(settings.staticIo().revalidateAfter()).isEqualTo(Duration.ofDays(16));
    }

    /** An exponent past an int, which BigDecimal cannot hold, is a problem too, not an exception out of the check. */
    @Test
    void aSizeWrittenAsTextWithAnExponentPastAnIntIsAProblem() {
        assertThat(single(SITE + "\ncache.responses.max-bytes = \"1e99999999999\"").message())
                .isEqualTo("\"1e99999999999\" is out of range");
        assertThat(single(SITE + "\ncache.responses.max-bytes = \"1e-99999999999\"").message())
                .isEqualTo("\"1e-99999999999\" is not a whole number");
    }

    /** HOCON saturates a duration past a long of nanoseconds (292 years) without a word; edge refuses it. */
    @Test
    void aDurationTooLongForALongOfNanosecondsIsOutOfRange() {
        ConfigProblem problem = single(SITE + "\nstatic.read-timeout = 99999999999 d");
        assertThat(problem.message()).isEqualTo("\"99999999999 d\" is out of range");
        assertThat(problem.expected()).isEqualTo("a duration such as 30 s, more than 0, at most 106751 d");
        assertThat(single(SITE + "\nserver.timeouts.keep-alive = 1e400 s").message()).endsWith(" is out of range");
    }

    /**
     * HOCON reads a number past a double's range as infinity, and renders what it read: 1e400 was "Infinity is not a
     * whole number" (a size, "Infinity is out of range"), 1e30 "1.0E30 is out of range". The number is said as written,
     * out of range as any other too large (or too small).
     */
    @Test
    void aNumberPastADoubleIsOutOfRangeAsWritten() {
        ConfigProblem tooLarge = single(SITE + "\nserver.io-threads = 1e400");
        assertThat(tooLarge.message()).isEqualTo("1e400 is out of range");
        assertThat(tooLarge.expected()).isEqualTo("a whole number from 0 to 1024");
        assertThat(single(SITE + "\nserver.max-connections = -1e400").message()).isEqualTo("-1e400 is out of range");
        assertThat(single(SITE + "\nserver.io-threads = 1e30").message()).isEqualTo("1e30 is out of range");
        assertThat(single(SITE + "\ncache.responses.max-bytes = 1e400").message()).isEqualTo("1e400 is out of range");
    }

    /**
     * HOCON reads a number written as text with Double.parseDouble: "16f", "100d", "0x1p4", "NaN" and other scripts'
     * digits were numbers (limit-conn max = "0x1p1" was 2), as sizes and durations were. Text is a number as written.
     */
    @Test
    void aWholeNumberWrittenAsTextIsDecimalDigits() throws Exception {
        for (String text : List.of("16f", "100d", "0x1p4", "NaN", "Infinity", "\uff11\uff10\uff10", "\u0664", "1_000")) {
            ConfigProblem problem = single(SITE + "\nserver.limits.header-count = \"" + text + "\"");
            assertThat(problem.key()).isEqualTo("edge.server.limits.header-count");
            assertThat(problem.message()).as(text).isEqualTo("\"" + text + "\" is not a number");
        }
        assertThat(single(SITE + "\nserver.limits.header-count = \"1.5\"").message())
                .isEqualTo("\"1.5\" is not a whole number");
        assertThat(new ConfigLoader().load(write(SITE + "\nserver.limits.header-count = \" 120 \""))
                .server().limits().headerCount()).isEqualTo(120);
    }

    @Test
    void notAWholeNumber() {
        assertThat(single(SITE + "\nserver.io-threads = 1.5").message()).isEqualTo("1.5 is not a whole number");
    }

    @Test
    void numberOutOfRange() {
        ConfigProblem problem = single(SITE + "\nstatic.queue-depth = 0");
        assertThat(problem.message()).isEqualTo("0 is out of range");
        assertThat(problem.expected()).isEqualTo("a whole number from 1 to 32768");
        ConfigProblem minUses = single(SITE + "\nstatic.open-file-cache.min-uses = 3");
        assertThat(minUses.toString()).contains("edge.static.open-file-cache.min-uses")
                .contains("a whole number from 1 to 2");
    }

    @Test
    void aSendfileChunkIsBoundedByTheSlabSlotOfLinuxAioSendfile() {
        ConfigProblem problem = single(SITE + "\nstatic.sendfile-chunk = 2147483647");
        assertThat(problem).hasToString(dir.resolve("edge.conf") + ":3: edge.static.sendfile-chunk: 2147483647 is out "
                + "of range (expected: a size such as 16 MiB, from 4096 to 2147475456 bytes)");
        assertThat(problemsOrNone(SITE + "\nstatic.sendfile-chunk = 2147475456")).isEmpty();
    }

    @Test
    void badSize() {
        ConfigProblem problem = single(SITE + "\nserver.limits.body = \"lots\"");
        assertThat(problem.toString()).endsWith(
                "edge.server.limits.body: \"lots\" is not a size (expected: a size such as 16 MiB)");
    }

    @Test
    void notABoolean() {
        ConfigProblem problem = single(SITE + "\nstatic.poison-released-buffers = maybe");
        assertThat(problem.toString()).endsWith(
                "edge.static.poison-released-buffers: \"maybe\" is not a boolean (expected: true or false)");
    }

    /** nginx's server_tokens: on (the default) or off, anything else said with its file, line and key. */
    @Test
    void serverTokensIsOnOrOff() throws Exception {
        assertThat(new ConfigLoader().load(write(SITE)).server().serverTokens()).isTrue();
        assertThat(new ConfigLoader().load(write(SITE + "\nserver.server-tokens = off")).server().serverTokens())
                .isFalse();
        ConfigProblem problem = single(SITE + "\nserver.server-tokens = build");
        assertThat(problem).hasToString(dir.resolve("edge.conf") + ":3: edge.server.server-tokens: \"build\" is not a"
                + " boolean (expected: on or off)");
    }

    @Test
    void keepAliveRequestsIsAWholeNumberOfZeroOrMore() {
        assertThat(single(SITE + "\nserver.limits.keep-alive-requests = -1").toString())
                .endsWith("edge.server.limits.keep-alive-requests: -1 is out of range (expected: a whole number >= 0)");
        assertThat(single(SITE + "\nserver.limits.keep-alive-requests = 1.5").key())
                .isEqualTo("edge.server.limits.keep-alive-requests");
    }

    @Test
    void negativeAndZeroDurations() {
        assertThat(single(SITE + "\nserver.timeouts.write = 0").message()).isEqualTo("0 is out of range");
        assertThat(single(SITE + "\nserver.timeouts.body = 0").message()).isEqualTo("0 is out of range");
        assertThat(single(SITE + "\nserver.timeouts.drain = -1 s").message()).isEqualTo("\"-1 s\" is out of range");
    }

    /** HOCON reads a duration below a nanosecond as 0: "0.1 ns" was a keep-alive timeout of 0, keep-alive off. */
    @Test
    void aDurationBelowANanosecondIsNotZero() {
        ConfigProblem problem = single(SITE + "\nserver.timeouts.keep-alive = \"0.1 ns\"");
        assertThat(problem.message()).isEqualTo("\"0.1 ns\" is less than a nanosecond");
        assertThat(single(SITE + "\nserver.timeouts.keep-alive = \"1e-400 s\"").message())
                .isEqualTo("\"1e-400 s\" is less than a nanosecond");
        assertThat(problemsOrNone(SITE + "\nserver.timeouts.keep-alive = \"0.0 s\"")).isEmpty();
        // an expires of "0.1 ns" was 0, "the time of the request", which the user did not write
        assertThat(single("sites = [{ root = www, locations = [{ match = \"/\", expires = \"0.1 ns\" }] }]").message())
                .isEqualTo("\"0.1 ns\" is less than a nanosecond");
        assertThat(problemsOrNone("sites = [{ root = www, locations = [{ match = \"/\", expires = \"0 s\" }] }]"))
                .isEmpty();
        // written below 0, it is out of range, as "-1 s" is (it was "less than a nanosecond")
        assertThat(single(SITE + "\nserver.timeouts.keep-alive = \"-0.1 ns\"").message())
                .isEqualTo("\"-0.1 ns\" is out of range");
        assertThat(single("sites = [{ root = www, locations = [{ match = \"/\", expires = \"-0.1 ns\" }] }]").message())
                .isEqualTo("\"-0.1 ns\" is out of range");
    }

    @Test
    void aDrainBeyondADayIsRefusedBeforeItCanOverflowADeadline() {
        ConfigProblem problem = single(SITE + "\nserver.timeouts.drain = 200000000000 d");
        assertThat(problem).hasToString(dir.resolve("edge.conf") + ":3: edge.server.timeouts.drain: "
                + "\"200000000000 d\" is out of range (expected: a duration such as 30 s, 0 or more, at most 1 d)");
        assertThat(problemsOrNone(SITE + "\nserver.timeouts.drain = 1 d")).isEmpty();
    }

    @Test
    void badEnumListsTheAllowedValues() {
        ConfigProblem problem = single(SITE + "\nstatic.engine = iouring");
        assertThat(problem.message()).isEqualTo("\"iouring\" is not allowed (did you mean \"io_uring\"?)");
        assertThat(problem.expected()).isEqualTo("one of auto, io_uring, threads, linux-aio-sendfile, sendfile");
    }

    /**
     * A key the user set to null is there, at its line: it was reported as "missing", which sent the user looking for
     * a key they had written. A null from the built-in defaults (a site's root) is still missing.
     */
    @Test
    void aRequiredKeySetToNullIsSaidToBeNull() {
        assertThat(problems("""
                sites = [{ root = null }]
                server.io-threads = null
                static = null
                fastcgi.backends.php { addresses = [], spawn { enabled = true, command = null } }
                """)).extracting(ConfigProblem::toString).containsExactly(
                dir.resolve("edge.conf") + ":2: edge.sites[0].root: null is no value "
                        + "(expected: the path of an existing directory)",
                dir.resolve("edge.conf") + ":3: edge.server.io-threads: null is no value "
                        + "(expected: a whole number from 0 to 1024)",
                dir.resolve("edge.conf") + ":4: edge.static: null is no value (expected: an object { ... })",
                dir.resolve("edge.conf") + ":5: edge.fastcgi.backends.php.spawn.command: null is no value "
                        + "(expected: the path of the php-fpm binary)");
    }

    /** A NUL or another control character in a match is refused, shown as the escape that wrote it. */
    @Test
    void aMatchWithAControlCharacterIsRefused() {
        ConfigProblem problem = single("sites = [{ root = www, locations = [{ match = \"/\" }, { match = \"/a\\u0000b\" }] }]");
        assertThat(problem).hasToString(dir.resolve("edge.conf") + ":2: edge.sites[0].locations[1].match: "
                + "\"/a\\u0000b\" contains control character U+0000 at index 2 (expected: " + LocationMatch.EXPECTED + ")");
    }

    @Test
    void missingRootIsReportedAtTheSiteLine() {
        ConfigProblem problem = single("sites = [\n  { server-names = [a.org] }\n]");
        assertThat(problem.key()).isEqualTo("edge.sites[0].root");
        assertThat(problem.message()).isEqualTo("missing");
        assertThat(problem.line()).isEqualTo(3);
    }

    @Test
    void internalIsForALocationOfFilesOnly() throws Exception {
        Files.createDirectories(dir.resolve("www"));
        List<ConfigProblem> problems = problems("""
                location-defaults.internal = true
                sites = [{ root = www, locations = [{ match = "/", fastcgi = php, internal = true },
                                                    { match = "= /s", status = true, internal = true }] }]
                fastcgi.backends.php { addresses = ["127.0.0.1:9000"] }
                """);
        assertThat(problems).extracting(ConfigProblem::key).containsExactlyInAnyOrder(
                "edge.location-defaults.internal", "edge.sites[0].locations[0].internal",
                "edge.sites[0].locations[1].internal");
        EdgeSettings settings = new ConfigLoader().load(write("""
                sites = [{ root = www, locations = [{ match = "^~ /protected/", internal = true }, { match = "/" }] }]
                """));
        assertThat(settings.sites().get(0).locations()).extracting(LocationSettings::internal).containsExactly(true, false);
    }

    @Test
    void nonexistentRoot() {
        ConfigProblem problem = single("sites = [{ root = nowhere }]");
        assertThat(problem.message()).isEqualTo(dir.resolve("nowhere") + " does not exist");
    }

    @Test
    void rootThatIsAFile() throws Exception {
        Files.writeString(dir.resolve("file"), "");
        assertThat(single("sites = [{ root = file }]").message()).isEqualTo(dir.resolve("file") + " is not a directory");
        assertThat(single("sites = [{ root = file/www }]").message()).as("a file on the way (ENOTDIR)")
                .isEqualTo(dir.resolve("file/www") + " does not exist");
    }

    @Test
    void noSites() {
        ConfigProblem problem = single("server.io-threads = 1");
        assertThat(problem.key()).isEqualTo("edge.sites");
        assertThat(problem.message()).isEqualTo("no sites");
        assertThat(problem.line()).isEqualTo(1);
    }

    @Test
    void moreThanOneDefaultSite() {
        ConfigProblem problem = single("sites = [\n{ root = www, default = true }\n{ root = www, default = true }\n]");
        assertThat(problem.key()).isEqualTo("edge.sites[1].default");
        assertThat(problem.line()).isEqualTo(4);
    }

    @Test
    void serverNameInTwoSites() {
        assertThat(single("sites = [{ root = www, server-names = [a.org] }, { root = www, server-names = [A.org] }]")
                .message()).isEqualTo("\"A.org\" is already a name of edge.sites[0]");
    }

    /** Host is routed without its trailing dot: "x.test." is the name "x.test", not one no request could reach. */
    @Test
    void aServerNameWithATrailingDotIsTheSameName() {
        assertThat(single("sites = [{ root = www, server-names = [x.test] }, { root = www, server-names = [\"X.TEST.\"] }]")
                .message()).isEqualTo("\"X.TEST.\" is already a name of edge.sites[0]");
    }

    /** As a Host header carries it: "[::1]" is a name (compared as text), "::1" without brackets is not. */
    @Test
    void anIpv6ServerNameIsBracketed() {
        assertThat(problemsOrNone("sites = [{ root = www, default = true, server-names = [\"[::1]\", \"[FE80::1]\"] }]"))
                .isEmpty();
        ConfigProblem bare = single("sites = [{ root = www, server-names = [\"::1\"] }]");
        assertThat(bare.key()).isEqualTo("edge.sites[0].server-names[0]");
        assertThat(bare.expected()).isEqualTo("a host name, or an IPv6 address in brackets as in Host: [::1]");
        assertThat(single("sites = [{ root = www, server-names = [\"a.org:80\"] }]").message())
                .isEqualTo("\"a.org:80\" is not a host name");
    }

    /**
     * A name no Host header edge accepts could carry (RequestTarget.isHostAndPort: a reg-name without an empty
     * label, or an IP literal) routes nothing: its site would be reached only as the default, without a word.
     */
    @Test
    void serverNamesThatNoHostCanMatch() {
        List<ConfigProblem> problems = problems("""
                sites = [{ root = www, server-names = [
                  "a..test",
                  ".",
                  "*.",
                  "www.*.example.org",
                  "www.example.*.",
                  "*.*.example.org",
                  "~^(www\\\\d+\\\\.example\\\\.org$",
                  "~ ^shop\\\\.",
                  "a,b.test",
                  "Caf\u00e9.test",
                  "[1:2]",
                  "..test"
                ] }]
                """);
        String hostName = "a host name such as example.org, *.example.org, .example.org or www.example.*";
        String wildcard = "a wildcard such as *.example.org or www.example.*, or a regular expression such as"
                + " ~^www\\..+\\.example\\.org$ (default = true answers hosts no name matches)";
        assertThat(problems).extracting(ConfigProblem::line, ConfigProblem::key, ConfigProblem::message,
                ConfigProblem::expected).containsExactly(
                tuple(3, "edge.sites[0].server-names[0]", "\"a..test\" has an empty label", hostName),
                tuple(4, "edge.sites[0].server-names[1]", "\".\" has an empty label", hostName),
                tuple(5, "edge.sites[0].server-names[2]", "\"*.\" has a '*' elsewhere than a whole first or last label",
                        wildcard),
                tuple(6, "edge.sites[0].server-names[3]", "\"www.*.example.org\" has a '*' elsewhere than a whole first"
                        + " or last label", wildcard),
                tuple(7, "edge.sites[0].server-names[4]", "\"www.example.*.\" has a '*' elsewhere than a whole first"
                        + " or last label", wildcard),
                tuple(8, "edge.sites[0].server-names[5]", "\"*.*.example.org\" has a '*' elsewhere than a whole first"
                        + " or last label", wildcard),
                tuple(9, "edge.sites[0].server-names[6]", "\"~^(www\\d+\\.example\\.org$\" bad regular expression:"
                        + " Unclosed group at index 23", "a regular expression a host is matched with, such as"
                        + " ~^(www\\.)?example\\.(com|net)$"),
                tuple(10, "edge.sites[0].server-names[7]", "\"~ ^shop\\.\" has white space after ~, which no host has",
                        "the regular expression right after ~, such as ~^shop\\."),
                tuple(11, "edge.sites[0].server-names[8]", "\"a,b.test\" has ',', which no Host can carry", hostName),
                tuple(12, "edge.sites[0].server-names[9]", "\"Caf\u00e9.test\" is not ASCII",
                        "its ASCII form as a Host carries it, \"xn--caf-dma.test\""),
                tuple(13, "edge.sites[0].server-names[10]", "\"[1:2]\" is not an IPv6 address in brackets",
                        "a host name, or an IPv6 address in brackets as in Host: [::1]"),
                tuple(14, "edge.sites[0].server-names[11]", "\"..test\" has an empty label", hostName));
    }

    /**
     * A problem is one line: control characters of a value it quotes are written as escapes, so that a server name
     * with an ESC does not drive the terminal, nor a path with a line break forge a second problem.
     */
    @Test
    void aProblemWritesTheControlCharactersOfWhatItQuotesAsEscapes() {
        List<ConfigProblem> problems = problems("""
                sites = [{ root = www, server-names = ["a\\u001b[31mRED.test"] }]
                server.access-log = "/nonexistent\\nedge.conf:1: forged/x.log"
                """);
        assertThat(problems).isNotEmpty().allSatisfy(problem -> assertThat(problem.toString())
                .doesNotContainPattern("[\\x00-\\x1f\\x7f]"));
        assertThat(problems).extracting(ConfigProblem::toString).anySatisfy(line -> assertThat(line)
                .contains("\"a\\u001b[31mRED.test\""));
        assertThat(problems).extracting(ConfigProblem::toString).anySatisfy(line -> assertThat(line)
                .contains("/nonexistent\\nedge.conf:1: forged"));
    }

    /** Every kind of name a Host can match stays valid: exact, both wildcards, addresses, "_" (a name like any). */
    @Test
    void serverNamesThatAHostCanMatch() {
        assertThat(problemsOrNone("""
                sites = [{ root = www, default = true, server-names = [a.test, "B.Test.", "*.c.test", ".d.test",
                  _, "127.0.0.1", "[::1]", "[::ffff:10.0.0.1]", "[v1.x]", xn--caf-dma.test, "%41.test", a-b_c~d.test,
                  localhost] }]
                """)).isEmpty();
    }

    @Test
    void serverNameRepeatedInOneSite() {
        ConfigProblem problem = single("sites = [{ root = www, server-names = [a.org, b.org, A.org] }]");
        assertThat(problem.key()).isEqualTo("edge.sites[0].server-names[2]");
        assertThat(problem.message()).isEqualTo("\"A.org\" is repeated in this site");
        assertThat(problem.expected()).isEqualTo("each name once");
    }

    @Test
    void problemsInListElementsNameTheElementAndItsLine() {
        List<ConfigProblem> problems = problems("""
                sites = [{ root = www, index = [index.html,
                  "a/b"], server-names = [a.org,
                  "bad name"] }]
                server.listen = [
                  "127.0.0.1:8080",
                  "127.0.0.1"
                ]
                fastcgi.backends.php.addresses = ["127.0.0.1:9000",
                  "unix:"]
                """);
        assertThat(problems).extracting(ConfigProblem::line, ConfigProblem::key).containsExactly(
                tuple(3, "edge.sites[0].index[1]"),
                tuple(4, "edge.sites[0].server-names[1]"),
                tuple(7, "edge.server.listen[1]"),
                tuple(10, "edge.fastcgi.backends.php.addresses[1]"));
    }

    /**
     * Two addresses written without a comma between them are one value, "a:1 b:2" (HOCON concatenates them): that was
     * "an IPv6 address must be written in brackets", of addresses that are not IPv6.
     */
    @Test
    void twoAddressesWithoutACommaBetweenThemAreSaidToBeOne() {
        List<ConfigProblem> problems = problems(SITE + """

                server.listen = ["127.0.0.1:18433" "127.0.0.1:18434"]
                fastcgi.backends.php.addresses = ["127.0.0.1:9000"
                  "127.0.0.1:9001", "127.0.0.1:9002" "127.0.0.1:9003"]
                """);
        assertThat(problems).extracting(ConfigProblem::line, ConfigProblem::key, ConfigProblem::message).containsExactly(
                tuple(3, "edge.server.listen[0]",
                        "\"127.0.0.1:18433 127.0.0.1:18434\" is two values with a space between them (a comma missing?)"),
                tuple(5, "edge.fastcgi.backends.php.addresses[2]",
                        "\"127.0.0.1:9002 127.0.0.1:9003\" is two values with a space between them (a comma missing?)"));
    }

    /**
     * HOCON keeps whatever white space is written between two values it joins: with a tab between them, two addresses
     * were "an IPv6 address must be written in brackets" (of IPv4 ones) or "port ... is not a number" (of IPv6 ones),
     * not a comma missing. The tab is said, as it reads as a gap in the value quoted.
     */
    @Test
    void twoAddressesWithATabOrMoreWhiteSpaceBetweenThemAreSaidToBeOne() {
        List<ConfigProblem> problems = problems(SITE + """

                server.listen = ["127.0.0.1:18433"\t"127.0.0.1:18434"]
                fastcgi.backends.php.addresses = ["[::1]:9000"\t"[::1]:9001", "127.0.0.1:9002" \t  "127.0.0.1:9003"]
                """);
        assertThat(problems).extracting(ConfigProblem::line, ConfigProblem::key, ConfigProblem::message).containsExactly(
                tuple(3, "edge.server.listen[0]",
                        "\"127.0.0.1:18433\t127.0.0.1:18434\" is two values with a tab between them (a comma missing?)"),
                tuple(4, "edge.fastcgi.backends.php.addresses[0]",
                        "\"[::1]:9000\t[::1]:9001\" is two values with a tab between them (a comma missing?)"),
                tuple(4, "edge.fastcgi.backends.php.addresses[1]",
                        "\"127.0.0.1:9002 \t  127.0.0.1:9003\" is two values with white space between them"
                                + " (a comma missing?)"));
    }

    @Test
    void listenAddressListedTwiceOrUnderAWildcard() {
        ConfigProblem twice = single(SITE + "\nserver.listen = [\"127.0.0.1:18433\", \"127.0.0.1:18433\"]");
        assertThat(twice.key()).isEqualTo("edge.server.listen[1]");
        assertThat(twice.message()).isEqualTo("\"127.0.0.1:18433\" is listed twice");
        ConfigProblem wildcard = single(SITE + "\nserver.listen = [\"*:18433\", \"127.0.0.1:18433\"]");
        assertThat(wildcard.message()).isEqualTo("\"127.0.0.1:18433\" overlaps \"*:18433\"");
        assertThat(problemsOrNone(SITE + "\nserver.listen = [\"127.0.0.1:18433\", \"127.0.0.1:18434\"]")).isEmpty();
    }

    /**
     * nginx's pair "listen 80; listen [::]:80;" (its [::] is ipv6only) overlaps here, where "[::]:80" takes IPv4 too:
     * the problem says what to write instead.
     */
    @Test
    void nginxsPairOfWildcardsIsRefusedSayingThatOneTakesBoth() {
        ConfigProblem pair = single(SITE + "\nserver.listen = [\"0.0.0.0:18433\", \"[::]:18433\"]");
        assertThat(pair.message()).isEqualTo("\"[::]:18433\" overlaps \"0.0.0.0:18433\"");
        assertThat(pair.expected()).contains("IPv4 and IPv6 alike", "is \"*:80\" alone");
    }

    /**
     * A host name listens on each of its addresses, as nginx's listen does since 1.15.10: "localhost" (127.0.0.1 and
     * ::1 in the tests' hosts file) on both, so a client that tries ::1 first is answered, not refused. Only the first
     * was bound.
     */
    @Test
    void aHostNameListensOnEachOfItsAddresses() throws Exception {
        EdgeSettings settings = new ConfigLoader().load(write(SITE + "\nserver.listen = [\"localhost:18433\"]"));
        assertThat(settings.server().listen()).containsExactly(new InetSocketAddress("127.0.0.1", 18433),
                new InetSocketAddress("::1", 18433));
        assertThat(single(SITE + "\nserver.listen = [\"localhost:18433\", \"[::1]:18433\"]").message())
                .isEqualTo("\"[::1]:18433\" is listed twice");
        ConfigProblem underWildcard = single(SITE + "\nserver.listen = [\"*:18433\", \"localhost:18433\"]");
        assertThat(underWildcard.key()).isEqualTo("edge.server.listen[1]");
        assertThat(underWildcard.message()).isEqualTo("\"localhost:18433\" overlaps \"*:18433\"");
    }

    /**
     * An address listed twice is two pool members for one php-fpm: twice max-connections against its
     * pm.max_children, and health checks that mark one copy down while the other takes requests.
     */
    @Test
    void backendAddressListedTwice() throws Exception {
        Files.createDirectory(dir.resolve("php"));
        Files.createDirectory(dir.resolve("run"));
        List<ConfigProblem> problems = problems(SITE + """

                fastcgi.backends.php.addresses = [
                  "unix:php/fpm.sock",
                  "127.0.0.1:9000",
                  "unix:php/fpm.sock",
                  "unix:other/../php/fpm.sock",
                  "unix:run/fpm.sock",
                  "unix:%s/run/fpm.sock",
                  "PHP.test:9001",
                  "php.test:9001",
                  "[::1]:9002",
                  "[0:0::1]:9002",
                  "127.0.0.1:9003"
                ]
                fastcgi.backends.other.addresses = ["127.0.0.1:9000"]
                """.formatted(dir));
        String expected = "each address once (max-connections is how many connections one takes)";
        assertThat(problems).extracting(ConfigProblem::line, ConfigProblem::key, ConfigProblem::message,
                ConfigProblem::expected).containsExactly(
                tuple(6, "edge.fastcgi.backends.php.addresses[2]", "\"unix:php/fpm.sock\" is listed twice", expected),
                tuple(7, "edge.fastcgi.backends.php.addresses[3]",
                        "\"unix:other/../php/fpm.sock\" is the same address as \"unix:php/fpm.sock\"", expected),
                tuple(9, "edge.fastcgi.backends.php.addresses[5]",
                        "\"unix:" + dir + "/run/fpm.sock\" is the same address as \"unix:run/fpm.sock\"", expected),
                tuple(11, "edge.fastcgi.backends.php.addresses[7]",
                        "\"php.test:9001\" is the same address as \"PHP.test:9001\"", expected),
                tuple(13, "edge.fastcgi.backends.php.addresses[9]",
                        "\"[0:0::1]:9002\" is the same address as \"[::1]:9002\"", expected));
    }

    /**
     * php-fpm makes its socket when it starts, which may be after edge, but not the directory the socket goes in: a
     * directory that does not exist is a mistake in the path (nginx -t checks neither).
     */
    @Test
    void aUnixSocketInADirectoryThatDoesNotExistIsAProblemAndAMissingSocketIsNot() throws Exception {
        Files.createDirectory(dir.resolve("run"));
        Files.writeString(dir.resolve("file"), "");
        try (java.nio.channels.ServerSocketChannel listening = java.nio.channels.ServerSocketChannel.open(
                java.net.StandardProtocolFamily.UNIX)) {
            listening.bind(java.net.UnixDomainSocketAddress.of(dir.resolve("run/live.sock")));
            List<ConfigProblem> problems = problems(SITE + """

                    fastcgi.backends.php.addresses = [
                      "unix:run/fpm.sock",
                      "unix:nope/fpm.sock",
                      "unix:%s/file/fpm.sock"
                      "unix:run/live.sock"
                    ]
                    fastcgi.backends.api.addresses = ["unix:/nonexistent-edge-dir/api.sock", "127.0.0.1:9000"]
                    # a directory or a file where the socket goes: connects refused, taken for a php-fpm restarting
                    fastcgi.backends.dir.addresses = ["unix:run/"]
                    fastcgi.backends.file.addresses = ["unix:file"]
                    """.formatted(dir));
            String expected = "a socket path in an existing directory (php-fpm makes the socket, not its directory),"
                    + " such as unix:/run/php/php8.2-fpm.sock";
            assertThat(problems).extracting(ConfigProblem::line, ConfigProblem::key, ConfigProblem::message,
                    ConfigProblem::expected).containsExactlyInAnyOrder(
                    tuple(11, "edge.fastcgi.backends.dir.addresses[0]",
                            "\"unix:run/\": " + dir.resolve("run") + " is a directory, not a socket", expected),
                    tuple(12, "edge.fastcgi.backends.file.addresses[0]",
                            "\"unix:file\": " + dir.resolve("file") + " is a file, not a socket", expected),
                    tuple(5, "edge.fastcgi.backends.php.addresses[1]",
                            "\"unix:nope/fpm.sock\": directory " + dir.resolve("nope") + " does not exist", expected),
                    tuple(6, "edge.fastcgi.backends.php.addresses[2]",
                            "\"unix:" + dir + "/file/fpm.sock\": " + dir.resolve("file") + " is not a directory",
                            expected),
                    tuple(9, "edge.fastcgi.backends.api.addresses[0]",
                            "\"unix:/nonexistent-edge-dir/api.sock\": directory /nonexistent-edge-dir does not exist",
                            expected));
        }
    }

    /**
     * A socket there that edge's user may not write (php-fpm's listen.mode 0660 for another user) is a problem: each
     * connect would be refused (EACCES), a 502. A socket not there yet (php-fpm makes it when it starts) and one edge
     * may write are not, and a file there is the other check's. The tests run as root, whom access(2) lets write any
     * socket, so the permission is the injected check's here; EdgeProcessIT runs --check-config without root's
     * override against a real socket.
     */
    @Test
    void aSocketEdgesUserMayNotWriteIsAProblemAndOneNotThereYetIsNot() throws Exception {
        Files.writeString(dir.resolve("file"), "");
        try (java.nio.channels.ServerSocketChannel listening = java.nio.channels.ServerSocketChannel.open(
                java.net.StandardProtocolFamily.UNIX)) {
            Path socket = dir.resolve("live.sock");
            listening.bind(java.net.UnixDomainSocketAddress.of(socket));
            assertThat(SettingsMapper.unwritableSocket("unix:" + socket, path -> false))
                    .startsWith(socket + " is a socket edge's user (").endsWith("may not write to, or reach: each"
                            + " connect would be refused for its permission (EACCES), a 502");
            assertThat(SettingsMapper.unwritableSocket("unix:" + socket, path -> true)).isNull();
            assertThat(SettingsMapper.unwritableSocket("unix:" + socket, Files::isWritable)).as("its owner").isNull();
            assertThat(SettingsMapper.unwritableSocket("unix:" + dir.resolve("none.sock"), path -> false)).isNull();
            assertThat(SettingsMapper.unwritableSocket("unix:" + dir.resolve("file"), path -> false)).isNull();
            assertThat(SettingsMapper.unwritableSocket("127.0.0.1:9000", path -> false)).isNull();
        }
    }

    @Test
    void aListOfTheWrongTypeIsOneProblem() {
        ConfigProblem sites = single("sites = { root = www }");
        assertThat(sites.key()).isEqualTo("edge.sites");
        assertThat(sites.message()).endsWith("is not a list");
        ConfigProblem addresses = single(SITE + "\nfastcgi.backends.php.addresses = \"x:1\"");
        assertThat(addresses.key()).isEqualTo("edge.fastcgi.backends.php.addresses");
        assertThat(addresses.message()).isEqualTo("\"x:1\" is not a list");
        assertThat(single(SITE + "\nserver.listen = \"127.0.0.1:80\"").message()).endsWith("is not a list");
        assertThat(single("sites = [{ root = www, locations = { match = \"/\" } }]").message()).endsWith("is not a list");
    }

    @Test
    void invalidListenAddresses() {
        assertThat(single(SITE + "\nserver.listen = [\"127.0.0.1\"]").message()).isEqualTo("\"127.0.0.1\" has no port");
        // nginx's "listen 80" copied over: said so, with what to write
        assertThat(single(SITE + "\nserver.listen = [\"80\"]").message()).isEqualTo("\"80\" is a port alone (nginx's "
                + "listen 80): write \"*:80\" for every address, or an address and the port, \"127.0.0.1:80\"");
        assertThat(single(SITE + "\nfastcgi.backends.php.addresses = [\"9000\"]").message()).isEqualTo("\"9000\" is a "
                + "port alone: write the address php-fpm listens on and the port, \"127.0.0.1:9000\"");
        assertThat(single(SITE + "\nserver.listen = [\"127.0.0.1:70000\"]").message())
                .isEqualTo("\"127.0.0.1:70000\" port 70000 is out of range 0..65535");
        assertThat(single(SITE + "\nserver.listen = [\"::1:80\"]").message())
                .startsWith("\"::1:80\" an IPv6 address must be written in brackets");
        assertThat(single(SITE + "\nserver.listen = []").message()).isEqualTo("no address");
        // Integer.parseInt takes a sign and any script's digits: these were ports 8080 and 80
        assertThat(single(SITE + "\nserver.listen = [\"127.0.0.1:+8080\"]").message())
                .isEqualTo("\"127.0.0.1:+8080\" port \"+8080\" is not a number");
        assertThat(single(SITE + "\nserver.listen = [\"127.0.0.1:\uff18\uff10\"]").message())
                .isEqualTo("\"127.0.0.1:\uff18\uff10\" port \"\uff18\uff10\" is not a number");
        assertThat(single(SITE + "\nfastcgi.backends.php.addresses = [\"127.0.0.1:\u0669\u0660\u0660\u0660\"]")
                .message()).endsWith(" is not a number");
        // Java and nginx read 0177.0.0.1 as 177.0.0.1, glibc's inet_aton as octal 127.0.0.1; Java 1.2.3 as 1.2.0.3
        for (String host : List.of("0177.0.0.1", "010.0.0.1", "1.2.3", "[::ffff:0177.0.0.1]")) {
            assertThat(single(SITE + "\nserver.listen = [\"" + host + ":8080\"]").message()).as(host)
                    .contains(" is not an IP address");
        }
        assertThat(problemsOrNone(SITE + "\nserver.listen = [\"127.0.0.1:0\", \"[::ffff:127.0.0.1]:0\"]")).isEmpty();
        assertThat(single(SITE + "\nserver.listen = [\"http://127.0.0.1:8080\"]").message()).isEqualTo(
                "\"http://127.0.0.1:8080\" is a URL, not an address: write host:port, such as 127.0.0.1:8080");
    }

    /** Its host held a colon: the problem said "an IPv6 address must be written in brackets". */
    @Test
    void aBackendAddressWithATcpPrefixIsSaidToNeedNone() {
        ConfigProblem problem = single(SITE + "\nfastcgi.backends.php.addresses = [\"unix:/run/php.sock\", \"tcp:[::1]:9000\"]");
        assertThat(problem.file()).isEqualTo(dir.resolve("edge.conf"));
        assertThat(problem.line()).isEqualTo(3);
        assertThat(problem.key()).isEqualTo("edge.fastcgi.backends.php.addresses[1]");
        assertThat(problem.message()).isEqualTo("\"tcp:[::1]:9000\" has a \"tcp:\" prefix, which is not taken: write"
                + " host:port (\"[::1]:9000\") or unix:/path");
        assertThat(problem.expected()).isEqualTo("\"unix:/path/to.sock\", \"host:port\" or \"[v6]:port\"");
        assertThat(single(SITE + "\nfastcgi.backends.php.addresses = [\"TCP:127.0.0.1:9000\"]").message())
                .isEqualTo("\"TCP:127.0.0.1:9000\" has a \"tcp:\" prefix, which is not taken: write host:port"
                        + " (\"127.0.0.1:9000\") or unix:/path");
        assertThat(single(SITE + "\nfastcgi.backends.php.addresses = [\"tcp://127.0.0.1:9000\"]").message())
                .startsWith("\"tcp://127.0.0.1:9000\" is a URL, not an address");
    }

    @Test
    void locationMatchSyntax() {
        assertThat(single("sites = [{ root = www, locations = [{ match = \"images/\" }] }]").message())
                .isEqualTo("\"images/\" path \"images/\" does not start with \"/\"");
        assertThat(single("sites = [{ root = www, locations = [{ match = \"= \" }] }]").message())
                .isEqualTo("\"= \" has no path");
        ConfigProblem regex = single("sites = [{ root = www, locations = [{ match = \"~ ([a-z\" }] }]");
        assertThat(regex.key()).isEqualTo("edge.sites[0].locations[0].match");
        assertThat(regex.message()).startsWith("\"~ ([a-z\" bad regular expression: ");
        assertThat(regex.expected()).isEqualTo(LocationMatch.EXPECTED);
        // Java's own words for it were "Unexpected internal error at index 1"
        assertThat(single("sites = [{ root = www, locations = [{ match = \"~ a\\\\\" }] }]").message())
                .isEqualTo("\"~ a\\\" bad regular expression: it ends in a \\ that escapes nothing (\\\\ for a backslash)");
        assertThat(problemsOrNone("sites = [{ root = www, locations = [{ match = \"~ a\\\\\\\\\" }] }]"))
                .as("an escaped backslash").isEmpty();
    }

    /**
     * A named location ({@code match = "@app"}, nginx's location @app): a front-controller and error-pages name it, a
     * FastCGI one runs its fastcgi-script for every client, and an error page's "=" says whose status the answer has.
     */
    @Test
    void namedLocationsAreNamedByFrontControllersAndErrorPages() throws Exception {
        EdgeSettings settings = new ConfigLoader().load(write("""
                sites = [{ root = www, error-pages { 404 = "@app", 403 = "= @app", 500 = "=200 @php" }, locations = [
                  { match = "/", front-controller = "@app" }
                  { match = "@app", proxy = app }
                  { match = "@php", fastcgi = php, fastcgi-script = "/index.php" }
                ] }]
                fastcgi.backends.php.addresses = ["127.0.0.1:9000"]
                proxy.backends.app.addresses = ["127.0.0.1:3000"]
                """));
        SiteSettings site = settings.sites().get(0);
        assertThat(site.locations().get(0).frontController()).isEqualTo("@app");
        LocationSettings app = site.namedLocation("@app");
        assertThat(app.kind()).isEqualTo(LocationSettings.Kind.NAMED);
        assertThat(app.handler()).isEqualTo(LocationSettings.Handler.PROXY);
        assertThat(site.namedLocation("@php").statusAllow()).as("its script is every client's").isEmpty();
        assertThat(site.errorPage(404)).as("no page of a file").isNull();
        assertThat(site.namedErrorPage(404).uri()).isEqualTo("@app");
        assertThat(site.namedErrorPage(404).answerStatus()).as("the error's").isEqualTo(-1);
        assertThat(site.namedErrorPage(403).answerStatus()).as("its own").isZero();
        assertThat(site.namedErrorPage(500).answerStatus()).isEqualTo(200);
    }

    /** What nginx refuses of a named location, and the names that lead nowhere: each a problem at its key and line. */
    @Test
    void namedLocationProblems() {
        String backends = """
                fastcgi.backends.php.addresses = ["127.0.0.1:9000"]
                proxy.backends.app.addresses = ["127.0.0.1:3000"]
                """;
        ConfigProblem missing = single("""
                sites = [{ root = www, locations = [
                  { match = "/", front-controller = "@ap" }
                  { match = "@app", proxy = app }
                ] }]
                """ + backends);
        assertThat(missing.key()).isEqualTo("edge.sites[0].locations[0].front-controller");
        assertThat(missing.line()).isEqualTo(3);
        assertThat(missing.message()).isEqualTo("\"@ap\" names no location of this site (did you mean \"@app\"?)");
        ConfigProblem page = single("sites = [{ root = www, error-pages { 404 = \"@none\" } }]\n" + backends);
        assertThat(page.key()).isEqualTo("edge.sites[0].error-pages.404");
        assertThat(page.message()).isEqualTo("\"@none\" names no location of this site");
        assertThat(problems("""
                sites = [{ root = www, error-pages { 404 = "=20 @app", 403 = "= /403.html", 410 = "@app @app" }, locations = [
                  { match = "/" }, { match = "@app", proxy = app }, { match = " @app", proxy = app }
                  { match = "@php", fastcgi = php }
                  { match = "@up", proxy = app, proxy-uri = "/v2/" }
                  { match = "@in", internal = true }
                  { match = "@alias", alias = "www/" }
                  { match = "@" }
                  { match = "~ \\\\.php$", fastcgi = php, front-controller = "@app" }
                  { match = "@guarded", fastcgi = php, fastcgi-script = "/index.php", status-allow = ["127.0.0.1"] }
                ] }]
                """ + backends)).extracting(ConfigProblem::key, ConfigProblem::message).containsExactlyInAnyOrder(
                tuple("edge.sites[0].error-pages.403", "\"= /403.html\" has no named location after its \"=\", nor"
                        + " a path a script or proxy location takes (a file's page is sent with the error's status)"),
                tuple("edge.sites[0].error-pages.404", "\"=20\" is not \"=\" or \"=\" and a status"),
                tuple("edge.sites[0].error-pages.410", "\"@app @app\" is not one name"),
                tuple("edge.sites[0].locations[2].match", "\" @app\" duplicates an earlier location of this site"),
                tuple("edge.sites[0].locations[3].fastcgi", "set in a named location without fastcgi-script: no"
                        + " request's path names a script there"),
                tuple("edge.sites[0].locations[4].proxy-uri", "set in a named location, which names no prefix to"
                        + " replace"),
                tuple("edge.sites[0].locations[5].internal", "true in a named location, which no client's request"
                        + " reaches already"),
                tuple("edge.sites[0].locations[6].alias", "set in a named location"),
                tuple("edge.sites[0].locations[7].match", "\"@\" has no name after \"@\""),
                tuple("edge.sites[0].locations[8].front-controller", "\"@app\" is set in a location with fastcgi: a"
                        + " named front-controller is a location of files' (nginx's try_files $uri $uri/ @app)"),
                tuple("edge.sites[0].locations[9].status-allow", "set in a named location, whose fastcgi-script is"
                        + " every client's: it guards status pages only, not this location"));
    }

    /**
     * A 413 names no location ({@code 413 = "@app"}, any form): it was accepted and never used, the body refused
     * unread answered as it is. nginx's error_page 413 @app hands the named location the request with its body
     * discarded yet still announced (1.22, measured: php-fpm saw CONTENT_LENGTH 2000 and no body), a request a
     * proxied backend would wait on; a 413's page is a file's.
     */
    @Test
    void aNamedPageFor413IsAProblem() {
        assertThat(problems("""
                sites = [{ root = www, error-pages { 413 = "@app", 404 = "@app" }, locations = [
                  { match = "/" }, { match = "@app", proxy = app }
                ] }]
                proxy.backends.app.addresses = ["127.0.0.1:3000"]
                """)).extracting(ConfigProblem::key, ConfigProblem::line, ConfigProblem::message).containsExactly(
                tuple("edge.sites[0].error-pages.413", 2, "\"@app\": a 413 goes to no named location (its body is"
                        + " refused unread; nginx's error_page 413 @app passes the request on announcing the body it"
                        + " dropped)"));
        assertThat(problems("sites = [{ root = www, error-pages { 413 = \"=200 @app\" }, locations = [{ match = \"@app\","
                + " proxy = app }] }]\nproxy.backends.app.addresses = [\"127.0.0.1:3000\"]\n"))
                .extracting(ConfigProblem::key).containsExactly("edge.sites[0].error-pages.413");
    }

    /**
     * site-defaults' error-pages naming a location only some sites have: the problem is the site's that lacks it (its
     * key, the line written under site-defaults), each such site's, not site-defaults' once, which says none of them.
     */
    @Test
    void aNamedErrorPageOfSiteDefaultsIsAProblemOfEachSiteWithoutTheLocation() {
        assertThat(problems("""
                site-defaults.error-pages { 404 = "@app" }
                sites = [
                  { server-names = [a], root = www, locations = [{ match = "@app", proxy = app }] }
                  { server-names = [b], root = www }
                  { server-names = [c], root = www }
                ]
                proxy.backends.app.addresses = ["127.0.0.1:3000"]
                """)).extracting(ConfigProblem::key, ConfigProblem::line, ConfigProblem::message).containsExactly(
                tuple("edge.sites[1].error-pages.404", 2, "\"@app\" names no location of this site"),
                tuple("edge.sites[2].error-pages.404", 2, "\"@app\" names no location of this site"));
    }

    /** "/a" and "^~ /a" are one prefix, as nginx has it: which of their settings applied went by their order. */
    @Test
    void duplicateLocation() {
        assertThat(single("sites = [{ root = www, locations = [{ match = \"/\" }, { match = \" / \" }] }]").message())
                .isEqualTo("\" / \" duplicates an earlier location of this site");
        ConfigProblem prefixTwice = single("sites = [{ root = www, locations = [{ match = \"/\" }, { match = \"/a\" }, "
                + "{ match = \"^~ /a\" }] }]");
        assertThat(prefixTwice.key()).isEqualTo("edge.sites[0].locations[2].match");
        assertThat(prefixTwice.message()).isEqualTo("\"^~ /a\" duplicates an earlier location of this site");
        // a regex and the same one ignoring case are two (the second answers /X/), as nginx takes them
        assertThat(problemsOrNone("sites = [{ root = www, locations = [{ match = \"~ ^/x/\" }, { match = \"~* ^/x/\" }] }]"))
                .isEmpty();
        assertThat(single("sites = [{ root = www, locations = [{ match = \"~* ^/x/\" }, { match = \"~*  ^/x/\" }] }]")
                .message()).isEqualTo("\"~*  ^/x/\" duplicates an earlier location of this site");
    }

    @Test
    void locationNamingAnUndefinedBackend() {
        ConfigProblem problem = single("""
                sites = [{ root = www, locations = [{ match = "~ \\\\.php$", fastcgi = phq }] }]
                fastcgi.backends.php.addresses = ["127.0.0.1:9000"]
                """);
        assertThat(problem.message()).isEqualTo("no backend named \"phq\" (did you mean \"php\"?)");
        assertThat(problem.expected()).isEqualTo("one of php");
    }

    /**
     * A backend misspelt under location-defaults was one problem per location, each named as that location's fastcgi
     * at location-defaults' line: the config audit's fifty lines for one typo, none naming the key to correct.
     */
    @Test
    void anUndefinedBackendUnderLocationDefaultsIsOneProblemThere() {
        List<ConfigProblem> problems = problems("""
                location-defaults.fastcgi = phq
                sites = [{ root = www, locations = [{ match = "/" }, { match = "/a/" }] }, { root = www }]
                fastcgi.backends.php.addresses = ["127.0.0.1:9000"]
                """);
        assertThat(problems).extracting(ConfigProblem::key, ConfigProblem::line, ConfigProblem::message)
                .containsExactly(tuple("edge.location-defaults.fastcgi", 2, "no backend named \"phq\" (did you mean \"php\"?)"));
    }

    @Test
    void spawnCommandMustBeExecutableOnlyWhenEnabled() throws Exception {
        Files.writeString(dir.resolve("not-executable"), "");
        String backend = "\nfastcgi.backends.php.spawn { command = not-executable, enabled = %s }";
        assertThat(new ConfigLoader().load(write(SITE + backend.formatted("false") + "\nfastcgi.backends.php"
                + ".addresses = [\"127.0.0.1:9000\"]")).backends().get("php").spawn()).isNull();
        ConfigProblem problem = single(SITE + backend.formatted("true"));
        assertThat(problem.key()).isEqualTo("edge.fastcgi.backends.php.spawn.command");
        assertThat(problem.message()).isEqualTo(dir.resolve("not-executable") + " is not an executable file");
    }

    @Test
    void spawnIniLinesFollowTheSupervisorsRule() throws Exception {
        Path fpm = dir.resolve("fpm");
        Files.writeString(fpm, "");
        fpm.toFile().setExecutable(true);
        List<ConfigProblem> problems = problems(SITE + "\nfastcgi.backends.php.spawn { enabled = true, command = fpm,\n"
                + "  ini = [\"memory_limit = 64M\", \"= x\",\n  \"no equals\", \"bad key! = 1\", \"\"] }");
        assertThat(problems).extracting(ConfigProblem::line, ConfigProblem::key, ConfigProblem::message).containsExactly(
                tuple(4, "edge.fastcgi.backends.php.spawn.ini[1]", "\"= x\" has no key before \"=\""),
                tuple(5, "edge.fastcgi.backends.php.spawn.ini[2]", "\"no equals\" has no \"=\""),
                tuple(5, "edge.fastcgi.backends.php.spawn.ini[3]", "\"bad key! = 1\" key \"bad key!\" is not of [A-Za-z0-9_.]"));
        assertThat(problems.get(0).expected())
                .isEqualTo("\"key = value\", the key of [A-Za-z0-9_.], the value on one line");
    }

    /**
     * Values php-fpm's INI reader refuses (it reads them as expressions of PHP constants) are problems at their lines,
     * as php-fpm itself judges them; before, the check said ok and the start failed with php-fpm's "syntax error".
     */
    @Test
    void spawnIniValuesPhpFpmRefusesAreProblemsAtTheirLines() throws Exception {
        Path fpm = Path.of("/usr/sbin/php-fpm8.2");
        assertThat(fpm).as("php-fpm8.2 (bin/setup installs it)").isExecutable();
        List<ConfigProblem> problems = problems(SITE + "\nfastcgi.backends.php.spawn { enabled = true, command = \"" + fpm
                + "\",\n  ini = [\"memory_limit = 64M\", \"error_reporting = E_ALL & ~E_NOTICE\",\n"
                + "  \"a.b = x = y\", \"x = (a\", \"error_log = \\\"/unclosed\"] }");
        assertThat(problems).extracting(ConfigProblem::line, ConfigProblem::key).containsExactly(
                tuple(5, "edge.fastcgi.backends.php.spawn.ini[2]"), tuple(5, "edge.fastcgi.backends.php.spawn.ini[3]"),
                tuple(5, "edge.fastcgi.backends.php.spawn.ini[4]"));
        assertThat(problems.get(0).message()).isEqualTo("\"a.b = x = y\" is refused by php-fpm: syntax error, unexpected '='");
        assertThat(problems.get(0).expected()).isEqualTo("a value PHP's INI reader takes (quote one with = ( ) ! ~ or { in it)");
    }

    /** A malformed line is reported with php-fpm's verdict on the others, which it asked about (it asked none before). */
    @Test
    void aMalformedIniLineDoesNotHidePhpFpmsVerdictOnTheOthers() throws Exception {
        Path fpm = Path.of("/usr/sbin/php-fpm8.2");
        assertThat(fpm).as("php-fpm8.2 (bin/setup installs it)").isExecutable();
        List<ConfigProblem> problems = problems(SITE + "\nfastcgi.backends.php.spawn { enabled = true, command = \"" + fpm
                + "\",\n  ini = [\"no equals\", \"memory_limit = 64M\",\n  \"a.b = x = y\"] }");
        assertThat(problems).extracting(ConfigProblem::line, ConfigProblem::key, ConfigProblem::message).containsExactly(
                tuple(4, "edge.fastcgi.backends.php.spawn.ini[0]", "\"no equals\" has no \"=\""),
                tuple(5, "edge.fastcgi.backends.php.spawn.ini[2]",
                        "\"a.b = x = y\" is refused by php-fpm: syntax error, unexpected '='"));
    }

    /** A blank line among the lines php-fpm is asked about is no setting (it ended the check with an exception). */
    @Test
    void aBlankIniLineIsSkippedWhenPhpFpmIsAsked() throws Exception {
        Path fpm = Path.of("/usr/sbin/php-fpm8.2");
        assertThat(fpm).as("php-fpm8.2 (bin/setup installs it)").isExecutable();
        EdgeSettings settings = new ConfigLoader().load(write(SITE + "\nfastcgi.backends.php.spawn { enabled = true, "
                + "command = \"" + fpm + "\", ini = [\"memory_limit = 64M\", \"\"] }"));
        assertThat(settings.backends().get("php").spawn().extraIni()).containsExactly("memory_limit = 64M", "");
        assertThat(problems(SITE + "\nfastcgi.backends.php.spawn { enabled = true, command = \"" + fpm
                + "\", ini = [\"\", \"a.b = x = y\"] }")).extracting(ConfigProblem::key, ConfigProblem::message)
                .containsExactly(tuple("edge.fastcgi.backends.php.spawn.ini[1]",
                        "\"a.b = x = y\" is refused by php-fpm: syntax error, unexpected '='"));
    }

    /** PHP's command-line binary named for php-fpm passed as an executable file, and the group had no backend. */
    @Test
    void aSpawnCommandThatIsAnotherPhpIsAProblem() {
        ConfigProblem cli = single(SITE + "\nfastcgi.backends.php.spawn { enabled = true, command = \"/usr/bin/php8.2\" }");
        assertThat(cli.key()).isEqualTo("edge.fastcgi.backends.php.spawn.command");
        assertThat(cli.message()).isEqualTo("/usr/bin/php8.2 is PHP's cli, not php-fpm");
        assertThat(cli.expected()).isEqualTo("the path of the php-fpm binary, whose -v says (fpm-fcgi), such as "
                + "/usr/sbin/php-fpm8.2");
        assertThat(problemsOrNone(SITE + "\nfastcgi.backends.php.spawn { enabled = true, command = "
                + "\"/usr/sbin/php-fpm8.2\" }")).isEmpty();
    }

    /** A command that fails php-fpm's test with no ini lines at all (a wrapper without -t) is not asked about them. */
    @Test
    void spawnIniIsNotJudgedByACommandThatFailsWithoutIt() throws Exception {
        Path wrapper = dir.resolve("fpm-wrapper");
        Files.writeString(wrapper, "#!/bin/sh\necho 'PHP:  unknown option -t'\nexit 64\n");
        Files.setPosixFilePermissions(wrapper, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        EdgeSettings settings = new ConfigLoader().load(write(SITE + "\nfastcgi.backends.php.spawn { enabled = true, "
                + "command = \"" + wrapper + "\", ini = [\"a.b = x = y\"] }"));
        assertThat(settings.backends().get("php").spawn().extraIni()).containsExactly("a.b = x = y");
    }

    @Test
    void spawnPathsFollowTheSupervisorsRule() throws Exception {
        Path fpm = dir.resolve("php$fpm");
        Files.writeString(fpm, "#!/bin/sh\n");
        Files.setPosixFilePermissions(fpm, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        List<ConfigProblem> problems = problems(SITE + """

                server.run-dir = "run\\"dir"
                fastcgi.backends.php.spawn { enabled = true, command = "php$fpm" }
                """);
        assertThat(problems).extracting(ConfigProblem::toString).containsExactly(
                dir.resolve("edge.conf") + ":3: edge.server.run-dir: \"" + dir.resolve("run\"dir").toString().replace("\"", "\\\"")
                        + "\" contains '\"', and a spawned backend's pool config names it (expected: a path without '\"', "
                        + "'$' or control characters (it goes into php-fpm.conf))",
                dir.resolve("edge.conf") + ":4: edge.fastcgi.backends.php.spawn.command: \"" + fpm
                        + "\" contains '$' (expected: a path without '\"', '$' or control characters (it goes into "
                        + "php-fpm.conf))");
        assertThat(problemsOrNone(SITE + "\nserver.run-dir = \"run\\\"dir\"")).isEmpty(); // no spawned backend
    }

    @Test
    void spawnedBackendTakesNoAddresses() throws Exception {
        Path fpm = dir.resolve("fpm");
        Files.writeString(fpm, "");
        fpm.toFile().setExecutable(true);
        ConfigProblem problem = single(SITE + "\nfastcgi.backends.php { addresses = [\"127.0.0.1:9000\"], "
                + "spawn { enabled = true, command = fpm } }");
        assertThat(problem.key()).isEqualTo("edge.fastcgi.backends.php.addresses");
        assertThat(problem.message()).isEqualTo("must be empty when spawn.enabled = true");
    }

    /**
     * A spawned php-fpm's socket path must fit what edge probes it by (the JDK's 106 bytes) also after a reload put it
     * in "<run-dir>/php.N": 103 bytes at most. A 107-byte path passed the check and then failed the start.
     */
    @Test
    void spawnedSocketPathMustFitAUnixSocketAddressAlsoAfterAReload() throws Exception {
        Path fpm = dir.resolve("fpm");
        Files.writeString(fpm, "");
        fpm.toFile().setExecutable(true);
        String spawn = "\nfastcgi.backends.php.spawn { enabled = true, command = fpm }";
        // <run-dir>/php/php-fpm.sock: 17 bytes after the run directory
        String fits = dir.toAbsolutePath() + "/" + "r".repeat(103 - 17 - dir.toAbsolutePath().toString().length() - 1);
        EdgeSettings settings = new ConfigLoader().load(write(SITE + "\nserver.run-dir = \"" + fits + "\"" + spawn));
        assertThat(settings.backends().get("php").addresses()).containsExactly("unix:" + fits + "/php/php-fpm.sock");
        ConfigProblem problem = single(SITE + "\nserver.run-dir = \"" + fits + "r\"" + spawn);
        assertThat(problem.key()).isEqualTo("edge.fastcgi.backends.php.spawn");
        assertThat(problem.message()).endsWith("php-fpm.sock is 104 bytes, longer than the 103 that leave room "
                + "for a reload's run directory (php.N) within the 106 edge connects by");
    }

    @Test
    void backendWithoutAddressesOrSpawn() {
        ConfigProblem problem = single(SITE + "\nfastcgi.backends.php { balance = round-robin }");
        assertThat(problem.key()).isEqualTo("edge.fastcgi.backends.php.addresses");
        assertThat(problem.message()).isEqualTo("no address");
        assertThat(problem.line()).isEqualTo(3);
    }

    @Test
    void badBackendAddressAndPort() {
        assertThat(single(SITE + "\nfastcgi.backends.php.addresses = [\"127.0.0.1:0\"]").message())
                .isEqualTo("\"127.0.0.1:0\" port 0 is out of range 1..65535");
        assertThat(single(SITE + "\nfastcgi.backends.php.addresses = [\"unix:\"]").message())
                .isEqualTo("\"unix:\" has no socket path");
    }

    @Test
    void runDirMustBeADirectoryOrCreatable() throws Exception {
        Files.writeString(dir.resolve("file"), "");
        ConfigProblem file = single(SITE + "\nserver.run-dir = file");
        assertThat(file.key()).isEqualTo("edge.server.run-dir");
        assertThat(file.line()).isEqualTo(3);
        assertThat(file.message()).isEqualTo(dir.resolve("file") + " is not a directory");
        assertThat(single(SITE + "\nserver.run-dir = file/under/a/file").message())
                .isEqualTo(dir.resolve("file") + " is not a directory");
        assertThat(problemsOrNone(SITE + "\nserver.run-dir = run")).isEmpty();
        assertThat(problemsOrNone(SITE + "\nserver.run-dir = no/such/run")).as("made with its parents").isEmpty();
    }

    /**
     * /proc lets root write, as access(2) tells (the tests run as root), yet no directory can be made there: it passed
     * --check-config and failed at the start. As another user /proc is not writable at all; a problem either way.
     */
    @Test
    void runDirThatCannotBeMadeIsAProblemAtItsLine() {
        ConfigProblem problem = single(SITE + "\nserver.run-dir = \"/proc/edge-run\"");
        assertThat(problem.file()).isEqualTo(dir.resolve("edge.conf"));
        assertThat(problem.line()).isEqualTo(3);
        assertThat(problem.key()).isEqualTo("edge.server.run-dir");
        assertThat(problem.message()).contains("/proc").doesNotContain("Exception");
        assertThat(problem.expected()).contains("a writable directory");
        assertThat(single(SITE + "\nserver.run-dir = \"/proc/self\"").message()).startsWith("/proc/self is not writable");
    }

    /**
     * A run directory others could put files or links into is a problem of the check where FastCGI bodies would be
     * spooled there, as the spool refuses it: it passed, and the first body too large for memory failed with 500.
     * Sticky (as /tmp) and group-writable ones are taken; so is one edge will make (0700), and any without a backend.
     */
    @Test
    void aRunDirOthersCouldWriteInIsAProblemBeforeTheFirstUpload() throws Exception {
        String backend = "\nfastcgi.backends.php.addresses = [\"127.0.0.1:9000\"]";
        Path run = Files.createDirectory(dir.resolve("run"));
        Files.setPosixFilePermissions(run, PosixFilePermissions.fromString("rwxrwxrwx"));
        ConfigProblem open = single(SITE + backend + "\nserver.run-dir = run");
        assertThat(open.key()).isEqualTo("edge.server.run-dir");
        assertThat(open.line()).isEqualTo(4);
        assertThat(problemsOrNone(SITE + "\nserver.run-dir = run")).as("no backend: nothing is spooled").isEmpty();
        assertThat(open.message()).isEqualTo(run + " is writable by all, mode 0777, and bodies too large for memory are "
                + "spooled there");
        assertThat(open.expected()).isEqualTo("a run directory not writable by others, or sticky");

        Files.setPosixFilePermissions(run, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setOwner(run, run.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("nobody"));
        int nobody = (Integer) Files.getAttribute(run, "unix:uid");
        assertThat(single(SITE + backend + "\nserver.run-dir = run").message()).isEqualTo(run + " is owned by uid " + nobody
                + ", and bodies too large for memory are spooled there");

        Files.setOwner(run, Files.getOwner(dir));
        Files.setPosixFilePermissions(run, PosixFilePermissions.fromString("rwxrwx---"));
        assertThat(problemsOrNone(SITE + backend + "\nserver.run-dir = run")).as("group-writable").isEmpty();
        assertThat(new ProcessBuilder("chmod", "1777", run.toString()).inheritIO().start().waitFor()).isZero();
        assertThat(problemsOrNone(SITE + backend + "\nserver.run-dir = run")).as("sticky").isEmpty();
    }

    /**
     * Without a run directory (and no spawned php-fpm to make one), FastCGI's large bodies go to java.io.tmpdir: one
     * that is missing, or others could write in, is a problem of the check, not a 500 at the first large upload.
     */
    @Test
    void anUnusableTmpdirIsAProblemWhereBodiesWouldBeSpooledThere() throws Exception {
        String backend = SITE + "\nfastcgi.backends.php.addresses = [\"127.0.0.1:9000\"]";
        String tmpdir = System.getProperty("java.io.tmpdir");
        // this JVM's own; and JNA is loaded now (the first load unpacks it into java.io.tmpdir, making that directory)
        assertThat(problemsOrNone(backend)).isEmpty();
        Path open = Files.createDirectory(dir.resolve("open"));
        Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxrwxrwx"));
        try {
            System.setProperty("java.io.tmpdir", dir.resolve("missing").toString());
            ConfigProblem missing = single(backend);
            assertThat(missing.key()).isEqualTo("edge.server.run-dir");
            assertThat(missing.message()).isEqualTo("\"\" spools bodies too large for memory to java.io.tmpdir "
                    + dir.resolve("missing") + ", which does not exist");
            assertThat(missing.expected()).isEqualTo("a run-dir, or -Djava.io.tmpdir (in EDGE_JAVA_OPTS) naming a "
                    + "directory edge can write in");
            assertThat(problemsOrNone(SITE)).as("no backend: nothing is spooled").isEmpty();
            System.setProperty("java.io.tmpdir", open.toString());
            assertThat(single(backend).message()).isEqualTo("\"\" spools bodies too large for memory to java.io.tmpdir "
                    + open + ", which is writable by all, mode 0777");
            Files.createDirectory(dir.resolve("run"));
            assertThat(problemsOrNone(backend + "\nserver.run-dir = run")).as("a run-dir is spooled to instead").isEmpty();
        } finally {
            System.setProperty("java.io.tmpdir", tmpdir);
        }
    }

    /**
     * A spawned php-fpm's temporary run directory (run-dir = "") that cannot be made under java.io.tmpdir is a problem of
     * --check-config as of the start: the check said ok and the start refused the configuration. The reason is said,
     * not a bare path.
     */
    @Test
    void aTemporaryRunDirThatCannotBeMadeIsAProblemOfTheCheckToo() throws Exception {
        Path fake = Files.writeString(dir.resolve("php-fpm"), "#!/bin/sh\n");
        Files.setPosixFilePermissions(fake, PosixFilePermissions.fromString("rwxr-xr-x"));
        String spawned = SITE + "\nfastcgi.backends.php.spawn { enabled = true, command = \"" + fake + "\" }";
        String tmpdir = System.getProperty("java.io.tmpdir");
        try {
            System.setProperty("java.io.tmpdir", "/proc");
            for (ConfigLoader loader : List.of(ConfigLoader.checkOnly(), new ConfigLoader())) {
                ConfigException e = catchThrowableOfType(ConfigException.class, () -> loader.load(write(spawned)));
                assertThat(e).as("loading should fail").isNotNull();
                assertThat(e.problems()).singleElement().satisfies(problem -> {
                    assertThat(problem.key()).isEqualTo("edge.server.run-dir");
                    assertThat(problem.message()).startsWith("\"\" needs a temporary directory, and none could be made"
                            + " under /proc (").doesNotContain("(/proc/edge-");
                });
            }
        } finally {
            System.setProperty("java.io.tmpdir", tmpdir);
        }
    }

    /** Whether a directory can be made is asked by making one: it is gone again, and nothing else is made. */
    @Test
    void checkingARunDirLeavesNothingBehind() throws Exception {
        Files.createDirectory(dir.resolve("run"));
        assertThat(problemsOrNone(SITE + "\nserver.run-dir = run")).isEmpty();
        assertThat(problemsOrNone(SITE + "\nserver.run-dir = no/such/run")).isEmpty();
        try (var entries = Files.list(dir)) {
            assertThat(entries.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("www", "run", "edge.conf");
        }
        try (var entries = Files.list(dir.resolve("run"))) {
            assertThat(entries).isEmpty();
        }
    }

    @Test
    void accessLogMustBeAFileInAnExistingDirectory() throws Exception {
        ConfigProblem directory = single(SITE + "\nserver.access-log = www");
        assertThat(directory.key()).isEqualTo("edge.server.access-log");
        assertThat(directory.message()).isEqualTo(dir.resolve("www") + " is a directory");
        assertThat(single(SITE + "\nserver.access-log = nowhere/access.log").message())
                .isEqualTo(dir.resolve("nowhere") + " does not exist");
        Files.writeString(dir.resolve("plain"), "a file");
        assertThat(single(SITE + "\nserver.access-log = plain/access.log").message())
                .isEqualTo(dir.resolve("plain") + " is not a directory");
        assertThat(problemsOrNone(SITE + "\nserver.access-log = access.log")).isEmpty();
    }

    /**
     * Where access(2) lets root write yet no file can be made (/proc), or the name is too long for one, the access log
     * and the pid file passed --check-config and the start failed (the pid file's with a stack trace: the
     * configuration audit). The pid file is written beside itself first, under a longer name. Nothing is left behind.
     */
    @Test
    void anAccessLogOrPidFileNoFileCanBeMadeForIsAProblem() throws Exception {
        // as root, access(2) lets /proc be written and the open is refused; as another user, the directory is
        ConfigProblem proc = single(SITE + "\nserver.access-log = \"/proc/edge-access.log\"");
        assertThat(proc.key()).isEqualTo("edge.server.access-log");
        assertThat(proc.message()).isIn("cannot open /proc/edge-access.log for appending (No such file or directory)",
                "directory /proc is not writable");
        assertThat(single(SITE + "\nserver.pid-file = \"/proc/edge.pid\"").message())
                .matches("/proc/edge.pid cannot be written: a file cannot be made beside it \\(.*|directory /proc is not writable");
        String longName = "p".repeat(240) + ".pid";
        assertThat(single(SITE + "\nserver.pid-file = " + longName).message())
                .isEqualTo(dir.resolve(longName) + " cannot be written: a file cannot be made beside it (File name too long)");
        assertThat(problemsOrNone(SITE + "\nserver { access-log = fresh.log, pid-file = edge.pid }")).isEmpty();
        Files.writeString(dir.resolve("kept.log"), "a line\n");
        assertThat(problemsOrNone(SITE + "\nserver.access-log = kept.log")).isEmpty();
        assertThat(dir.resolve("kept.log")).hasContent("a line");
        try (var left = Files.list(dir)) {
            assertThat(left.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("www", "edge.conf", "kept.log");
        }
    }

    /**
     * A FIFO passed the check and then held the start for ever (its open waits for a reader); a link to nothing or a
     * loop of links cannot be opened. A link to a file, and a character device (/dev/null), are logs.
     */
    @Test
    void anAccessLogThatIsNoRegularFileIsAProblemButACharacterDevice() throws Exception {
        Path fifo = dir.resolve("access.fifo");
        assertThat(new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor()).isZero();
        Files.createSymbolicLink(dir.resolve("dangling.log"), dir.resolve("nothing"));
        Files.createSymbolicLink(dir.resolve("loop.log"), dir.resolve("loop.log"));
        for (String name : List.of("access.fifo", "dangling.log", "loop.log")) {
            ConfigProblem problem = single(SITE + "\nserver.access-log = " + name);
            assertThat(problem.key()).isEqualTo("edge.server.access-log");
            assertThat(problem.message()).as(name).startsWith(dir.resolve(name) + " is not a regular file");
        }
        Files.writeString(dir.resolve("real.log"), "");
        Files.createSymbolicLink(dir.resolve("linked.log"), dir.resolve("real.log"));
        assertThat(problemsOrNone(SITE + "\nserver.access-log = linked.log")).isEmpty();
        assertThat(problemsOrNone(SITE + "\nserver.access-log = /dev/null")).isEmpty();
    }

    /** A fastcgi-params value with half a UTF-16 pair, which went out as "a?b"; an index name listed twice. */
    @Test
    void aLoneSurrogateInAParamAndAnIndexListedTwiceAreProblems() {
        List<ConfigProblem> problems = problems("""
                sites = [{ root = www, index = [index.html, index.php, index.html], locations = [
                  { match = "/", fastcgi = php, fastcgi-params { APP = "a\\ud800b", OK = "\\ud83d\\ude00" } }
                ] }]
                fastcgi.backends.php.addresses = ["127.0.0.1:9000"]
                """);
        assertThat(problems).extracting(ConfigProblem::key, ConfigProblem::message).containsExactlyInAnyOrder(
                tuple("edge.sites[0].index[2]", "\"index.html\" is listed twice"),
                tuple("edge.sites[0].locations[0].fastcgi-params.APP",
                        "has half of a UTF-16 pair (\\ud800 to \\udfff alone), no character"));
    }

    /** A run-dir that is a link to nothing passed, and the start could make no directory there. */
    @Test
    void aRunDirThatIsALinkToNothingIsAProblem() throws Exception {
        Files.createSymbolicLink(dir.resolve("dangling"), dir.resolve("nothing/here"));
        assertThat(single(SITE + "\nserver.run-dir = dangling").message())
                .isEqualTo(dir.resolve("dangling") + " is a link to nothing (or a loop of links)");
    }

    /** "off " or " -" as an access log was a file of that name in the configuration's directory, " " a run-dir. */
    @Test
    void aPathWithWhiteSpaceAtItsStartOrEndIsAProblem() {
        for (String key : List.of("access-log = \"off \"", "access-log = \" -\"", "run-dir = \" \"",
                "pid-file = \"edge.pid\\t\"")) {
            assertThat(single(SITE + "\nserver." + key).message()).as(key).endsWith(" has white space at its start or end");
        }
    }

    /** As nginx's pid: a file in a directory that exists, which edge does not make; none by default. */
    @Test
    void thePidFileMustBeAFileInAnExistingDirectory() throws Exception {
        ConfigProblem directory = single(SITE + "\nserver.pid-file = www");
        assertThat(directory.key()).isEqualTo("edge.server.pid-file");
        assertThat(directory.message()).isEqualTo(dir.resolve("www") + " is a directory");
        assertThat(directory.expected()).isEqualTo("\"\" (none) or a file in an existing directory edge may write in");
        assertThat(single(SITE + "\nserver.pid-file = nowhere/edge.pid").message())
                .isEqualTo(dir.resolve("nowhere") + " does not exist");
        Files.writeString(dir.resolve("plain"), "a file");
        assertThat(single(SITE + "\nserver.pid-file = plain/edge.pid").message())
                .isEqualTo(dir.resolve("plain") + " is not a directory");
        Files.createSymbolicLink(dir.resolve("link.pid"), dir.resolve("elsewhere.pid"));
        assertThat(single(SITE + "\nserver.pid-file = link.pid").message())
                .isEqualTo(dir.resolve("link.pid") + " is not a regular file");
        assertThat(new ConfigLoader().load(write(SITE + "\nserver.pid-file = run/../edge.pid")).server().pidFile())
                .isEqualTo(dir.resolve("edge.pid"));
        assertThat(new ConfigLoader().load(write(SITE)).server().pidFile()).isNull();
    }

    @Test
    void fdBudgetMustExceedTheOpenFileCache() {
        assertThat(single(SITE + "\nstatic { fd-budget = 100, open-file-cache.size = 100 }").expected())
                .isEqualTo("more than open-file-cache.size (100)");
        ConfigProblem overDefault = single(SITE + "\nstatic {\n  open-file-cache.size = 30000\n}");
        assertThat(overDefault.key()).as("the key the file set").isEqualTo("edge.static.open-file-cache.size");
        assertThat(overDefault.line()).as("edge {, SITE, static {, then the size").isEqualTo(4);
        assertThat(overDefault.message()).isEqualTo("30000 leaves no descriptor for requests within fd-budget (16000)");
    }

    @Test
    void syntaxErrorHasFileAndLine() {
        ConfigProblem problem = single(SITE + "\nserver {\n  listen = [\n");
        assertThat(problem.file()).isEqualTo(dir.resolve("edge.conf"));
        assertThat(problem.line()).isGreaterThan(1);
        assertThat(problem.key()).isNull();
    }

    @Test
    void missingFile() {
        Path missing = dir.resolve("absent.conf");
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(missing));
        assertThat(e.problems()).singleElement().hasToString(missing + ": no such file (expected: a HOCON configuration file)");
    }

    @Test
    void emptyConfigPath() {
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(Path.of("")));
        assertThat(e.problems()).singleElement()
                .hasToString("the configuration path is empty (expected: -c FILE naming a HOCON configuration file)");
    }

    @Test
    void allProblemsAreReportedAtOnceInLineOrder() {
        List<ConfigProblem> problems = problems("""
                server.io-threads = -1
                static.engine = fast
                sites = [{ root = nowhere, dotfiles = maybe }]
                """);
        assertThat(problems).extracting(ConfigProblem::line).containsExactly(2, 3, 4, 4);
    }

    private List<ConfigProblem> problemsOrNone(String body) {
        try {
            new ConfigLoader().load(write(body));
            return List.of();
        } catch (ConfigException e) {
            return e.problems();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private ConfigProblem single(String body) {
        List<ConfigProblem> problems = problems(body);
        assertThat(problems).hasSize(1);
        return problems.get(0);
    }

    private List<ConfigProblem> problems(String body) {
        Path file;
        try {
            file = write(body);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(file));
        assertThat(e).as("loading should fail").isNotNull();
        return e.problems();
    }

    private Path write(String body) throws Exception {
        return EdgeConfFile.write(dir, body);
    }
}
