package io.edge.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An alias in a prefix location whose match does not end in "/" and in an exact location, on a real edge asked with
 * curl (--path-as-is: the dots and their encodings reach edge as written). The expected answers are nginx 1.22.1's to
 * the same requests with {@code location /i { alias .../w3/images; }}, {@code location = /favicon.ico { alias
 * .../data/f.ico; }} and {@code location /k { alias .../w3/images/; }}, but for the one difference on purpose: under
 * an alias ending in "/" in a slash-less location, {@code /k../x} and its encodings are 404 where nginx serves
 * {@code w3/x}, the file beside the directory.
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
        Files.createDirectories(dir.resolve("data"));
        Files.writeString(dir.resolve("data/f.ico"), "ico");
        edge = EdgeHarness.start(dir, """
                sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                  { match = "/" }
                  { match = "/i", alias = "w3/images" }
                  { match = "= /favicon.ico", alias = "data/f.ico" }
                  { match = "/k", alias = "w3/images/" }
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
        assertThat(get("/ifoo")).isEqualTo("200 foo");
        assertThat(get("/ifoo?a=1")).isEqualTo("200 foo");
        assertThat(get("/i/x")).isEqualTo("200 inside");
        assertThat(get("/i//x")).isEqualTo("200 inside");
        assertThat(get("/i.txt")).isEqualTo("200 txt");
        assertThat(get("/idir/a")).isEqualTo("200 sub");
        assertThat(get("/i")).as("the directory, its slash added").isEqualTo("301");
        assertThat(get("/idir")).isEqualTo("301");
        assertThat(get("/i/")).as("no index, no listing").isEqualTo("403");
        assertThat(get("/favicon.ico")).isEqualTo("200 ico");
        assertThat(get("/favicon%2eico")).isEqualTo("200 ico");
        assertThat(get("/favicon.icox")).isEqualTo("404");
    }

    @Test
    void noEncodingOfDotsLeavesTheAliasDirectory() throws Exception {
        // "images" and "../x": a name beside the directory, images../x, missing (nginx: the same 404s)
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
}
