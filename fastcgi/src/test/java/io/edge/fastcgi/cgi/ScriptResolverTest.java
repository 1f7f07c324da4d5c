package io.edge.fastcgi.cgi;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.fastcgi.cgi.ScriptResolver.FileProbe;
import io.edge.fastcgi.cgi.ScriptResolver.Forbidden;
import io.edge.fastcgi.cgi.ScriptResolver.NotFound;
import io.edge.fastcgi.cgi.ScriptResolver.Rejected;
import io.edge.fastcgi.cgi.ScriptResolver.Script;
import io.edge.fastcgi.cgi.ScriptResolver.SplitGaveUp;
import io.edge.fastcgi.cgi.ScriptResolver.StaticFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ScriptResolverTest {

    @TempDir
    Path root;

    @BeforeEach
    void tree() throws IOException {
        Files.createDirectories(root.resolve("uploads"));
        Files.createDirectories(root.resolve("app.php.d"));
        Files.write(root.resolve("uploads/a.jpg"), new byte[] {(byte) 0xff, (byte) 0xd8});
        Files.writeString(root.resolve("index.php"), "<?php");
        Files.writeString(root.resolve("a.php"), "<?php");
        Files.createDirectories(root.resolve("dir.php"));
    }

    @Test
    void splitsAtFirstPhpSegment() {
        var r = new ScriptResolver(root, null).resolve("/a.php/b.php/c", "x=1");
        assertThat(r).isEqualTo(new Script(root, root.resolve("a.php"), "/a.php", "/b.php/c", "/a.php/b.php/c",
                "x=1"));
    }

    /** Without a front controller a directory is still the caller's to index (nginx's index needs no try_files). */
    @Test
    void withoutAFrontControllerADirectoryIsLeftToItsIndexAndAnythingElseIsNotFound() {
        var resolver = new ScriptResolver(root, null);
        assertThat(resolver.resolve("/", "")).isEqualTo(new StaticFile(root, true));
        assertThat(resolver.resolve("/uploads/", "")).isEqualTo(new StaticFile(root.resolve("uploads"), true));
        assertThat(resolver.resolve("/uploads/a.jpg", "")).isInstanceOf(NotFound.class);
        assertThat(resolver.resolve("/missing/", "")).isInstanceOf(NotFound.class);
    }

    /**
     * Told to count no directory (nginx's try_files $uri /index.php, no $uri/), a directory runs the front controller
     * as a missing path does, with its slash or without (checked against nginx 1.22.1: /somedir, /somedir/ and / went
     * to /index.php there); a file is still itself, a script still runs, a directory named as a script still 404.
     */
    @Test
    void toldToCountNoDirectoryADirectoryRunsTheFrontController() {
        var resolver = new ScriptResolver(root, "/", ScriptResolver.DEFAULT_SPLIT, "/index.php", false,
                ScriptResolver.FileProbe.FILESYSTEM);
        for (String directory : new String[] {"/", "/uploads", "/uploads/", "/app.php.d/"}) {
            assertThat(resolver.resolve(directory, "q=1")).as(directory).isEqualTo(new Script(root,
                    root.resolve("index.php"), "/index.php", "", "/index.php", "q=1"));
        }
        assertThat(resolver.resolve("/uploads/a.jpg", "")).isEqualTo(new StaticFile(root.resolve("uploads/a.jpg"),
                false));
        assertThat(resolver.resolve("/a.php", "")).isInstanceOf(Script.class);
        assertThat(resolver.resolve("/dir.php", "")).isInstanceOf(NotFound.class);
        assertThat(new ScriptResolver(root, "/index.php").resolve("/uploads/", ""))
                .as("by default a directory is its own, nginx's $uri/")
                .isEqualTo(new StaticFile(root.resolve("uploads"), true));
    }

    @Test
    void plainScriptHasEmptyPathInfo() {
        var r = (Script) new ScriptResolver(root, null).resolve("/a.php", "");
        assertThat(r.pathInfo()).isEmpty();
        assertThat(r.scriptFilename()).isEqualTo(root.resolve("a.php"));
    }

    @Test
    void uploadedJpegIsNeverAScript() {
        assertThat(new ScriptResolver(root, null).resolve("/uploads/a.jpg/x.php", ""))
                .isInstanceOf(NotFound.class);
        // With a front controller too: its script part names no script (nginx: 404, or php-fpm's 403)
        assertThat(new ScriptResolver(root, "/index.php").resolve("/uploads/a.jpg/x.php", "q=1"))
                .isInstanceOf(NotFound.class);
    }

    /**
     * A path whose script part names no script is 404 under a front controller too, as nginx's PHP location answers
     * it (try_files $uri =404, or php-fpm's "File not found."): it ran the front controller, which a scanner's
     * /wp-login.php booted. A path with no script part (a directory named so is a step) and the front controller's
     * own path still run it.
     */
    @Test
    void underAFrontControllerAMissingScriptIsNotFoundAndAPathWithoutAScriptPartRunsIt() {
        var resolver = new ScriptResolver(root, "/index.php");
        for (String path : new String[] {"/missing.php", "/wp-admin/install.php", "/missing.php/foo", "/missing.php/",
                "/dir.php/missing.php", "/dir.php/missing.php/a/b"}) {
            assertThat(resolver.resolve(path, "")).as(path).isInstanceOf(NotFound.class);
        }
        var front = new Script(root, root.resolve("index.php"), "/index.php", "", "/index.php", "");
        for (String path : new String[] {"/blog/post", "/dir.php/x", "/missing.php.bak", "/missing.PHP", "/a.phpx"}) {
            assertThat(resolver.resolve(path, "")).as(path).isEqualTo(front);
        }
        assertThat(resolver.resolve("/index.php", "")).isEqualTo(front);
        assertThat(((Script) resolver.resolve("/index.php/foo", "")).pathInfo()).isEqualTo("/foo");
    }

    @Test
    void directoryNamedLikeAScriptIsNotAScript() {
        assertThat(new ScriptResolver(root, null).resolve("/dir.php/x", "")).isInstanceOf(NotFound.class);
    }

    /**
     * A directory named like a script is a step of the path: the script is the first .php further on that is none
     * (lighttpd's and Apache's search). Split at the directory, /dir.php/ was no directory to index and its index
     * /dir.php/index.php ran the front controller, after a 301 from /dir.php to /dir.php/.
     */
    @Test
    void aScriptInADirectoryNamedLikeAScriptRunsAndTheDirectoryIsIndexed() throws IOException {
        Files.writeString(root.resolve("dir.php/index.php"), "<?php");
        for (String controller : new String[] {null, "/index.php"}) {
            var resolver = new ScriptResolver(root, controller);
            assertThat(resolver.resolve("/dir.php/index.php/more", "q")).as(controller).isEqualTo(new Script(root,
                    root.resolve("dir.php/index.php"), "/dir.php/index.php", "/more", "/dir.php/index.php/more", "q"));
            assertThat(resolver.resolve("/dir.php/", "")).as(controller)
                    .isEqualTo(new StaticFile(root.resolve("dir.php"), true));
        }
        assertThat(new ScriptResolver(root, null).resolve("/dir.php/missing.php", "")).isInstanceOf(NotFound.class);
    }

    /**
     * A directory named as a script, by a path ending in .php (nginx's ~ \.php$ takes it), is no script: 404, as nginx
     * answers it (try_files $uri =404 wants a file; without it php-fpm's "No input file specified."), with a front
     * controller or without, whatever splits the path. It was the static path's, a 301 to /dir.php/. Named as a
     * directory (/dir.php/) it is still indexed, and a path below it is one like any other; a directory whose name
     * ends otherwise is one like any other too.
     */
    @Test
    void aDirectoryNamedAsAScriptIsNotFound() {
        for (String controller : new String[] {null, "/index.php"}) {
            for (ScriptResolver resolver : new ScriptResolver[] {new ScriptResolver(root, controller),
                    new ScriptResolver(root, Pattern.compile("^(.+\\.php)(/.*)$"), controller, FileProbe.FILESYSTEM)}) {
                assertThat(resolver.resolve("/dir.php", "")).as(controller).isInstanceOf(NotFound.class);
                assertThat(resolver.resolve("/dir.php/", "")).as(controller)
                        .isEqualTo(new StaticFile(root.resolve("dir.php"), true));
                assertThat(resolver.resolve("/app.php.d", "")).as(controller)
                        .isEqualTo(new StaticFile(root.resolve("app.php.d"), true));
            }
        }
        assertThat(new ScriptResolver(root, "/index.php").resolve("/dir.php/x", "q")).isEqualTo(new Script(root,
                root.resolve("index.php"), "/index.php", "", "/index.php", "q"));
    }

    /**
     * What names a script is the split's: under a split on .phtml a directory /dir.phtml is 404 and /dir.php a
     * directory like any other. The rule was a path ending in .php, whatever the split.
     */
    @Test
    void aDirectoryIsNamedAsAScriptByTheSplit() throws IOException {
        Files.createDirectories(root.resolve("dir.phtml"));
        for (String controller : new String[] {null, "/index.php"}) {
            for (Pattern split : new Pattern[] {Pattern.compile("^(.+?\\.phtml)(/.*)?$"),
                    Pattern.compile("^(.+\\.phtml)(/.+)$")}) {
                var resolver = new ScriptResolver(root, split, controller, FileProbe.FILESYSTEM);
                String as = controller + " " + split;
                assertThat(resolver.resolve("/dir.phtml", "")).as(as).isInstanceOf(NotFound.class);
                assertThat(resolver.resolve("/dir.phtml/", "")).as(as)
                        .isEqualTo(new StaticFile(root.resolve("dir.phtml"), true));
                assertThat(resolver.resolve("/dir.php", "")).as(as)
                        .isEqualTo(new StaticFile(root.resolve("dir.php"), true));
            }
        }
        assertThat(new ScriptResolver(root, null).resolve("/dir.phtml", ""))
                .isEqualTo(new StaticFile(root.resolve("dir.phtml"), true));
    }

    @Test
    void lineBreakOrNulInPathInfoIsRejected() {
        ScriptResolver resolver = new ScriptResolver(root, "/index.php");
        assertThat(resolver.resolve("/a.php/x\nPHP_VALUE", "")).isInstanceOf(Rejected.class);
        assertThat(resolver.resolve("/a.php/x\r", "")).isInstanceOf(Rejected.class);
        assertThat(resolver.resolve("/a.php\0.jpg", "")).isInstanceOf(Rejected.class);
    }

    /**
     * A path's bytes that were not UTF-8, kept as escapes the JVM cannot name a file by (a legacy Latin-1 link), name
     * no file: the front controller answers, as nginx's try_files for a file not there; after a script, PATH_INFO.
     */
    @Test
    void aPathThatIsNotUtf8GoesToTheFrontControllerOrIsPathInfo() {
        assertThat(new ScriptResolver(root, "/index.php").resolve("/caf\uDCE9/menu", "q=1"))
                .isEqualTo(new Script(root, root.resolve("index.php"), "/index.php", "", "/index.php", "q=1"));
        assertThat(new ScriptResolver(root, null).resolve("/caf\uDCE9.php", "")).isInstanceOf(NotFound.class);
        assertThat(((Script) new ScriptResolver(root, null).resolve("/a.php/caf\uDCE9", "")).pathInfo())
                .isEqualTo("/caf\uDCE9");
    }

    @Test
    void escapingTheRootIsNotFound() {
        assertThat(new ScriptResolver(root.resolve("uploads"), null).resolve("/../a.php", ""))
                .isInstanceOf(NotFound.class);
    }

    @Test
    void tryFilesServesExistingFilesAndDirectoriesStatically() {
        ScriptResolver resolver = new ScriptResolver(root, "/index.php");
        assertThat(resolver.resolve("/uploads/a.jpg", "")).isEqualTo(new StaticFile(root.resolve("uploads/a.jpg"), false));
        assertThat(resolver.resolve("/uploads", "")).isEqualTo(new StaticFile(root.resolve("uploads"), true));
    }

    /**
     * try_files $uri $uri/ /index.php: "/uploads/a.jpg/" names no file (stat says ENOTDIR) and no directory, so the
     * front controller answers it, as nginx's does; the file is not served for it (the static path would 404 it).
     */
    @Test
    void tryFilesSendsAFileNameWithATrailingSlashToTheFrontController() {
        ScriptResolver resolver = new ScriptResolver(root, "/index.php");
        var r = (Script) resolver.resolve("/uploads/a.jpg/", "q=1");
        assertThat(r).isEqualTo(new Script(root, root.resolve("index.php"), "/index.php", "", "/index.php", "q=1"));
        assertThat(resolver.resolve("/uploads/", "")).isEqualTo(new StaticFile(root.resolve("uploads"), true));
    }

    @Test
    void tryFilesFallsBackToFrontControllerWithOriginalQuery() {
        var r = (Script) new ScriptResolver(root, "/index.php").resolve("/blog/2024/hello", "page=2");
        assertThat(r).isEqualTo(new Script(root, root.resolve("index.php"), "/index.php", "", "/index.php",
                "page=2"));
    }

    @Test
    void missingFrontControllerIsNotFound() throws IOException {
        Files.delete(root.resolve("index.php"));
        assertThat(new ScriptResolver(root, "/index.php").resolve("/nothing", "")).isInstanceOf(NotFound.class);
    }

    /**
     * A split that does not match a path it would take whole as a script name leaves the path the script, PATH_INFO
     * empty, as nginx's fastcgi_split_path_info ^(.+\.php)(/.+)$ runs /a.php: it was no script (404).
     */
    @Test
    void customSplitRegex() {
        var resolver = new ScriptResolver(root, Pattern.compile("^(.+\\.php)(/.+)$"), null, FileProbe.FILESYSTEM);
        assertThat(resolver.resolve("/a.php", "")).isEqualTo(new Script(root, root.resolve("a.php"), "/a.php", "",
                "/a.php", ""));
        assertThat(((Script) resolver.resolve("/a.php/p", "")).pathInfo()).isEqualTo("/p");
        assertThat(resolver.resolve("/a.php/", "")).as("none of the split's, and no file").isInstanceOf(NotFound.class);
    }

    /**
     * A split on another extension: its scripts run with PATH_INFO or without, a missing one is 404 under a front
     * controller too, and a .php file it names no script is 404, never sent as a file (its source).
     */
    @Test
    void aSplitOnAnotherExtensionRunsItsScriptsAndNeverSendsAPhpFile() throws IOException {
        Files.writeString(root.resolve("x.phtml"), "<?php");
        for (Pattern split : new Pattern[] {Pattern.compile("^(.+?\\.phtml)(/.*)$"),
                Pattern.compile("^(.+?\\.phtml)(/.*)?$")}) {
            var resolver = new ScriptResolver(root, split, "/index.php", FileProbe.FILESYSTEM);
            assertThat(resolver.resolve("/x.phtml/a/b", "q")).as(split.pattern()).isEqualTo(new Script(root,
                    root.resolve("x.phtml"), "/x.phtml", "/a/b", "/x.phtml/a/b", "q"));
            assertThat(resolver.resolve("/x.phtml", "")).as(split.pattern()).isEqualTo(new Script(root,
                    root.resolve("x.phtml"), "/x.phtml", "", "/x.phtml", ""));
            assertThat(resolver.resolve("/missing.phtml/a", "")).as(split.pattern()).isInstanceOf(NotFound.class);
            assertThat(resolver.resolve("/a.php", "")).as(split.pattern()).isInstanceOf(NotFound.class);
            assertThat(resolver.resolve("/uploads/a.jpg", "")).as(split.pattern())
                    .isEqualTo(new StaticFile(root.resolve("uploads/a.jpg"), false));
        }
    }

    /** A split that names one script gives PATH_INFO to it alone; other paths have no script part. */
    @Test
    void aSplitForOneScriptGivesPathInfoToItAlone() throws IOException {
        Files.writeString(root.resolve("api.php"), "<?php");
        var resolver = new ScriptResolver(root, Pattern.compile("^(/api\\.php)(/.*)$"), null, FileProbe.FILESYSTEM);
        assertThat(((Script) resolver.resolve("/api.php/v1/users", "")).pathInfo()).isEqualTo("/v1/users");
        assertThat(((Script) resolver.resolve("/api.php", "")).pathInfo()).isEmpty();
        assertThat(resolver.resolve("/a.php/x", "")).isInstanceOf(NotFound.class);
        assertThat(resolver.resolve("/a.php", "")).isInstanceOf(NotFound.class);
    }

    /** A split whose first group takes no path from its start names no script with it (it threw, or cut a file name). */
    @Test
    void aSplitWhoseScriptNameIsNoPathStartNamesNone() {
        for (String split : new String[] {"^/(.+\\.php)(/.*)$", "^(/x)?(/.*)$", "^(.*?)(/.*)$"}) {
            var resolver = new ScriptResolver(root, Pattern.compile(split), null, FileProbe.FILESYSTEM);
            for (String path : new String[] {"/a.php/x", "/a.php"}) {
                assertThat(resolver.resolve(path, "")).as(split + " " + path).isInstanceOf(NotFound.class);
            }
        }
    }

    @Test
    void theDefaultSplitWithoutARegexAgreesWithTheRegex() {
        String[] paths = {"/a.php", "/a.php/", "/a.php/b", "/a.php/b.php/c", "/.php", "/.php/x", "/a.phpx",
            "/a.phpx/b.php", "/a.php.php", "/a.php.php/x", "/dir.php/", "/x/y.php/z/w.php", "/", "/php", "/a.ph",
            "/a.PHP", "/..php", "/a/.php", "/uploads/a.jpg/x.php", "/a.php?b", "/a.php%2fb", "/é.php/ü"};
        for (String path : paths) {
            java.util.regex.Matcher m = ScriptResolver.DEFAULT_SPLIT.matcher(path);
            int expected = m.matches() ? m.end(1) : -1;
            assertThat(ScriptResolver.defaultScriptEnd(path)).as(path).isEqualTo(expected);
        }
    }

    /** The file system as a site policy sees it: what lies under a refused name is FORBIDDEN, whatever it is. */
    private FileProbe refusing(String... refusedUnderRoot) {
        return path -> {
            for (String refused : refusedUnderRoot) {
                if (path.startsWith(root.resolve(refused))) {
                    return FileProbe.Kind.FORBIDDEN;
                }
            }
            return FileProbe.FILESYSTEM.kind(path);
        };
    }

    @Test
    void aScriptThePolicyRefusesIsForbiddenAndNeverRuns() throws IOException {
        Files.createDirectories(root.resolve(".git"));
        Files.writeString(root.resolve(".git/x.php"), "<?php");
        var resolver = new ScriptResolver(root, ScriptResolver.DEFAULT_SPLIT, null, refusing(".git", "a.php"));
        assertThat(resolver.resolve("/.git/x.php", "")).isInstanceOf(Forbidden.class);
        assertThat(resolver.resolve("/.git/missing.php", "")).isInstanceOf(Forbidden.class);
        assertThat(resolver.resolve("/a.php/path/info", "")).isInstanceOf(Forbidden.class);
        assertThat(resolver.resolve("/index.php", "")).isInstanceOf(Script.class);
    }

    @Test
    void underAFrontControllerARefusedScriptOrPathIsForbiddenNotHandedToTheController() throws IOException {
        var resolver = new ScriptResolver(root, ScriptResolver.DEFAULT_SPLIT, "/index.php",
                refusing(".git", ".env", "a.php"));
        assertThat(resolver.resolve("/a.php", "")).as("a refused script").isInstanceOf(Forbidden.class);
        assertThat(resolver.resolve("/.env", "")).as("a refused file").isInstanceOf(Forbidden.class);
        assertThat(resolver.resolve("/.git/", "")).as("a refused directory").isInstanceOf(Forbidden.class);
        assertThat(resolver.resolve("/.git/HEAD", "")).as("a refused missing path").isInstanceOf(Forbidden.class);
        var front = (Script) resolver.resolve("/articles/42", "");
        assertThat(front.scriptName()).isEqualTo("/index.php");
    }

    @Test
    void aFrontControllerThePolicyRefusesIsForbidden() {
        var resolver = new ScriptResolver(root, ScriptResolver.DEFAULT_SPLIT, "/index.php", refusing("index.php"));
        assertThat(resolver.resolve("/articles/42", "")).isInstanceOf(Forbidden.class);
        assertThat(resolver.resolve("/a.php", "")).as("other scripts still run").isInstanceOf(Script.class);
    }

    @Test
    void splitThatBacktracksGivesUpOnALongPathAsNoScript() throws IOException {
        // ^(.*.*.*\.phtml) reads a path of n characters with no ".phtml" about n^3 / 6 times: 170 million for 1 000
        Pattern catastrophic = Pattern.compile("^(.*.*.*\\.phtml)(/.*)$");
        String path = "/a".repeat(500);
        var resolver = new ScriptResolver(root, catastrophic, "/index.php", FileProbe.FILESYSTEM);
        assertThat(resolver.resolve(path, "")).as("404, never the front controller")
                .isInstanceOf(SplitGaveUp.class)
                .extracting(r -> ((SplitGaveUp) r).reason()).asString().contains(catastrophic.pattern());
        List<SplitGaveUp> said = new ArrayList<>();
        assertThat(ScriptResolver.hasScriptPart(catastrophic, path, said::add))
                .as("may be a script: never sent as a file").isTrue();
        assertThat(said).as("told, for a warning").singleElement().extracting(SplitGaveUp::reason).asString()
                .contains(catastrophic.pattern(), "taken for a script");
        said.clear();
        assertThat(ScriptResolver.hasScriptPart(catastrophic, "/a.phtml/x", said::add)).isTrue();
        assertThat(said).as("a short path: nothing to tell").isEmpty();

        Files.writeString(root.resolve("app.phtml"), "<?php");
        var script = (Script) resolver.resolve("/app.phtml/x", "");
        assertThat(script.scriptName()).as("a short path still splits").isEqualTo("/app.phtml");
        assertThat(script.pathInfo()).isEqualTo("/x");
        var sane = new ScriptResolver(root, Pattern.compile("^(.+?\\.phtml)(/.*)$"), "/index.php",
                FileProbe.FILESYSTEM);
        assertThat(sane.resolve(path, "")).as("a split that does not backtrack: the front controller")
                .isInstanceOf(Script.class).extracting(r -> ((Script) r).scriptName()).isEqualTo("/index.php");
    }
}
