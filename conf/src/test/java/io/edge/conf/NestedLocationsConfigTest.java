package io.edge.conf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.entry;
import static org.assertj.core.api.Assertions.tuple;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A location's own {@code locations} (nginx's location in a location): read onto LocationSettings, their settings
 * inherited from the location they are in, and what nginx refuses refused with file, line and key.
 */
class NestedLocationsConfigTest {

    private static final String PHP = "fastcgi.backends.php { addresses = [\"unix:/run/php.sock\"] }\n";

    @TempDir
    Path dir;

    @Test
    void mediaWikisLayoutIsReadAsWritten() throws Exception {
        EdgeSettings settings = EdgeConfFile.load(dir, PHP + """
                sites = [{ root = www, locations = [
                  { match = "/w/", locations = [
                    { match = "~ \\\\.php$", fastcgi = php }
                    { match = "^~ /w/images/", locations = [{ match = "= /w/images/x.png" }] }
                  ] }
                  { match = "/" }
                ] }]
                """);
        List<LocationSettings> site = settings.sites().get(0).locations();
        assertThat(site).extracting(LocationSettings::match).containsExactly("/w/", "/");
        LocationSettings w = site.get(0);
        assertThat(w.locations()).extracting(LocationSettings::kind, LocationSettings::pattern).containsExactly(
                tuple(LocationSettings.Kind.REGEX, "\\.php$"),
                tuple(LocationSettings.Kind.PREFIX_NO_REGEX, "/w/images/"));
        assertThat(w.locations().get(0).handler()).isEqualTo(LocationSettings.Handler.FASTCGI);
        assertThat(w.locations().get(1).locations()).extracting(LocationSettings::match)
                .containsExactly("= /w/images/x.png");
        assertThat(site.get(1).locations()).isEmpty();
        assertThat(settings.sites().get(0).everyLocation()).extracting(LocationSettings::match).containsExactly(
                "/w/", "~ \\.php$", "^~ /w/images/", "= /w/images/x.png", "/");
        assertThat(settings.sites().get(0).everyLocation()).as("made once, not on each call (PURGE's, X-Sendfile's)")
                .isSameAs(settings.sites().get(0).everyLocation());
    }

    /** As nginx merges a nested location with its enclosing one: what it leaves unset is the enclosing one's. */
    @Test
    void aNestedLocationInheritsFromTheLocationItIsInBeforeLocationDefaults() throws Exception {
        EdgeSettings settings = EdgeConfFile.load(dir, """
                location-defaults { expires = 1h, headers { X-Default = d } }
                sites = [{ root = www, locations = [
                  { match = "/w/", root = www, expires = 2h, body-limit = 1 MiB, headers { X-Wiki = w },
                    access = ["deny 10.0.0.0/8", "allow all"], locations = [
                      { match = "/w/images/", expires = 30d, locations = [{ match = "/w/images/thumb/" }] }
                      { match = "~ \\\\.txt$", headers { X-Txt = t } }
                  ] }
                  { match = "/" }
                ] }]
                """);
        LocationSettings w = settings.sites().get(0).locations().get(0);
        LocationSettings images = w.locations().get(0);
        LocationSettings thumb = images.locations().get(0);
        LocationSettings txt = w.locations().get(1);
        assertThat(images.root()).isEqualTo(dir.resolve("www"));
        assertThat(images.expires()).isEqualTo(Duration.ofDays(30));
        assertThat(thumb.expires()).as("from the location it is in, the nearest").isEqualTo(Duration.ofDays(30));
        assertThat(txt.expires()).isEqualTo(Duration.ofHours(2));
        assertThat(thumb.bodyLimit()).isEqualTo(1024 * 1024);
        assertThat(thumb.access()).isEqualTo(w.access()).hasSize(2);
        assertThat(thumb.headers()).containsOnly(entry("X-Default", VariableText.of("d")),
                entry("X-Wiki", VariableText.of("w")));
        assertThat(txt.headers()).containsOnly(entry("X-Default", VariableText.of("d")),
                entry("X-Wiki", VariableText.of("w")), entry("X-Txt", VariableText.of("t")));
        assertThat(settings.sites().get(0).locations().get(1).expires()).as("the site's: location-defaults'")
                .isEqualTo(Duration.ofHours(1));
    }

    /**
     * What makes the enclosing location's answer is its own, as nginx's fastcgi_pass, proxy_pass, return and try_files
     * are: a location of files nested in a PHP one serves files (nginx 1.22: location /r/ { return 200 r; location /r/x/
     * {} } serves /r/x/a as a file).
     */
    /**
     * A limit without a zone written in a location is one table for it and the locations nested in it that inherit it,
     * as nginx's limit_req inherited by a nested location counts in the same zone: a client's requests to /login/ and
     * /login/index.php count together (limit-conn's too). One a nested location writes itself is its own table, and
     * location-defaults' is still each location's own.
     */
    @Test
    void anInheritedLimitWithoutZoneIsTheEnclosingLocationsTable() throws Exception {
        EdgeSettings settings = EdgeConfFile.load(dir, """
                location-defaults { limit-conn { max = 10 } }
                sites = [{ root = www, locations = [
                  { match = "/login/", limit-req { rate = "1 r/s" }, limit-conn { max = 2 }, locations = [
                    { match = "~ \\\\.php$", fastcgi = php, locations = [{ match = "~ ^/login/x" }] }
                    { match = "/login/own/", limit-req { rate = "1 r/s", burst = 5 } }
                  ] }
                  { match = "/" }
                ] }]
                """ + PHP);
        LocationSettings login = settings.sites().get(0).locations().get(0);
        LocationSettings php = login.locations().get(0);
        LocationSettings own = login.locations().get(1);
        assertThat(php.limitReqs()).extracting(LimitReq::zone).containsExactlyElementsOf(
                login.limitReqs().stream().map(LimitReq::zone).toList());
        assertThat(php.limitConns()).extracting(LimitConn::zone).containsExactlyElementsOf(
                login.limitConns().stream().map(LimitConn::zone).toList());
        assertThat(php.locations().get(0).limitReqs()).extracting(LimitReq::zone).as("two levels down")
                .containsExactlyElementsOf(login.limitReqs().stream().map(LimitReq::zone).toList());
        assertThat(own.limitReqs()).extracting(LimitReq::zone).doesNotContainAnyElementsOf(
                login.limitReqs().stream().map(LimitReq::zone).toList());
        LocationSettings root = settings.sites().get(0).locations().get(1);
        assertThat(root.limitConns()).extracting(LimitConn::zone).doesNotContainAnyElementsOf(
                own.limitConns().stream().map(LimitConn::zone).toList());
    }

    @Test
    void whatAnswersIsNotInherited() throws Exception {
        EdgeSettings settings = EdgeConfFile.load(dir, PHP + """
                sites = [{ root = www, locations = [
                  { match = "/app/", fastcgi = php, front-controller = "/index.php", fastcgi-params { HTTPS = on },
                    split-path-info = "^(.+\\\\.php)(/.*)$", locations = [{ match = "/app/static/" }] }
                  { match = "/r/", return = "200 r", locations = [{ match = "/r/x/" }] }
                ] }]
                """);
        List<LocationSettings> site = settings.sites().get(0).locations();
        LocationSettings statics = site.get(0).locations().get(0);
        assertThat(statics.handler()).isEqualTo(LocationSettings.Handler.STATIC);
        assertThat(statics.fastcgiBackend()).isNull();
        assertThat(statics.frontController()).isNull();
        assertThat(site.get(1).locations().get(0).handler()).isEqualTo(LocationSettings.Handler.STATIC);
    }

    /**
     * nginx's internal is merged into a nested location (checked with nginx 1.22: location /i/ { internal; location
     * /i/x/ { return 200 x; } } answers /i/x/a 404): what the enclosing location hides stays hidden, whatever answers.
     */
    @Test
    void internalIsInherited() throws Exception {
        EdgeSettings settings = EdgeConfFile.load(dir, """
                sites = [{ root = www, locations = [
                  { match = "/i/", internal = true, locations = [
                    { match = "/i/x/" }, { match = "/i/r/", return = 204 }
                  ] }
                ] }]
                """);
        LocationSettings i = settings.sites().get(0).locations().get(0);
        assertThat(i.locations()).extracting(LocationSettings::internal).containsExactly(true, true);
    }

    /**
     * nginx's nested location takes the enclosing alias (with the enclosing prefix's length), so edge's does: its
     * directory stands for the enclosing prefix there too; its own alias or root is its own (AliasScriptsConfigTest).
     */
    @Test
    void aLocationNestedInAnAliasOneTakesItWithoutOneOfItsOwn() throws Exception {
        EdgeSettings settings = EdgeConfFile.load(dir, """
                sites = [{ root = www, locations = [
                  { match = "/t/", alias = "www/", locations = [
                    { match = "/t/a/" }
                    { match = "/t/b/", alias = "www/" }
                    { match = "/t/c/", root = www }
                  ] }
                ] }]
                """);
        assertThat(settings.sites().get(0).locations().get(0).locations()).extracting(LocationSettings::alias,
                LocationSettings::aliasPrefix).containsExactly(tuple(true, "/t/"), tuple(true, "/t/b/"),
                tuple(false, null));
    }

    @Test
    void eachNestingNginxRefusesIsAProblemAtItsMatch() throws Exception {
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> EdgeConfFile.load(dir, """
                sites = [{ root = www, locations = [
                  { match = "/w/", locations = [
                    { match = "/x" }
                    { match = "@n" }
                    { match = "/w/a" }
                    { match = "^~ /w/a" }
                  ] }
                  { match = "= /e", locations = [{ match = "~ a" }] }
                  { match = "@app", locations = [{ match = "~ b" }] }
                  { match = "~ ^/r/", locations = [{ match = "/r/a" }, { match = "~ \\\\.txt$" }] }
                  { match = "/" }
                ] }]
                """));
        assertThat(e.problems()).extracting(ConfigProblem::line, ConfigProblem::key, ConfigProblem::message)
                .containsExactlyInAnyOrder(
                        tuple(4, "edge.sites[0].locations[0].locations[0].match", "\"/x\" is outside location \"/w/\":"
                                + " a nested prefix starts with its location's (nginx: location \"/x\" is outside"
                                + " location \"/w/\")"),
                        tuple(5, "edge.sites[0].locations[0].locations[1].match", "\"@n\" is a named location inside"
                                + " another: nginx takes them at the site level only (named location \"@n\" can be on"
                                + " the server level only)"),
                        tuple(7, "edge.sites[0].locations[0].locations[3].match", "\"^~ /w/a\" duplicates an earlier"
                                + " location nested in the same one"),
                        tuple(9, "edge.sites[0].locations[1].locations[0].match", "\"~ a\" is inside the exact location"
                                + " \"/e\", which nothing but its own path reaches: nginx refuses it (cannot be inside"
                                + " the exact location)"),
                        tuple(10, "edge.sites[0].locations[2].locations[0].match", "\"~ b\" is inside the named"
                                + " location \"@app\": nginx refuses it (cannot be inside the named location)"),
                        tuple(11, "edge.sites[0].locations[3].locations[0].match", "\"/r/a\" is outside location"
                                + " \"^/r/\", a regex, in which only regexes nest (nginx: location \"/r/a\" is outside"
                                + " location \"^/r/\")"));
        assertThat(e.problems()).allSatisfy(problem -> assertThat(problem.file()).isEqualTo(dir.resolve("edge.conf")));
    }

    /** A bad value of the enclosing location is said once, where written, not again for each location inheriting it. */
    @Test
    void aBadValueInheritedIsSaidOnceWhereWritten() throws Exception {
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> EdgeConfFile.load(dir, """
                sites = [{ root = www, locations = [
                  { match = "/w/", expires = soon, locations = [{ match = "/w/a/" }, { match = "/w/b/", gzip = 1 }] }
                ] }]
                """));
        assertThat(e.problems()).extracting(ConfigProblem::line, ConfigProblem::key).containsExactlyInAnyOrder(
                tuple(3, "edge.sites[0].locations[0].expires"),
                tuple(3, "edge.sites[0].locations[0].locations[1].gzip"));
    }

    /**
     * A value good where it is written but not in a nested location inheriting it (a named group of the enclosing
     * regex, which the nested regex has not: nginx keeps it as a variable, edge has a location's own captures only) is
     * said where written, naming the location that inherits it: the enclosing location alone is no problem. A value bad
     * in itself is said as the enclosing location's own, whatever is nested in it.
     */
    @Test
    void aValueBadOnlyWhereInheritedNamesTheNestedLocation() throws Exception {
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> EdgeConfFile.load(dir, """
                sites = [{ root = www, locations = [
                  { match = "~ ^/u/(?<user>\\\\w+)/", headers { X-User = "$user" }, locations = [
                    { match = "~ \\\\.jpg$", expires = 30d }
                  ] }
                  { match = "/w/", headers { X-W = "$nope" }, locations = [{ match = "~ a" }] }
                ] }]
                """));
        assertThat(e.problems()).extracting(ConfigProblem::line, ConfigProblem::key).containsExactly(
                tuple(3, "edge.sites[0].locations[0].headers.X-User"),
                tuple(6, "edge.sites[0].locations[1].headers.X-W"));
        assertThat(e.problems().get(0).message()).startsWith("\"$user\" has unknown variable $user").endsWith(
                "; in edge.sites[0].locations[0].locations[0], nested in this location, which inherits it (set its"
                + " own there)");
        assertThat(e.problems().get(1).message()).startsWith("\"$nope\" has unknown variable $nope")
                .doesNotContain("nested in this location");
    }

    @Test
    void aNestedLocationWithoutMatchOrWithAnUnknownKeyIsAProblem() throws Exception {
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> EdgeConfFile.load(dir, """
                sites = [{ root = www, locations = [
                  { match = "/w/", locations = [{ root = www }, { match = "/w/a", expire = 1h }] }
                ] }]
                """));
        assertThat(e.problems()).extracting(ConfigProblem::line, ConfigProblem::key).containsExactlyInAnyOrder(
                tuple(3, "edge.sites[0].locations[0].locations[0].match"),
                tuple(3, "edge.sites[0].locations[0].locations[1].expire"));
    }
}
