package io.edge.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An alias in a prefix location whose match does not end in "/" and in an exact location, on a real edge asked with
 * curl (--path-as-is: the dots and their encodings reach edge as written). The expected answers are nginx 1.22.1's to
 * the same requests with {@code location /i { alias .../w3/images; }}, {@code location = /favicon.ico { alias
 * .../data/f.ico; }} and {@code location /k { alias .../w3/images/; }}, but for the differences on purpose: a path
 * past {@code /i} without its "/" ({@code /ifoo}, {@code /i.txt}) is no file of the directory (404) where nginx serves
 * {@code w3/imagesfoo}, a file beside it; under an alias ending in "/" in a slash-less location, {@code /k../x} and its
 * encodings are 404 where nginx serves {@code w3/x}.
 */
class AliasWithoutSlashIT {

    @TempDir
    static Path dir;

    static EdgeHarness edge;

    @BeforeAll
    static void start() throws Exception {
        Files.createDirectories(dir.resolve("www"));
        Files.writeString(dir.resolve("www/x"), "root x");
        Files.createDirectories(dir.resolve("w3/images"));
        Files.writeString(dir.resolve("w3/images/x"), "inside");
        Files.writeString(dir.resolve("w3/imagesfoo"), "foo");
        Files.writeString(dir.resolve("w3/images.txt"), "txt");
        Files.createDirectories(dir.resolve("w3/imagesdir"));
        Files.writeString(dir.resolve("w3/imagesdir/a"), "sub");
        Files.writeString(dir.resolve("w3/x"), "beside");
        Files.writeString(dir.resolve("w3/secret"), "secret");
        Files.writeString(dir.resolve("w3/images/s.css"), "css");
        Files.createSymbolicLink(dir.resolve("w3/images/out"), Path.of("../secret"));
        Files.createDirectories(dir.resolve("data"));
        Files.writeString(dir.resolve("data/f.ico"), "ico");
        Files.writeString(dir.resolve("w3/held"), "file");
        Files.writeString(dir.resolve("w3/heldx"), "beside");
        Files.createDirectories(dir.resolve("w3/exdir"));
        Files.writeString(dir.resolve("w3/exdir/x"), "in exdir");
        edge = EdgeHarness.start(dir, """
                sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                  { match = "/" }
                  { match = "/i", alias = "w3/images", locations = [{ match = "~ \\\\.css$", headers { X-Css = "1" } }] }
                  { match = "= /favicon.ico", alias = "data/f.ico" }
                  { match = "/k", alias = "w3/images/" }
                  { match = "/later", alias = "w3/later" }
                  { match = "/soon.txt", alias = "w3/soon.txt" }
                  { match = "/soonlink", alias = "w3/soonlink" }
                  { match = "/turn", alias = "w3/turn" }
                  { match = "/held", alias = "w3/held" }
                  { match = "= /exdir", alias = "w3/exdir" }
                ] }]
                """);
    }

    @AfterAll
    static void stop() {
        if (edge != null) {
            edge.close();
        }
    }

    /** The status and, for a 200, the body of {@code target} as written. */
    private static String get(String target) throws Exception {
        String said = Curl.output("--path-as-is", "-w", "\n%{http_code}", edge.uri(target).toString());
        int status = said.lastIndexOf('\n');
        String code = said.substring(status + 1);
        return code.equals("200") ? code + " " + said.substring(0, status) : code;
    }

    @Test
    void thePathPastTheMatchIsWrittenAfterTheAliasAsNginxDoes() throws Exception {
        assertThat(get("/i/x")).isEqualTo("200 inside");
        assertThat(get("/i//x")).isEqualTo("200 inside");
        assertThat(get("/i")).as("the directory, its slash added").isEqualTo("301");
        // nginx's w3/imagesfoo, w3/images.txt, w3/imagesdir/a: files beside the directory, never served
        for (String target : new String[] {"/ifoo", "/ifoo?a=1", "/i.txt", "/idir/a", "/idir"}) {
            assertThat(get(target)).as(target).isEqualTo("404");
        }
        assertThat(get("/kx")).as("an alias with its \"/\" takes any rest, as nginx's").isEqualTo("200 inside");
        assertThat(get("/i/")).as("no index, no listing").isEqualTo("403");
        assertThat(get("/favicon.ico")).isEqualTo("200 ico");
        assertThat(get("/favicon%2eico")).isEqualTo("200 ico");
        assertThat(get("/favicon.icox")).isEqualTo("404");
    }

    @Test
    void noEncodingOfDotsLeavesTheAliasDirectory() throws Exception {
        // "images" and "../x": no file of the directory (nginx: images../x, a name beside it, missing: the same 404s)
        for (String target : new String[] {"/i../x", "/i%2e%2e/x", "/i%2E%2E/x", "/i..%2fx", "/i%2E%2E%2Fx",
                "/i.%2e/x", "/i..", "/i%2e%2e", "/i%5c..%5cx"}) {
            assertThat(get(target)).as(target).isEqualTo("404");
        }
        // a ".." segment is taken off before routing: another location's file, as nginx's
        assertThat(get("/i/../x")).isEqualTo("200 root x");
        assertThat(get("/i/%2e%2e/x")).isEqualTo("200 root x");
        assertThat(get("/i%2f..%2fx")).isEqualTo("200 root x");
        assertThat(get("/i/..%2fx")).isEqualTo("200 root x");
        assertThat(get("/i/%2e%2e%2fx")).isEqualTo("200 root x");
        // under an alias ending in "/", "../x" would climb out (nginx serves w3/x "beside" there): never
        for (String target : new String[] {"/k../x", "/k%2e%2e/x", "/k..%2fx", "/k%2E%2E%2Fx", "/k.%2e/x", "/k..",
                "/k%2e%2e", "/k%5c..%5cx"}) {
            assertThat(get(target)).as(target).isEqualTo("404");
        }
        assertThat(get("/k/x")).isEqualTo("200 inside");
        assertThat(get("/k")).isEqualTo("301");
    }

    /**
     * A link in the alias's directory to a file beside it, in its parent: under symlinks = within-root the directory
     * is the root it may not leave, as under {@code /k} (and an alias ending in "/" in a location ending in "/"),
     * never the parent (an alias /home/u/public_html would have served a link to ~/.ssh; /data's root would be "/").
     */
    @Test
    void aLinkOutOfTheAliasDirectoryIsRefusedAsUnderAnAliasWithItsSlash() throws Exception {
        assertThat(get("/k/out")).isEqualTo("403");
        assertThat(get("/i/out")).isEqualTo("403");
    }

    /**
     * An alias not there when edge starts is the directory to come, as nginx, deciding per request, takes it once it
     * is made: its files are served without a reload, held in it (a link to a file beside it is 403, as under
     * /i), and /laterfoo beside it is no file of it. It was taken as a file below its parent until the next reload:
     * the link out and w3/laterfoo were served.
     */
    @Test
    void anAliasMadeAfterTheStartIsTheDirectoryItNames() throws Exception {
        assertThat(get("/later/x")).isEqualTo("404");
        Path later = Files.createDirectories(dir.resolve("w3/later"));
        Files.writeString(later.resolve("x"), "later");
        Files.createSymbolicLink(later.resolve("out"), Path.of("../secret"));
        Files.writeString(dir.resolve("w3/laterfoo"), "beside");
        // the resolver looks for a root that was missing again (every second)
        Awaits.until(() -> get("/later/x"), "200 later"::equals, "/later/x served once made");
        assertThat(get("/later/out")).isEqualTo("403");
        assertThat(get("/laterfoo")).isEqualTo("404");
        assertThat(get("/later")).isEqualTo("301");
    }

    /**
     * A prefix location's alias of a file not there when edge starts: 404 while it is missing, then, once made, served
     * as an alias of a file there at load is (nginx decides per request): the file below its parent, its name and what
     * follows the match (/soon.txtx is w3/soon.txtx, as nginx's), the site's symlinks rule holding a link there to the
     * parent. It was taken as the directory to come, its own root: a link made there to a file outside w3 was served.
     */
    @Test
    void anAliasOfAFileMadeAfterTheStartIsThatFileBelowItsParent() throws Exception {
        assertThat(get("/soon.txt")).isEqualTo("404");
        assertThat(get("/soonlink")).isEqualTo("404");
        Files.writeString(dir.resolve("w3/soon.txt"), "soon");
        Files.writeString(dir.resolve("w3/soon.txtx"), "beside");
        Files.writeString(dir.resolve("outside"), "outside");
        Files.createSymbolicLink(dir.resolve("w3/soonlink"), Path.of("../outside"));
        // the resolver looks for a root that was missing again (every second); until then /soon.txt is served as the
        // root itself, and only the file below its parent is /soon.txtx
        Awaits.until(() -> get("/soon.txtx"), "200 beside"::equals, "/soon.txt found to be a file once made");
        assertThat(get("/soon.txt")).isEqualTo("200 soon");
        assertThat(get("/soon.txt/")).isEqualTo("404");
        String link = Awaits.until(() -> get("/soonlink"), said -> !said.equals("404"), "/soonlink seen");
        assertThat(link).as("a link out of the alias's parent").isEqualTo("403");
    }

    /**
     * Such an alias found to be a file, then replaced by a directory: until the next look at the root (a second) the
     * location still takes it for a file below its parent, but nothing below it is served then, as nothing is below a
     * file (nginx's ENOTDIR, 404); then it is the directory, its own root. It served the directory's files held in the
     * parent meanwhile: a link in it to a file beside it, which the symlinks rule refuses, was 200, and listed.
     */
    @Test
    void aFileAliasReplacedByADirectoryIsNeverServedFromItsParent() throws Exception {
        Path turn = dir.resolve("w3/turn");
        Files.writeString(turn, "file");
        Awaits.until(() -> get("/turn"), "200 file"::equals, "/turn served as a file");
        Files.delete(turn);
        Files.createDirectories(turn);
        Files.writeString(turn.resolve("x"), "in turn");
        Files.createSymbolicLink(turn.resolve("link"), Path.of("../secret"));
        List<String> seen = new ArrayList<>();
        Awaits.until(() -> {
            seen.add(get("/turn/link"));
            return get("/turn/x");
        }, "200 in turn"::equals, "/turn/x served from the directory");
        seen.add(get("/turn/link"));
        assertThat(seen).as("a link out of the directory, while and after it replaced the file")
                .doesNotContain("200 secret").endsWith("403");
    }

    /**
     * A prefix location's alias of a file there at load, replaced by a directory: served as nginx 1.22 serves it
     * (checked side by side, deciding per request): the file below its parent while it is one (/heldx is w3/heldx),
     * then, once the look at it every second finds the directory, that directory, its own root, as an alias that is a
     * directory at load: its files, its index, a 301 to the slash, and a link in it to a file beside it refused
     * (symlinks = within-root; nginx, following links, serves it), /heldx no file of it (nginx's w3/heldx). It was
     * decided at load: the directory's files were served held in the parent until a reload, the link out 200.
     */
    @Test
    void aFileAliasAtTheStartReplacedByADirectoryIsThatDirectory() throws Exception {
        assertThat(get("/held")).isEqualTo("200 file");
        assertThat(get("/heldx")).as("the file beside it, as nginx's").isEqualTo("200 beside");
        assertThat(get("/held/x")).as("nothing below a file").isEqualTo("404");
        Path held = dir.resolve("w3/held");
        Files.delete(held);
        Files.createDirectories(held.resolve("sub"));
        Files.writeString(held.resolve("index.html"), "index");
        Files.createSymbolicLink(held.resolve("link"), Path.of("../secret"));
        Files.writeString(held.resolve("x"), "in held");
        List<String> seen = new ArrayList<>();
        Awaits.until(() -> {
            seen.add(get("/held/link"));
            return get("/held/x");
        }, "200 in held"::equals, "/held/x served from the directory");
        seen.add(get("/held/link"));
        assertThat(seen).as("a link out of the directory, while and after it replaced the file")
                .doesNotContain("200 secret").endsWith("403");
        assertThat(get("/held/")).isEqualTo("200 index");
        assertThat(get("/held")).isEqualTo("301");
        assertThat(get("/held/sub")).isEqualTo("301");
        assertThat(get("/held/missing")).isEqualTo("404");
        assertThat(get("/heldx")).as("no file of the directory").isEqualTo("404");
    }

    /**
     * An exact location's alias that is a directory at the start (/exdir a 301 to its slash), replaced by a link to a
     * file outside its parent, then by a file: once the look at it every second finds the file, it is that file below
     * its parent, as a prefix location's, the link refused under symlinks = within-root (nginx 1.22, checked side by
     * side: 403 for the link with disable_symlinks on, 200 for the file). It was taken for the directory for good: the
     * link's target, judged against itself as the root, went out (200), and the file was its own root.
     */
    @Test
    void anExactLocationsDirectoryReplacedByAFileIsThatFileBelowItsParent() throws Exception {
        assertThat(get("/exdir")).isEqualTo("301");
        Path exdir = dir.resolve("w3/exdir");
        Files.delete(exdir.resolve("x"));
        Files.delete(exdir);
        Files.writeString(dir.resolve("exoutside"), "outside");
        Files.createSymbolicLink(exdir, Path.of("../exoutside"));
        List<String> seen = new ArrayList<>();
        Awaits.until(() -> {
            String said = get("/exdir");
            seen.add(said);
            return said;
        }, "403"::equals, "/exdir found to be a link out of its parent");
        assertThat(seen).as("the link's target outside the parent").doesNotContain("200 outside");
        Files.delete(exdir);
        Files.writeString(exdir, "file");
        Awaits.until(() -> get("/exdir"), "200 file"::equals, "/exdir found to be a file");
    }

    /** A location nested in one with such an alias takes it, as nginx's merge: its file is the enclosing match's. */
    @Test
    void aNestedLocationTakesTheAlias() throws Exception {
        assertThat(get("/i/s.css")).isEqualTo("200 css");
        assertThat(Curl.output("-o", "/dev/null", "-D", "-", edge.uri("/i/s.css").toString()))
                .containsIgnoringCase("x-css: 1\r\n");
        assertThat(get("/ifoo.css")).isEqualTo("404");
    }
}
