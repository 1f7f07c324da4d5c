package io.edge.conf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.tuple;

import io.edge.aio.PathPolicy;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A site's error-pages: read with the configuration, and every mistake listed with its line. */
class ErrorPagesConfigTest {

    @TempDir
    Path dir;

    @BeforeEach
    void site() throws Exception {
        Files.createDirectories(dir.resolve("www/errors"));
        Files.writeString(dir.resolve("www/errors/503.html"), "<p>busy</p>");
        Files.write(dir.resolve("www/errors/huge.html"), new byte[ErrorPage.MAX_BYTES + 1]);
        Files.writeString(dir.resolve("outside.html"), "<p>outside</p>");
        Files.createDirectories(dir.resolve("www/errors.html"));
    }

    @Test
    void aPageIsReadWithItsType() throws Exception {
        EdgeSettings settings = new ConfigLoader().load(EdgeConfFile.write(dir, """
                sites = [{ root = www, error-pages { 503 = "/errors/503.html" } }]
                """));
        ErrorPage page = settings.sites().get(0).errorPages().get(503);
        assertThat(page.contentType()).startsWith("text/html");
        ByteBuffer body = page.body();
        assertThat(StandardCharsets.UTF_8.decode(body).toString()).isEqualTo("<p>busy</p>");
        assertThat(page.body().isReadOnly()).isTrue();
        assertThat(settings.sites().get(0).errorPages()).containsOnlyKeys(503);
    }

    /**
     * nginx's error_page 301 serves its page for a return's or a directory's redirect: a page for any redirect edge
     * makes, a file; another 3xx (edge makes no 304 or 300 from a page), or a named location for one, is a problem.
     */
    @Test
    void aRedirectMayHaveAPageThatIsAFile() throws Exception {
        EdgeSettings settings = new ConfigLoader().load(EdgeConfFile.write(dir, """
                sites = [{ root = www, error-pages { 301 = "/errors/503.html", 308 = "/errors/503.html" } }]
                """));
        assertThat(settings.sites().get(0).errorPage(301).uri()).isEqualTo("/errors/503.html");
        assertThat(settings.sites().get(0).errorPages()).containsOnlyKeys(301, 308);
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(
                EdgeConfFile.write(dir, """
                        sites = [{ root = www, error-pages { 304 = "/errors/503.html", 302 = "@app" }
                          locations = [{ match = "@app" }] }]
                        """)));
        assertThat(e).isNotNull();
        assertThat(e.problems()).extracting(ConfigProblem::key, ConfigProblem::line, ConfigProblem::message,
                ConfigProblem::expected).containsExactly(
                tuple("edge.sites[0].error-pages.302", 2, "\"@app\": a redirect's page is a file, or a path a"
                        + " script or proxy location takes, sent with its Location",
                        "a path beginning with /, such as \"/errors/302.html\""),
                tuple("edge.sites[0].error-pages.304", 2, "\"304\" is not an error status", "a status from 400 to"
                        + " 599, or a redirect edge makes (301, 302, 303, 307, 308)"));
    }

    /**
     * nginx's error_page 301 /moved.html is not looked for at nginx -t: the redirect to it finds the file or not at
     * request time. A redirect's page whose file is not there is no problem: it answers as nginx's does then.
     */
    @Test
    void aRedirectsPageWhoseFileIsMissingIsNoProblem() throws Exception {
        EdgeSettings settings = new ConfigLoader().load(EdgeConfFile.write(dir, """
                sites = [{ root = www, error-pages { 301 = "/errors/moved.html", 308 = "/errors/503.html" } }]
                """));
        ErrorPage missing = settings.sites().get(0).errorPage(301);
        assertThat(missing.uri()).isEqualTo("/errors/moved.html");
        assertThat(missing.missing()).isTrue();
        assertThat(missing.named()).isFalse();
        assertThat(settings.sites().get(0).errorPage(308).missing()).isFalse();
    }

    /**
     * nginx -t looks for no error_page file at all: an error's page whose file is not there, or is a link to nothing, is
     * answered at request time (nginx 1.22: error_page 503 to a missing file, return 503, answers its built-in 404), so
     * neither is a problem, for an error's page as for a redirect's. A name of no type is one all the same: whatever
     * file comes there would be sent as it is.
     */
    @Test
    void aPageWhoseFileIsMissingOrALinkToNothingIsNoProblem() throws Exception {
        Files.createSymbolicLink(dir.resolve("www/errors/500.html"), dir.resolve("www/errors/gone.html"));
        Files.createSymbolicLink(dir.resolve("www/errors/moved.html"), Path.of("nowhere.html"));
        EdgeSettings settings = new ConfigLoader().load(EdgeConfFile.write(dir, """
                sites = [{ root = www, error-pages {
                  404 = "/errors/404.html", 500 = "/errors/500.html", 301 = "/errors/moved.html"
                  503 = "/errors/503.html" } }]
                """));
        SiteSettings site = settings.sites().get(0);
        assertThat(site.errorPages()).containsOnlyKeys(301, 404, 500, 503);
        for (int status : new int[] {301, 404, 500}) {
            assertThat(site.errorPage(status).missing()).as("%d", status).isTrue();
            assertThat(site.errorPage(status).named()).as("%d", status).isFalse();
        }
        assertThat(site.errorPage(404).uri()).isEqualTo("/errors/404.html");
        assertThat(site.errorPage(503).missing()).isFalse();
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(
                EdgeConfFile.write(dir, """
                        sites = [{ root = www, error-pages { 503 = "/errors/busy.php", 301 = "/errors/moved" } }]
                        """)));
        assertThat(e).isNotNull();
        assertThat(e.problems()).extracting(ConfigProblem::key, ConfigProblem::line).containsExactly(
                tuple("edge.sites[0].error-pages.301", 2), tuple("edge.sites[0].error-pages.503", 2));
        assertThat(e.problems().get(1).message()).endsWith("busy.php has no type in mime-types (a page is sent as it"
                + " is, a script is never run)");
    }

    /**
     * nginx opens an error_page file at each request: an edit, a page put there or taken away is seen at once. edge's
     * refresh (once a second, off the event loops) reads a page again where its file changed, appeared or went, and an
     * answer takes what it read last; a file that grew over the limit is not sent (edge's own page) until it is
     * mended, and one that became a link the site's rule refuses is refused (403), as nginx's open of it is.
     */
    @Test
    void aPageIsReadAgainWhereItsFileChangedAppearedOrWent() throws Exception {
        SiteSettings site = new ConfigLoader().load(EdgeConfFile.write(dir, """
                sites = [{ root = www, error-pages { 503 = "/errors/503.html", 404 = "/errors/404.html" } }]
                """)).sites().get(0);
        ErrorPage busy = site.errorPage(503);
        ErrorPage notFound = site.errorPage(404);
        assertThat(busy.refresh()).as("unchanged").isNull();
        assertThat(notFound.refresh()).as("still missing").isNull();
        Path busyFile = dir.resolve("www/errors/503.html");
        Files.writeString(busyFile, "<p>busy, edited</p>");
        assertThat(busy.refresh()).endsWith("503.html is read again: 19 bytes");
        assertThat(text(busy)).isEqualTo("<p>busy, edited</p>");
        Files.writeString(dir.resolve("www/errors/404.html"), "<p>not here</p>");
        assertThat(notFound.refresh()).isNotNull();
        assertThat(notFound.missing()).isFalse();
        assertThat(text(notFound)).isEqualTo("<p>not here</p>");
        Files.delete(busyFile);
        assertThat(busy.refresh()).contains("503.html is gone");
        assertThat(busy.missing()).isTrue();
        assertThat(busy.refresh()).as("gone still").isNull();
        Files.write(busyFile, new byte[ErrorPage.MAX_BYTES + 1]);
        assertThat(busy.refresh()).contains("is more than " + ErrorPage.MAX_BYTES + " bytes");
        assertThat(busy.content().state()).isEqualTo(ErrorPage.State.UNUSABLE);
        assertThat(busy.length()).isZero();
        Files.writeString(busyFile, "<p>back</p>");
        assertThat(busy.refresh()).isNotNull();
        assertThat(busy.content().state()).isEqualTo(ErrorPage.State.READ);
        assertThat(text(busy)).isEqualTo("<p>back</p>");
        // whoever may write in the root cannot make edge hand out a file the rule keeps requests from
        Files.delete(dir.resolve("www/errors/404.html"));
        Files.createSymbolicLink(dir.resolve("www/errors/404.html"), dir.resolve("outside.html"));
        assertThat(notFound.refresh()).contains("cannot be read").endsWith("its errors are answered 403 (as nginx's"
                + " error_page to a file it may not open) until it is mended");
        assertThat(notFound.content().state()).isEqualTo(ErrorPage.State.REFUSED);
        assertThat(notFound.length()).isZero();
    }

    /**
     * A directory on a page's way swapped for a link the site's rule refuses (moved out of the root, a link to it put in
     * its place) is refused (403), as nginx 1.22's open of the page then is, and read again once the directory is back:
     * the page's file, moved with its directory, keeps its inode and times, which alone told no change.
     */
    @Test
    void aPageIsRefusedWhileADirectoryOnItsWayIsALinkOutOfTheRootAndReadOnceItIsBack() throws Exception {
        Path pages = Files.createDirectories(dir.resolve("www/pages"));
        Path file = Files.writeString(pages.resolve("404.html"), "<p>not here</p>");
        awaitSettled(file); // its times are trusted as its version once a second old, as they then are on a live site
        ErrorPage notFound = new ConfigLoader().load(EdgeConfFile.write(dir, """
                sites = [{ root = www, error-pages { 404 = "/pages/404.html" } }]
                """)).sites().get(0).errorPage(404);
        assertThat(notFound.refresh()).as("unchanged").isNull();
        Path moved = Files.move(pages, dir.resolve("pages"));
        Files.createSymbolicLink(pages, moved);
        // the log names the link, not a permission an operator would look for in vain
        assertThat(notFound.refresh()).contains("cannot be read (").doesNotContain("Permission denied")
                .containsIgnoringCase("link").endsWith("its errors are answered 403 (as nginx's error_page to a file it"
                        + " may not open) until it is mended");
        assertThat(notFound.content().state()).isEqualTo(ErrorPage.State.REFUSED);
        assertThat(notFound.refresh()).as("refused still: said once").isNull();
        Files.delete(pages);
        Files.move(moved, pages);
        assertThat(notFound.refresh()).endsWith("404.html is read again: 15 bytes");
        assertThat(notFound.content().state()).isEqualTo(ErrorPage.State.READ);
        assertThat(text(notFound)).isEqualTo("<p>not here</p>");
    }

    /**
     * Under symlinks = deny, a directory on a page's way swapped for a link (within the root, even) makes the page
     * missing, 404, as nginx 1.22.1's disable_symlinks on meets ENOTDIR there (measured: error_page 404
     * /linked/404.html through a linked directory answers its own 404), not refused: 403 is a link as the page's own
     * name.
     */
    @Test
    void underSymlinksDenyAPageWhoseDirectoryBecomesALinkIsMissing() throws Exception {
        Path pages = Files.createDirectories(dir.resolve("www/pages"));
        Path file = Files.writeString(pages.resolve("404.html"), "<p>not here</p>");
        awaitSettled(file);
        ErrorPage notFound = new ConfigLoader().load(EdgeConfFile.write(dir, """
                sites = [{ root = www, symlinks = deny, error-pages { 404 = "/pages/404.html" } }]
                """)).sites().get(0).errorPage(404);
        Path moved = Files.move(pages, dir.resolve("www/real-pages"));
        Files.createSymbolicLink(pages, moved);
        assertThat(notFound.refresh()).contains("404.html is gone");
        assertThat(notFound.content().state()).isEqualTo(ErrorPage.State.MISSING);
        Files.delete(pages);
        Files.move(moved, pages);
        assertThat(notFound.refresh()).endsWith("404.html is read again: 15 bytes");
    }

    /** Until {@code file}'s modification and change times are more than a second old ({@link ErrorPage}'s settled). */
    private static void awaitSettled(Path file) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (Files.readAttributes(file, "unix:lastModifiedTime,ctime").values().stream()
                .anyMatch(time -> !((FileTime) time).toInstant()
                        .isBefore(Instant.now().minusMillis(1100)))) {
            assertThat(System.nanoTime()).as("the file's times a second old").isLessThan(deadline);
            TimeUnit.MILLISECONDS.sleep(50);
        }
    }

    /**
     * A page rewritten with the same size within the tick of the file times that saw it read keeps its version: the
     * read's bytes must not be trusted until its times are a second old. Here the page holds bytes older than the file
     * with the file's own, fresh, version, as such a rewrite leaves it.
     */
    @Test
    void aPageReadWithinASecondOfItsLastChangeIsReadAgain() throws Exception {
        Path file = dir.resolve("www/errors/503.html");
        Files.writeString(file, "<p>new!</p>");
        ErrorPage page = ErrorPage.read("/errors/503.html", file, "text/html",
                "<p>old!</p>".getBytes(StandardCharsets.UTF_8),
                ErrorPage.Source.of(dir.resolve("www"), PathPolicy.DEFAULT, null),
                ErrorPage.version(dir.resolve("www"), file));
        assertThat(page.refresh()).endsWith("503.html is read again: 11 bytes");
        assertThat(text(page)).isEqualTo("<p>new!</p>");
    }

    private static String text(ErrorPage page) {
        return StandardCharsets.UTF_8.decode(page.body()).toString();
    }

    /**
     * A site whose root is missing or of the wrong type has its error-pages checked all the same, but for the files:
     * their shape and statuses went unchecked, and came up one at a time as each root was mended (the config audit).
     */
    @Test
    void theShapeAndStatusesOfErrorPagesAreCheckedWithoutARoot() throws Exception {
        Path file = EdgeConfFile.write(dir, """
                sites = [
                  { root = [www], error-pages = [] }
                  { error-pages { 200 = "/errors/503.html", 503 = "errors/503.html", 404 = "/errors/404.html" } }
                ]
                """);
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(file));
        assertThat(e).isNotNull();
        assertThat(e.problems()).extracting(ConfigProblem::key).containsExactlyInAnyOrder(
                "edge.sites[0].root", "edge.sites[0].error-pages", "edge.sites[1].root",
                "edge.sites[1].error-pages.200", "edge.sites[1].error-pages.503");
    }

    @Test
    void noStatusADirectoryALargeFileAndAPathOutOfTheRootAreProblems() throws Exception {
        Path file = EdgeConfFile.write(dir, """
                sites = [{ root = www, error-pages {
                  200 = "/errors/503.html"
                  404 = "/errors.html"
                  500 = "/errors/huge.html"
                  502 = "/../outside.html"
                  504 = "errors/503.html"
                  507 = "/../www/errors/503.html"
                } }]
                """);
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(file));
        assertThat(e).isNotNull();
        assertThat(e.problems()).extracting(ConfigProblem::key, ConfigProblem::line).containsExactly(
                tuple("edge.sites[0].error-pages.200", 3),
                tuple("edge.sites[0].error-pages.404", 4),
                tuple("edge.sites[0].error-pages.500", 5),
                tuple("edge.sites[0].error-pages.502", 6),
                tuple("edge.sites[0].error-pages.504", 7),
                tuple("edge.sites[0].error-pages.507", 8));
        assertThat(e.problems().get(0).message()).isEqualTo("\"200\" is not an error status");
        assertThat(e.problems().get(1).message()).endsWith("errors.html is not a file");
        assertThat(e.problems().get(2).message()).endsWith("huge.html is " + (ErrorPage.MAX_BYTES + 1) + " bytes");
        assertThat(e.problems().get(3).message()).isEqualTo("\"/../outside.html\" is not a path under the root");
        // normalised, it is a readable file under the root, which the open beneath the root refused: "cannot be read:
        // Permission denied" it said
        assertThat(e.problems().get(5).message()).isEqualTo("\"/../www/errors/503.html\" has a . or .. segment");
    }

    /**
     * Whoever may write in the root (PHP, a deploy) must not have edge, reading as root at a reload, hand out a file the
     * site's rule keeps a request from: /etc/shadow as everybody's 404. Such a page is never read: it loads refused,
     * its errors answered 403 (or 404 where a directory on its way is the link), with a warning at its key, as nginx
     * 1.22 starts and answers them so (measured with disable_symlinks on); it was a problem refusing the configuration.
     */
    @Test
    void aPageThatIsALinkTheSitesSymlinksRuleRefusesLoadsRefusedWithAWarning() throws Exception {
        Files.createSymbolicLink(dir.resolve("www/errors/404.html"), dir.resolve("outside.html"));
        Files.createSymbolicLink(dir.resolve("www/errors/500.html"), dir.resolve("www/errors/503.html"));
        Files.createSymbolicLink(dir.resolve("www/linked"), dir.resolve("www/errors"));
        String pages = "error-pages { 404 = \"/errors/404.html\", 500 = \"/errors/500.html\", 502 = "
                + "\"/linked/503.html\" }";
        EdgeSettings withinRoot = new ConfigLoader().load(
                EdgeConfFile.write(dir, "sites = [{ root = www, " + pages + " }]\n"));
        assertThat(withinRoot.warnings()).extracting(ConfigProblem::key)
                .containsExactly("edge.sites[0].error-pages.404");
        SiteSettings site = withinRoot.sites().get(0);
        assertThat(site.errorPage(404).content().state()).isEqualTo(ErrorPage.State.REFUSED);
        assertThat(site.errorPage(404).length()).isZero();
        assertThat(site.errorPage(500).content().state()).isEqualTo(ErrorPage.State.READ);
        EdgeSettings deny = new ConfigLoader().load(
                EdgeConfFile.write(dir, "sites = [{ root = www, symlinks = deny, " + pages + " }]\n"));
        assertThat(deny.warnings()).extracting(ConfigProblem::key).containsExactly("edge.sites[0].error-pages.404",
                "edge.sites[0].error-pages.500", "edge.sites[0].error-pages.502");
        SiteSettings denied = deny.sites().get(0);
        assertThat(denied.errorPage(404).content().state()).isEqualTo(ErrorPage.State.REFUSED);
        assertThat(denied.errorPage(500).content().state()).isEqualTo(ErrorPage.State.REFUSED);
        assertThat(denied.errorPage(502).missing()).as("a link on the way: 404").isTrue();
        EdgeSettings allow = new ConfigLoader().load(
                EdgeConfFile.write(dir, "sites = [{ root = www, symlinks = allow, " + pages + " }]\n"));
        assertThat(StandardCharsets.UTF_8.decode(allow.sites().get(0).errorPages().get(404).body()).toString())
                .isEqualTo("<p>outside</p>");
    }

    @Test
    void aDirectorySwappedForALinkWhileThePageIsReadNeverHandsOutWhatTheLinkLeadsTo() throws Exception {
        // Whoever may write in the root swaps a directory on the page's way for a link out of it, and back, while
        // edge loads the configuration: each component must be held to the rule at the open itself, not checked
        // by its real path first and then opened by a path whose directories may be links by then.
        // A root deep down, so that taking real paths (one lookup per component) leaves the swaps time to fall between.
        String deep = "d/".repeat(200) + "www";
        Path root = Files.createDirectories(dir.resolve(deep));
        Path secret = Files.createDirectories(dir.resolve("secret"));
        Files.writeString(secret.resolve("404.html"), "<p>secret</p>");
        Path pages = Files.createDirectories(root.resolve("pages.dir"));
        Files.writeString(pages.resolve("404.html"), "<p>inside</p>");
        Path swapped = root.resolve("pages");
        Path link = Files.createSymbolicLink(root.resolve("pages.link"), secret);
        Files.move(pages, swapped);
        Path file = EdgeConfFile.write(dir,
                "sites = [{ root = \"" + deep + "\", error-pages { 404 = \"/pages/404.html\" } }]\n");
        AtomicBoolean stop = new AtomicBoolean();
        AtomicReference<IOException> swapFailed = new AtomicReference<>();
        AtomicLong swaps = new AtomicLong();
        Thread swapper = new Thread(() -> {
            try {
                for (int i = 0; i < 10_000_000 && !stop.get(); i++) {
                    Files.move(swapped, pages);
                    Files.move(link, swapped);
                    Files.move(swapped, link);
                    Files.move(pages, swapped);
                    swaps.incrementAndGet();
                }
            } catch (IOException e) {
                swapFailed.set(e); // the loads below would then race nothing: the test fails with it
            }
        }, "swapper");
        swapper.start();
        int read = 0;
        try {
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(3); // the old code was caught by load 50 at the latest
            // 500 loads or 3 s, and on until one load found the tree holding still (10 000 loads at most, a guard): how
            // many loads fit in 3 s is the machine's, and a loaded one may fit too few for any to fall between swaps.
            for (int i = 0; i < 10_000 && swapper.isAlive()
                    && (read == 0 || i < 500 && System.nanoTime() - end < 0); i++) {
                try {
                    ErrorPage page = new ConfigLoader().load(file).sites().get(0).errorPages().get(404);
                    if (page.content().state() != ErrorPage.State.READ) {
                        // no directory there when it looked (404 at request time, as nginx's), or the link (refused,
                        // never read): a warning
                        continue;
                    }
                    assertThat(StandardCharsets.UTF_8.decode(page.body()).toString()).as("load %d", i)
                            .isEqualTo("<p>inside</p>");
                    read++;
                } catch (ConfigException e) {
                    // the link or no directory at all when it looked: a problem, as it should be
                }
            }
        } finally {
            stop.set(true);
            swapper.join();
        }
        assertThat(swapFailed.get()).as("the swapper ran to the end").isNull();
        assertThat(swaps.get()).as("swaps while the configuration loaded").isPositive();
        assertThat(read).as("pages read while the tree held still enough").isPositive();
    }

    @Test
    void aStatusWrittenAnotherWayIsAProblemNotASecondPageForTheSameStatus() throws Exception {
        // "0503" and "+503" read as 503 by Integer.parseInt: one of the two pages silently won
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(
                EdgeConfFile.write(dir, """
                        sites = [{ root = www, error-pages {
                          503 = "/errors/503.html"
                          "0503" = "/errors/503.html"
                          "+503" = "/errors/503.html"
                        } }]
                        """)));
        assertThat(e).isNotNull();
        assertThat(e.problems()).extracting(ConfigProblem::key).containsExactly(
                "edge.sites[0].error-pages.0503", "edge.sites[0].error-pages.\"+503\"");
    }

    @Test
    void aPageOfNoKnownTypeSuchAsAScriptIsAProblem() throws Exception {
        // No PHP location takes /errors/busy.php here: edge would read the file and send it as it is, the source (with
        // whatever it holds, such as the database password) going to every client of a busy PHP.
        Files.writeString(dir.resolve("www/errors/busy.php"), "<?php $db = 'secret'; echo 'busy';");
        Files.writeString(dir.resolve("www/errors/README"), "pages");
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(
                EdgeConfFile.write(dir, """
                        sites = [{ root = www, error-pages { 503 = "/errors/busy.php", 502 = "/errors/README" } }]
                        """)));
        assertThat(e).isNotNull();
        assertThat(e.problems()).extracting(ConfigProblem::key).containsExactly(
                "edge.sites[0].error-pages.502", "edge.sites[0].error-pages.503");
    }

    /**
     * nginx's error_page 503 /busy.php is an internal redirect to the URI: where a PHP location takes it as a script,
     * or a proxy location takes it, that location answers it, the error's status kept (nginx 1.22.1 side by side). No
     * problem then, and nothing read: the page goes to its location, as a named location's. A 413's and a redirect's go
     * to no named location.
     */
    @Test
    void aPagePathAScriptOrProxyLocationTakesGoesThere() throws Exception {
        String backends = """
                fastcgi.backends.php { addresses = ["127.0.0.1:9000"] }
                proxy.backends.api { addresses = ["127.0.0.1:8080"] }
                """;
        SiteSettings site = new ConfigLoader().load(EdgeConfFile.write(dir, """
                sites = [{ root = www, error-pages { 404 = "/404.php", 503 = "/errors/busy.php", 502 = "/api/502.html"
                    500 = "/app/500.html" }
                  locations = [{ match = "~ \\\\.php$", fastcgi = php }, { match = "/api/", proxy = api }
                    { match = "/app/", fastcgi = php }] }]
                """ + backends)).sites().get(0);
        for (int status : new int[] {404, 503, 502}) {
            assertThat(site.errorPage(status)).as("%d", status).isNull();
            assertThat(site.namedErrorPage(status).named()).as("%d", status).isTrue();
            assertThat(site.namedErrorPage(status).answerStatus()).as("%d", status).isEqualTo(-1);
        }
        assertThat(site.namedErrorPage(404).uri()).isEqualTo("/404.php");
        assertThat(site.namedErrorPage(502).uri()).isEqualTo("/api/502.html");
        assertThat(site.errorPage(500).missing()).as("no script: a file, as before").isTrue();
        // nginx's error_page 404 = /404.php (the script's own status) and =200 (the one written)
        SiteSettings equals = new ConfigLoader().load(EdgeConfFile.write(dir, """
                sites = [{ root = www, error-pages { 404 = "= /404.php", 503 = "=200 /api/busy.html" }
                  locations = [{ match = "~ \\\\.php$", fastcgi = php }, { match = "/api/", proxy = api }] }]
                """ + backends)).sites().get(0);
        assertThat(equals.namedErrorPage(404).uri()).isEqualTo("/404.php");
        assertThat(equals.namedErrorPage(404).answerStatus()).isZero();
        assertThat(equals.namedErrorPage(503).uri()).isEqualTo("/api/busy.html");
        assertThat(equals.namedErrorPage(503).answerStatus()).isEqualTo(200);
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(
                EdgeConfFile.write(dir, """
                        sites = [{ root = www, error-pages { 301 = "@app", 413 = "@app" }
                          locations = [{ match = "~ \\\\.php$", fastcgi = php }, { match = "/api/", proxy = api }
                            { match = "@app", proxy = api }] }]
                        """ + backends)));
        assertThat(e).isNotNull();
        assertThat(e.problems()).extracting(ConfigProblem::key).containsExactly(
                "edge.sites[0].error-pages.301", "edge.sites[0].error-pages.413");
        assertThat(e.problems().get(0).message()).contains("\"@app\": a redirect's page is a file, or a path");
        assertThat(e.problems().get(1).message()).contains("\"@app\": a 413 goes to no named location");
        ConfigException equalsForm = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(
                EdgeConfFile.write(dir, """
                        sites = [{ root = www, error-pages { 413 = "= /404.php" }
                          locations = [{ match = "~ \\\\.php$", fastcgi = php }] }]
                        """ + backends)));
        assertThat(equalsForm.problems()).singleElement().extracting(ConfigProblem::message).asString()
                .contains("\"= /404.php\": a 413's page goes with the 413, never its own status");
    }

    /**
     * nginx 1.22 runs a redirect's page script ({@code error_page 301 /moved.php}: measured, the 301 and its Location
     * kept, the script run as a GET), and passes a page's query to it ({@code error_page 404 /404.php?x=1}: measured,
     * QUERY_STRING x=1, REQUEST_URI the request's); a file's page with a query is the file (measured: nginx serves it).
     */
    @Test
    void aRedirectsScriptPageAndAPagesQueryGoToTheirLocation() throws Exception {
        SiteSettings site = new ConfigLoader().load(EdgeConfFile.write(dir, """
                sites = [{ root = www, error-pages { 301 = "/moved.php", 302 = "/api/moved", 404 = "/404.php?x=1&y"
                    413 = "/api/413.html"
                    503 = "/errors/503.html?z=2", 500 = "= /api/500?a=b" }
                  locations = [{ match = "~ \\\\.php$", fastcgi = php }, { match = "/api/", proxy = api }] }]
                fastcgi.backends.php { addresses = ["127.0.0.1:9000"] }
                proxy.backends.api { addresses = ["127.0.0.1:8080"] }
                """)).sites().get(0);
        assertThat(site.namedErrorPage(301).uri()).isEqualTo("/moved.php");
        assertThat(site.namedErrorPage(413).uri()).isEqualTo("/api/413.html");
        assertThat(site.namedErrorPage(302).uri()).isEqualTo("/api/moved");
        assertThat(site.namedErrorPage(404).uri()).isEqualTo("/404.php");
        assertThat(site.namedErrorPage(404).query()).isEqualTo("x=1&y");
        assertThat(site.namedErrorPage(301).query()).isEmpty();
        assertThat(site.namedErrorPage(500).uri()).isEqualTo("/api/500");
        assertThat(site.namedErrorPage(500).query()).isEqualTo("a=b");
        assertThat(site.namedErrorPage(500).answerStatus()).isZero();
        assertThat(site.errorPage(503).uri()).isEqualTo("/errors/503.html");
        assertThat(text(site.errorPage(503))).isEqualTo("<p>busy</p>");
    }

    /**
     * A page's query goes out in a request target: to a proxied backend in its request line. One with a blank, a control
     * or a non-ASCII character cannot be sent (Netty refused it at request time, "The URI contain illegal characters",
     * in a listener: the backend's connection was opened, nothing sent, and the client waited for the backend to give
     * up): a problem of its key and line, to be written percent-encoded, as in a URL.
     */
    @Test
    void aPagesQueryThatNoRequestTargetMayCarryIsAProblem() throws Exception {
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(
                EdgeConfFile.write(dir, """
                        sites = [{ root = www, error-pages { 404 = "/api/p?a b", 500 = "= /api/p?x=1\\r\\nX: 1"
                            503 = "/404.php?é", 502 = "/api/p?a%20b&c=%C3%A9" }
                          locations = [{ match = "~ \\\\.php$", fastcgi = php }, { match = "/api/", proxy = api }] }]
                        fastcgi.backends.php { addresses = ["127.0.0.1:9000"] }
                        proxy.backends.api { addresses = ["127.0.0.1:8080"] }
                        """)));
        assertThat(e).isNotNull();
        assertThat(e.problems()).extracting(ConfigProblem::key, ConfigProblem::line).containsExactly(
                tuple("edge.sites[0].error-pages.404", 2), tuple("edge.sites[0].error-pages.500", 2),
                tuple("edge.sites[0].error-pages.503", 3));
        assertThat(e.problems().get(0).message()).isEqualTo("\"/api/p?a b\": its query has a blank, a control or a"
                + " non-ASCII character, which no request target carries");
        assertThat(e.problems().get(0).expected()).contains("percent-encoded", "a%20b");
    }

    /**
     * nginx's error_page 404 /errors/404.html is an internal redirect to the URI, matched against the locations again
     * (nginx 1.22.1, side by side): a location /errors/ with its own root serves the page from there, one with an alias
     * from the alias's directory, a regex location's alias by its captures; no location of its own, the site's root.
     * A refresh reads it again from the same place.
     */
    @Test
    void aPageIsReadWhereTheLocationItsUriRoutesToKeepsItsFiles() throws Exception {
        Files.createDirectories(dir.resolve("other/errors"));
        Files.writeString(dir.resolve("other/errors/404.html"), "<p>other root</p>");
        Files.createDirectories(dir.resolve("aliased"));
        Files.writeString(dir.resolve("aliased/404.html"), "<p>aliased</p>");
        Files.createDirectories(dir.resolve("captured"));
        Files.writeString(dir.resolve("captured/410.html"), "<p>captured</p>");
        Files.writeString(dir.resolve("www/errors/404.html"), "<p>site root</p>");
        EdgeSettings settings = new ConfigLoader().load(EdgeConfFile.write(dir, """
                sites = [
                  { server-names = [a], root = www, error-pages { 404 = "/errors/404.html", 503 = "/errors/503.html" }
                    locations = [{ match = "/" }, { match = "/errors/4", root = other }] }
                  { server-names = [b], root = www, error-pages { 404 = "/errors/404.html", 410 = "/gone/410.html" }
                    locations = [{ match = "/" }, { match = "/errors/", alias = "aliased/" }
                      { match = "~ ^/gone/(.+)$", alias = "captured/$1" }] }
                ]
                """));
        SiteSettings rooted = settings.sites().get(0);
        assertThat(text(rooted.errorPage(404))).isEqualTo("<p>other root</p>");
        assertThat(rooted.errorPage(404).file()).isEqualTo(dir.resolve("other/errors/404.html"));
        assertThat(text(rooted.errorPage(503))).as("no location of its own").isEqualTo("<p>busy</p>");
        SiteSettings aliased = settings.sites().get(1);
        assertThat(text(aliased.errorPage(404))).isEqualTo("<p>aliased</p>");
        assertThat(text(aliased.errorPage(410))).isEqualTo("<p>captured</p>");
        Files.writeString(dir.resolve("other/errors/404.html"), "<p>other root, edited</p>");
        assertThat(rooted.errorPage(404).refresh()).endsWith("other/errors/404.html is read again: 25 bytes");
        assertThat(text(rooted.errorPage(404))).isEqualTo("<p>other root, edited</p>");
        Files.delete(dir.resolve("aliased/404.html"));
        assertThat(aliased.errorPage(404).refresh()).contains("is gone");
        assertThat(aliased.errorPage(404).missing()).isTrue();
    }

    /**
     * nginx 1.22.1 (measured): error_page 404 /oops.html beside location /oops.html { alias /srv/f.html; } serves
     * /srv/f.html, as a request for /oops.html gets it: a prefix location's alias that is a file is that file.
     */
    @Test
    void aPageWhosePrefixLocationsAliasIsAFileIsThatFile() throws Exception {
        Files.writeString(dir.resolve("alone.html"), "<p>alone</p>");
        EdgeSettings settings = new ConfigLoader().load(EdgeConfFile.write(dir, """
                sites = [{ root = www, error-pages { 404 = "/oops.html" }
                  locations = [{ match = "/" }, { match = "/oops.html", alias = "alone.html" }] }]
                """));
        ErrorPage page = settings.sites().get(0).errorPage(404);
        assertThat(text(page)).isEqualTo("<p>alone</p>");
        assertThat(page.file()).isEqualTo(dir.resolve("alone.html"));
        Files.writeString(dir.resolve("alone.html"), "<p>alone, edited</p>");
        assertThat(page.refresh()).endsWith("alone.html is read again: 20 bytes");
        assertThat(text(page)).isEqualTo("<p>alone, edited</p>");
    }

    /**
     * nginx -t opens no error_page file (1.22.1, measured: error_page 404 /errors/nothere.html starts, and the redirect
     * to it answers nginx's own 404): a page whose file is not there loads, with a warning naming its file and what its
     * errors are answered until it is there, at the key that named it.
     */
    @Test
    void aPageWhoseFileIsMissingIsAWarningNamingIt() throws Exception {
        EdgeSettings settings = EdgeConfFile.load(dir, """
                sites = [{ root = www, error-pages { 404 = "/errors/404.html", 503 = "/errors/503.html" } }]
                """);
        assertThat(settings.sites().get(0).errorPage(404).missing()).isTrue();
        assertThat(settings.warnings()).extracting(ConfigProblem::key, ConfigProblem::line, ConfigProblem::message)
                .containsExactly(tuple("edge.sites[0].error-pages.404", 2, "error page "
                        + dir.resolve("www/errors/404.html") + " is not there: its errors are answered 404 (as nginx's error_page to a missing file) until"
                        + " it is"));
    }

    /**
     * A location regex that gives up on a page's path at load (three greedy groups on a path of 600 directories, cubic:
     * past BoundedMatch's budget) is a warning at the page's key naming the regex and what the page is read as, as a
     * request's path it gives up on is logged: the page is read beneath the site's root. A split-path-info that gives
     * up takes the path for a script, said so too.
     */
    @Test
    void aRegexThatGivesUpOnAPagesPathIsAWarningNamingIt() throws Exception {
        String deep = "a/".repeat(600);
        String uri = "/errors/" + deep + "x.html";
        Files.createDirectories(dir.resolve("www/errors/" + deep));
        Files.writeString(dir.resolve("www" + uri), "<p>deep</p>");
        EdgeSettings settings = EdgeConfFile.load(dir, """
                sites = [{ root = www, error-pages { 404 = "%s", 503 = "/%sx.php" }
                  locations = [{ match = "~ [.]php$", fastcgi = php, split-path-info = "^(/.*/.*/.*[.]php)(/.*)$" }
                    { match = "~ ^/(.*)/(.*)/(.*)[.]jpg$" }] }]
                fastcgi.backends.php.addresses = ["unix:/run/php.sock"]
                """.formatted(uri, deep));
        assertThat(text(settings.sites().get(0).errorPage(404))).isEqualTo("<p>deep</p>");
        assertThat(settings.sites().get(0).namedErrorPage(503).routed()).isTrue();
        assertThat(settings.warnings()).extracting(ConfigProblem::key, ConfigProblem::line)
                .containsExactly(tuple("edge.sites[0].error-pages.404", 2), tuple("edge.sites[0].error-pages.503", 2));
        assertThat(settings.warnings().get(0).message()).startsWith("error page " + uri + ": location"
                + " \"~ ^/(.*)/(.*)/(.*)[.]jpg$\" gave up on a path of 1214 characters").endsWith("beneath the"
                + " site's root (a request for the path itself would be a 500)");
        assertThat(settings.warnings().get(1).message()).startsWith("error page /" + deep + "x.php: split-path-info"
                + " \"").contains("gave up on a path of 1206 characters", "taken for a script, never sent as a file");
    }
}
