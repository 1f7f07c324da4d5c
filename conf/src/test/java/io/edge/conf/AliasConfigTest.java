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

/** A location's {@code alias} (nginx's alias) onto LocationSettings, and where it cannot be. */
class AliasConfigTest {

    @TempDir
    Path dir;

    @BeforeEach
    void createDirectories() throws Exception {
        Files.createDirectory(dir.resolve("www"));
        Files.createDirectory(dir.resolve("thumbs"));
    }

    @Test
    void anAliasIsTheLocationsRootStandingForItsPrefix() throws Exception {
        EdgeSettings settings = new ConfigLoader().load(EdgeConfFile.write(dir, """
                location-defaults.root = www
                sites = [{ root = www, locations = [
                  { match = "/" }
                  { match = "/thumbs/", alias = thumbs }
                  { match = "^~ /t/", alias = "thumbs/" }
                  { match = "/files/", root = thumbs }
                ] }]
                """));
        List<LocationSettings> locations = settings.sites().get(0).locations();
        Path thumbs = dir.resolve("thumbs").toAbsolutePath().normalize();
        assertThat(locations.get(0).alias()).isFalse();
        assertThat(locations.get(0).root()).as("location-defaults' root, which an alias replaces")
                .isEqualTo(dir.resolve("www").toAbsolutePath().normalize());
        assertThat(locations.get(1).alias()).isTrue();
        assertThat(locations.get(1).root()).isEqualTo(thumbs);
        assertThat(locations.get(2).alias()).isTrue();
        assertThat(locations.get(2).root()).isEqualTo(thumbs);
        assertThat(locations.get(3).alias()).isFalse();
    }

    @Test
    void anAliasWhereItCannotBeIsListedWithWhatIsWrong() throws Exception {
        Path file = EdgeConfFile.write(dir, """
                location-defaults.alias = thumbs
                sites = [{ root = www, locations = [
                  { match = "/a/", alias = thumbs, root = www }
                  { match = "/b", alias = thumbs, fastcgi = php }
                  { match = "~ ^/c/(.*)$", alias = thumbs }
                  { match = "= /d/", alias = "/" }
                  { match = "/e/", alias = thumbs, return = 204 }
                  { match = "/f/", alias = missing }
                  { match = "= /g", alias = "thumbs/one.php", fastcgi = php }
                ] }]
                fastcgi.backends.php { addresses = ["unix:php-fpm.sock"] }
                """);
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(file));
        assertThat(e).isNotNull();
        assertThat(e.problems()).extracting(ConfigProblem::line, ConfigProblem::key, ConfigProblem::message,
                        ConfigProblem::expected)
                .contains(
                        tuple(4, "edge.sites[0].locations[0].alias", "set with root, which it replaces",
                                "alias or root, not both"),
                        tuple(5, "edge.sites[0].locations[1].alias", "set in a location of scripts (fastcgi) whose"
                                + " prefix does not end in /: nginx's would run \"/bfoo.php\" as \"thumbsfoo.php\", a"
                                + " script beside the alias's directory, where edge runs none outside it", SCRIPTS),
                        tuple(10, "edge.sites[0].locations[6].alias", "set in an exact location of scripts (fastcgi):"
                                + " edge names a script by its URI below a directory, never by an alias of the script"
                                + " itself", SCRIPTS),
                        tuple(6, "edge.sites[0].locations[2].alias", "\"thumbs\" has no capture in a regex location:"
                                + " every path the regex matches would be that one file (nginx's alias so)", CAPTURES),
                        tuple(7, "edge.sites[0].locations[3].alias", "\"/\" is /: a path past the match could name"
                                + " any file", "a file or directory below /, such as \"/srv/f.ico\" or \"/srv/images\""),
                        tuple(8, "edge.sites[0].locations[4].alias", "set in a location that answers otherwise than"
                                + " with files or scripts (return)", WHERE),
                        tuple(9, "edge.sites[0].locations[5].alias", dir.toAbsolutePath().normalize()
                                .resolve("missing") + " does not exist", "the path of an existing directory"));
        assertThat(e.problems()).extracting(ConfigProblem::line, ConfigProblem::message)
                .contains(tuple(2, "set for every location: each would stand for one directory"));
    }

    /**
     * An alias in an exact location or a prefix one not ending in "/", nginx's {@code location /i { alias
     * /data/w3/images; }}: the alias's text and what follows the match, as nginx 1.22.1 made of them side by side; a
     * directory's is below it, held there, and only a "/" and the rest are its files ({@code /ifoo}, nginx's
     * {@code imagesfoo} beside it, names none); an alias ending in "/" takes any rest, below which {@code ..} climbs
     * out (the resolver's 404); a file's is below its parent.
     */
    @Test
    void anAliasWithoutASlashIsTheAliasAndTheRestBelowItsParent() throws Exception {
        Path images = Files.createDirectories(dir.resolve("w3/images"));
        Files.writeString(dir.resolve("f.ico"), "");
        EdgeSettings settings = new ConfigLoader().load(EdgeConfFile.write(dir, """
                sites = [{ root = www, locations = [
                  { match = "/i", alias = "w3/images" }
                  { match = "= /favicon.ico", alias = "f.ico" }
                  { match = "^~ /k", alias = "w3/images/" }
                ] }]
                """));
        List<LocationSettings> locations = settings.sites().get(0).locations();
        LocationSettings i = locations.get(0);
        assertThat(i.root()).as("the directory the site's symlinks rule holds links to").isEqualTo(
                images.toAbsolutePath().normalize());
        assertThat(i.alias()).isTrue();
        assertThat(i.aliasPrefix()).isNull();
        assertThat(i.aliasCaptures().below("/ifoo")).isNull();
        assertThat(i.aliasCaptures().below("/i/x")).isEqualTo("/x");
        assertThat(i.aliasCaptures().below("/i")).isEmpty();
        assertThat(i.aliasCaptures().below("/i../x")).isNull();
        assertThat(i.aliasCaptures().below("/j")).isNull();
        LocationSettings favicon = locations.get(1);
        assertThat(favicon.root()).isEqualTo(dir.toAbsolutePath().normalize());
        assertThat(favicon.aliasCaptures().below("/favicon.ico")).isEqualTo("f.ico");
        assertThat(favicon.aliasCaptures().below("/favicon.icox")).isNull();
        LocationSettings k = locations.get(2);
        assertThat(k.root()).isEqualTo(images.toAbsolutePath().normalize());
        assertThat(k.aliasCaptures().below("/k../x")).as("climbs out: the resolver's 404").isEqualTo("../x");
        assertThat(k.aliasCaptures().below("/kfoo")).isEqualTo("foo");
    }

    /** What the refusal of an alias in a slash-less or exact location of scripts suggests instead loads. */
    @Test
    void theScriptLocationsTheRefusalSuggestsLoad() throws Exception {
        Path srv = Files.createDirectories(dir.resolve("srv/b"));
        EdgeSettings settings = new ConfigLoader().load(EdgeConfFile.write(dir, """
                fastcgi.backends.php { addresses = ["unix:php-fpm.sock"] }
                sites = [{ root = www, locations = [
                  { match = "/b/", alias = "srv/b/", fastcgi = php }
                  { match = "= /one", root = "srv", fastcgi = php, fastcgi-script = "/one.php" }
                ] }]
                """));
        List<LocationSettings> locations = settings.sites().get(0).locations();
        assertThat(locations.get(0).root()).isEqualTo(srv.toAbsolutePath().normalize());
        assertThat(locations.get(1).root()).isEqualTo(srv.getParent().toAbsolutePath().normalize());
    }

    /**
     * A slash-less prefix location's alias not there at load is the directory to come, as nginx's per request (its
     * /later/x is the alias and "/x", whatever was there at the start): held below it once it is made, no reload, and
     * /laterfoo names nothing, as under an alias that is a directory. It was a file below the parent until the next
     * reload, so the directory made later served /later/x from the parent, its links held there, and /laterfoo beside
     * it. An exact location's alias not there yet is still that one path below its parent.
     */
    @Test
    void aPrefixLocationsAliasNotThereYetIsTheDirectoryToCome() throws Exception {
        Path w3 = Files.createDirectories(dir.resolve("w3"));
        EdgeSettings settings = new ConfigLoader().load(EdgeConfFile.write(dir, """
                sites = [{ root = www, locations = [
                  { match = "/later", alias = "w3/later" }
                  { match = "= /soon.ico", alias = "w3/soon.ico" }
                ] }]
                """));
        List<LocationSettings> locations = settings.sites().get(0).locations();
        LocationSettings later = locations.get(0);
        assertThat(later.root()).isEqualTo(w3.resolve("later").toAbsolutePath().normalize());
        assertThat(later.aliasCaptures().below("/later/x")).isEqualTo("/x");
        assertThat(later.aliasCaptures().below("/later")).isEmpty();
        assertThat(later.aliasCaptures().below("/laterfoo")).isNull();
        // where a request finds a file there instead: that file below the parent, as one there at load
        AliasCaptures asFile = later.aliasCaptures().asFile();
        assertThat(asFile.below("/later")).isEqualTo("later");
        assertThat(asFile.below("/laterfoo")).isEqualTo("laterfoo");
        assertThat(asFile.below("/later/x")).as("nothing is below a file, nor held in its parent").isNull();
        assertThat(asFile.name()).isEqualTo("later");
        LocationSettings soon = locations.get(1);
        assertThat(soon.root()).isEqualTo(w3.toAbsolutePath().normalize());
        assertThat(soon.aliasCaptures().below("/soon.ico")).isEqualTo("soon.ico");
        assertThat(soon.aliasCaptures().asFile()).as("an exact location's names that one path").isNull();
    }

    /**
     * A prefix location's alias of a file there at load is taken as the directory it may become, as one not there yet
     * is, and, while it is found to be a file, that file below its parent: nginx's alias is a text, looked up per
     * request. It was that file below its parent for good, so a directory put in its place was served held in the
     * parent (its links too) until a reload. An exact location's stays that one path below its parent.
     */
    @Test
    void aPrefixLocationsAliasOfAFileIsTakenInEitherShape() throws Exception {
        Path w3 = Files.createDirectories(dir.resolve("w3"));
        Files.writeString(w3.resolve("robots.txt"), "");
        Files.writeString(w3.resolve("f.ico"), "");
        EdgeSettings settings = new ConfigLoader().load(EdgeConfFile.write(dir, """
                sites = [{ root = www, locations = [
                  { match = "/robots.txt", alias = "w3/robots.txt" }
                  { match = "= /favicon.ico", alias = "w3/f.ico" }
                ] }]
                """));
        List<LocationSettings> locations = settings.sites().get(0).locations();
        LocationSettings robots = locations.get(0);
        assertThat(robots.root()).isEqualTo(w3.resolve("robots.txt").toAbsolutePath().normalize());
        assertThat(robots.aliasCaptures().below("/robots.txt/x")).isEqualTo("/x");
        assertThat(robots.aliasCaptures().below("/robots.txtx")).isNull();
        AliasCaptures asFile = robots.aliasAsFile();
        assertThat(asFile.below("/robots.txt")).isEqualTo("robots.txt");
        assertThat(asFile.below("/robots.txtx")).isEqualTo("robots.txtx");
        assertThat(asFile.below("/robots.txt/x")).isNull();
        assertThat(asFile.name()).isEqualTo("robots.txt");
        LocationSettings favicon = locations.get(1);
        assertThat(favicon.root()).isEqualTo(w3.toAbsolutePath().normalize());
        assertThat(favicon.aliasAsFile()).isNull();
    }

    /**
     * An exact location's alias that is a directory at load is that directory (its one path a 301 to the slash, as
     * nginx's), and, while its resolver finds a file there since (a link in its place too), that file below its parent,
     * as a prefix location's. It was that directory for good: a file there since was judged against itself as its own
     * root, a link there to anywhere inside it.
     */
    @Test
    void anExactLocationsDirectoryIsTakenAsAFileBelowItsParentWhileItIsOne() throws Exception {
        Path pics = Files.createDirectories(dir.resolve("w3/pics"));
        EdgeSettings settings = new ConfigLoader().load(EdgeConfFile.write(dir, """
                sites = [{ root = www, locations = [{ match = "= /pics", alias = "w3/pics" }] }]
                """));
        LocationSettings location = settings.sites().get(0).locations().get(0);
        assertThat(location.root()).isEqualTo(pics.toAbsolutePath().normalize());
        assertThat(location.aliasCaptures().below("/pics")).isEmpty();
        AliasCaptures asFile = location.aliasAsFile();
        assertThat(asFile).isNotNull();
        assertThat(asFile.below("/pics")).isEqualTo("pics");
        assertThat(asFile.below("/pics/x")).isNull();
        assertThat(asFile.name()).isEqualTo("pics");
    }

    /**
     * A location nested in one with a slash-less alias takes it (nginx's merge), its file made by the enclosing
     * match; a location of scripts there cannot (a problem), as a script's alias is a prefix ending in "/".
     */
    @Test
    void aNestedLocationTakesASlashlessAlias() throws Exception {
        Path images = Files.createDirectories(dir.resolve("w3/images"));
        Path file = EdgeConfFile.write(dir, """
                fastcgi.backends.php { addresses = ["unix:/run/php.sock"] }
                sites = [{ root = www, locations = [
                  { match = "/i", alias = "w3/images", locations = [
                    { match = "~ \\\\.css$", locations = [{ match = "~ a" }] }
                  ] }
                  { match = "/p", alias = "w3/images", locations = [{ match = "~ \\\\.php$", fastcgi = php }] }
                ] }]
                """);
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(file));
        assertThat(e.problems()).extracting(ConfigProblem::line, ConfigProblem::key).containsExactly(
                tuple(7, "edge.sites[0].locations[1].locations[0].alias"));
        Files.writeString(file, Files.readString(file).replaceAll("(?m)^.*match = \"/p\".*$", ""));
        LocationSettings css = new ConfigLoader().load(file).sites().get(0).locations().get(0).locations().get(0);
        for (LocationSettings taking : List.of(css, css.locations().get(0))) {
            assertThat(taking.alias()).isTrue();
            assertThat(taking.root()).isEqualTo(images.toAbsolutePath().normalize());
            assertThat(taking.aliasCaptures().below("/i/s.css")).isEqualTo("/s.css");
            assertThat(taking.aliasCaptures().below("/ifoo.css")).isNull();
        }
    }

    /** What a problem of an alias where it cannot be expects. */
    private static final String WHERE = "alias in a prefix location of files or scripts whose match ends in /, such"
            + " as { match = \"/thumbs/\", alias = \"/srv/thumbs/\" }, in an exact location or another prefix location"
            + " of files, such as { match = \"= /favicon.ico\", alias = \"/srv/f.ico\" }, or in a regex location of"
            + " files with its captures, such as { match = \"~ ^/users/(.+\\\\.png)$\", alias = \"/srv/images/$1\" }";

    private static final String SCRIPTS = "alias ending in / in a prefix location of scripts ending in /, such as"
            + " { match = \"/b/\", alias = \"/srv/b/\", fastcgi = php }, or, for one script, root and fastcgi-script,"
            + " such as { match = \"= /one\", root = \"/srv\", fastcgi = php, fastcgi-script = \"/one.php\" }";

    private static final String CAPTURES = "a directory and, below it, the location's captures ($1 to $9, named"
            + " groups), such as \"/srv/images/$1\"";

    /**
     * An alias in a regex location, nginx's alias /data/images/$1: the text before its first capture, cut at its last
     * "/", is the location's root, and the captures of a path the regex matches make the file's path below it.
     */
    @Test
    void anAliasInARegexLocationIsItsFixedDirectoryAndTheCapturesBelowIt() throws Exception {
        EdgeSettings settings = new ConfigLoader().load(EdgeConfFile.write(dir, """
                sites = [{ root = www, locations = [
                  { match = "~ ^/users/(.+\\\\.(?:gif|jpe?g|png))$", alias = "thumbs/$1" }
                  { match = "~* ^/n/(?<size>[0-9]+)/(?P<name>.+)$", alias = "thumbs/w${size}/$name" }
                  { match = "~ ^/i/(.*)$", alias = "thumbs/img$1" }
                  { match = "~ ^/u/(\\\\.\\\\.)x$", alias = "thumbs/$1/secret" }
                ] }]
                """));
        List<LocationSettings> locations = settings.sites().get(0).locations();
        Path thumbs = dir.resolve("thumbs").toAbsolutePath().normalize();
        assertThat(locations).allSatisfy(location -> {
            assertThat(location.alias()).isTrue();
            assertThat(location.root()).isEqualTo(thumbs);
        });
        AliasCaptures users = locations.get(0).aliasCaptures();
        assertThat(users.below("/users/ab/cd/x.png")).isEqualTo("ab/cd/x.png");
        assertThat(users.below("/users/x.txt")).as("a path the regex does not match names nothing").isNull();
        assertThat(locations.get(1).aliasCaptures().below("/N/120/a.jpg")).isEqualTo("w120/a.jpg");
        assertThat(locations.get(2).aliasCaptures().below("/i/")).as("an empty capture").isEqualTo("img");
        assertThat(locations.get(3).aliasCaptures().below("/u/..x"))
                .as("a capture of \"..\": the resolver holds it below the directory").isEqualTo("../secret");
    }

    @Test
    void anAliasInARegexLocationWithoutItsCapturesIsListedWithWhatIsWrong() throws Exception {
        Files.writeString(dir.resolve("file"), "");
        Path file = EdgeConfFile.write(dir, """
                sites = [{ root = www, locations = [
                  { match = "~ ^/a/(.*)$", alias = "thumbs/$2" }
                  { match = "~ ^/b/(.*)$", alias = "thumbs/$host/$1" }
                  { match = "~ ^/c/(.*)$", alias = "$1" }
                  { match = "~ ^/d/(.*)$", alias = "/$1" }
                  { match = "~ ^/e/(.*)$", alias = "missing/$1" }
                  { match = "~ ^/f/(.*)$", alias = "thumbs/$1", fastcgi = php }
                  { match = "~ ^/g/(?<x>.*)$", alias = "thumbs/${y}" }
                  { match = "~ ^/h/.*$", alias = "thumbs/$1" }
                ] }]
                fastcgi.backends.php { addresses = ["unix:php-fpm.sock"] }
                """);
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(file));
        assertThat(e).isNotNull();
        assertThat(e.problems()).extracting(ConfigProblem::line, ConfigProblem::key, ConfigProblem::message,
                        ConfigProblem::expected)
                .contains(
                        tuple(3, "edge.sites[0].locations[0].alias", "\"thumbs/$2\" has capture $2, but the"
                                + " location's regex has 1 group", CAPTURES),
                        tuple(4, "edge.sites[0].locations[1].alias", "\"thumbs/$host/$1\" has variable $host, which"
                                + " is no capture of the location's regex (its captures: $1)", CAPTURES),
                        tuple(5, "edge.sites[0].locations[2].alias", "\"$1\" starts with a capture: no directory"
                                + " holds its files", CAPTURES),
                        tuple(6, "edge.sites[0].locations[3].alias", "\"/$1\" has / before its first capture: a"
                                + " capture could name any file", CAPTURES),
                        tuple(7, "edge.sites[0].locations[4].alias", dir.toAbsolutePath().normalize()
                                .resolve("missing") + " does not exist", "the path of an existing directory"),
                        tuple(8, "edge.sites[0].locations[5].alias", "set in a location that answers otherwise than"
                                + " with files or scripts (fastcgi in a regex location)", WHERE),
                        tuple(9, "edge.sites[0].locations[6].alias", "\"thumbs/${y}\" has variable $y, which is no"
                                + " capture of the location's regex (its captures: $1, $x)", CAPTURES),
                        tuple(10, "edge.sites[0].locations[7].alias", "\"thumbs/$1\" has capture $1, but the"
                                + " location's regex has 0 groups", CAPTURES));
    }
}
