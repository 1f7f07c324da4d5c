package io.edge.conf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.tuple;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An alias in a location of scripts, and one taken by the locations nested in an alias location, as nginx's merge
 * takes it: phpMyAdmin's and Roundcube's {@code location /phpmyadmin/ { alias /usr/share/phpmyadmin/; index index.php;
 * location ~ \.php$ { fastcgi_pass php; fastcgi_param SCRIPT_FILENAME $request_filename; } }}.
 */
class AliasScriptsConfigTest {

    private static final String PHP = "fastcgi.backends.php { addresses = [\"unix:/run/php.sock\"] }\n";

    @TempDir
    Path dir;
    Path pma;
    Path thumbs;

    @BeforeEach
    void createDirectories() throws Exception {
        pma = Files.createDirectory(dir.resolve("pma")).toAbsolutePath().normalize();
        thumbs = Files.createDirectory(dir.resolve("thumbs")).toAbsolutePath().normalize();
    }

    @Test
    void aPrefixLocationOfScriptsMayHaveAnAliasStandingForItsPrefix() throws Exception {
        EdgeSettings settings = EdgeConfFile.load(dir, PHP + """
                sites = [{ root = www, locations = [
                  { match = "/pma/", alias = pma, fastcgi = php, front-controller = "/pma/index.php" }
                  { match = "^~ /t/", alias = "thumbs/", fastcgi = php, fastcgi-script = "/t/run.php" }
                ] }]
                """);
        List<LocationSettings> locations = settings.sites().get(0).locations();
        assertThat(locations).extracting(LocationSettings::alias, LocationSettings::root, LocationSettings::aliasPrefix)
                .containsExactly(tuple(true, pma, "/pma/"), tuple(true, thumbs, "/t/"));
    }

    /**
     * nginx 1.22 (checked with curl against it): a location nested in an alias one takes the alias with the enclosing
     * prefix's length, so /pma/sub/x.php in the nested ~ \.php$ is pma/sub/x.php ($request_filename), a nested
     * prefix's path too; a nested location's own alias or root is its own.
     */
    @Test
    void aLocationNestedInAnAliasOneTakesItAsNginxsMerge() throws Exception {
        EdgeSettings settings = EdgeConfFile.load(dir, PHP + """
                sites = [{ root = www, index = [index.php], locations = [
                  { match = "/pma/", alias = pma, locations = [
                    { match = "~ \\\\.php$", fastcgi = php }
                    { match = "/pma/sub/", expires = 1h, locations = [{ match = "~ \\\\.txt$" }] }
                    { match = "/pma/own/", root = www }
                    { match = "/pma/th/", alias = thumbs }
                  ] }
                ] }]
                """);
        LocationSettings outer = settings.sites().get(0).locations().get(0);
        List<LocationSettings> nested = outer.locations();
        assertThat(nested.get(0).handler()).isEqualTo(LocationSettings.Handler.FASTCGI);
        assertThat(nested).extracting(LocationSettings::alias, LocationSettings::root, LocationSettings::aliasPrefix)
                .containsExactly(tuple(true, pma, "/pma/"), tuple(true, pma, "/pma/"),
                        tuple(false, dir.resolve("www").toAbsolutePath().normalize(), null),
                        tuple(true, thumbs, "/pma/th/"));
        assertThat(nested.get(1).locations()).extracting(LocationSettings::alias, LocationSettings::root,
                LocationSettings::aliasPrefix).containsExactly(tuple(true, pma, "/pma/"));
    }

    @Test
    void aScriptOutsideTheAliassPrefixOrARegexAliasNotTakenIsAProblem() throws Exception {
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> EdgeConfFile.load(dir, PHP + """
                sites = [{ root = www, locations = [
                  { match = "/pma/", alias = pma, fastcgi = php, front-controller = "/index.php" }
                  { match = "/run/", alias = pma, fastcgi = php, fastcgi-script = "/pma/run.php" }
                  { match = "~ ^/r/(.*)$", alias = "thumbs/$1", locations = [{ match = "~ \\\\.png$" }] }
                  { match = "~ ^/f/(.*)$", alias = "thumbs/$1", fastcgi = php }
                ] }]
                """));
        assertThat(e.problems()).extracting(ConfigProblem::line, ConfigProblem::key, ConfigProblem::message)
                .containsExactlyInAnyOrder(
                        tuple(4, "edge.sites[0].locations[0].front-controller", "\"/index.php\" is outside the"
                                + " alias's prefix \"/pma/\", so no file of its directory: a script is named by its"
                                + " URI there, such as \"/pma/index.php\""),
                        tuple(5, "edge.sites[0].locations[1].fastcgi-script", "\"/pma/run.php\" is outside the"
                                + " alias's prefix \"/run/\", so no file of its directory: a script is named by its"
                                + " URI there, such as \"/run/index.php\""),
                        tuple(6, "edge.sites[0].locations[2].locations[0].alias", "not set in a location nested in"
                                + " one with alias = \"thumbs/$1\", a regex location's, whose captures it cannot"
                                + " take: it would serve the site's root"),
                        tuple(7, "edge.sites[0].locations[3].alias", "set in a location that answers otherwise than"
                                + " with files or scripts (fastcgi in a regex location)"));
    }
}
