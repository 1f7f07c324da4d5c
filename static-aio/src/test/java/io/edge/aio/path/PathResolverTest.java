package io.edge.aio.path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.github.benmanes.caffeine.cache.Ticker;
import io.edge.aio.PathPolicy;
import io.edge.aio.file.OpenFile;
import io.edge.aio.file.OpenFileCache;
import io.edge.aio.path.Resolution.Status;
import java.io.IOException;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class PathResolverTest {

    @TempDir
    Path tmp;
    Path root;
    Path outside;

    @BeforeEach
    void tree() throws IOException {
        root = Files.createDirectories(tmp.resolve("www"));
        outside = Files.createDirectories(tmp.resolve("secret"));
        Files.writeString(outside.resolve("passwd"), "root:x:0:0");
        Files.createDirectories(root.resolve("AB/CD"));
        Files.writeString(root.resolve("AB/CD/thumb.jpg"), "jpeg");
        Files.writeString(root.resolve("index.html"), "hi");
        Files.writeString(root.resolve("%2e"), "literal percent name");
        Files.writeString(root.resolve(".htpasswd"), "x");
        Files.createDirectories(root.resolve(".git"));
        Files.writeString(root.resolve(".git/config"), "x");
        Files.createDirectories(root.resolve(".well-known/acme-challenge"));
        Files.writeString(root.resolve(".well-known/acme-challenge/token"), "t");
        Files.createSymbolicLink(root.resolve("escape"), outside);
        Files.createSymbolicLink(root.resolve("passwd"), outside.resolve("passwd"));
        Files.createSymbolicLink(root.resolve("inside"), root.resolve("AB"));
        Files.createSymbolicLink(root.resolve("dotlink"), root.resolve(".git/config"));
    }

    private PathResolver resolver(PathPolicy policy) {
        return new PathResolver(root, policy);
    }

    @Test
    void normalizesSegments() {
        assertThat(PathResolver.normalize("/")).isEqualTo("/");
        assertThat(PathResolver.normalize("/a//b/./c")).isEqualTo("/a/b/c");
        assertThat(PathResolver.normalize("/a/b/../c/")).isEqualTo("/a/c/");
        assertThat(PathResolver.normalize("/a/b/..")).isEqualTo("/a/");
        assertThat(PathResolver.normalize("/a/.")).isEqualTo("/a/");
        assertThat(PathResolver.normalize("/a/..")).isEqualTo("/");
        // already normal: returned as is, dots inside names are names
        assertThat(PathResolver.normalize("/ab/cd/ef.jpg")).isEqualTo("/ab/cd/ef.jpg");
        assertThat(PathResolver.normalize("/a./..b/...")).isEqualTo("/a./..b/...");
        assertThat(PathResolver.normalize("/a/b/")).isEqualTo("/a/b/");
        assertThat(PathResolver.normalize("//")).isEqualTo("/");
        assertThat(PathResolver.normalize("/a/./")).isEqualTo("/a/");
        assertThat(PathResolver.normalize("/%41%42/x%20y")).isEqualTo("/AB/x y");
        assertThat(PathResolver.normalize("/a+b")).isEqualTo("/a+b");
        assertThat(PathResolver.normalize("/caf%C3%A9")).isEqualTo("/caf\u00e9");
        // Raw UTF-8 bytes arrive from Netty one char per byte.
        assertThat(PathResolver.normalize("/caf\u00c3\u00a9")).isEqualTo("/caf\u00e9");
    }

    @Test
    void decodesExactlyOnce() {
        assertThat(PathResolver.normalize("/%252e%252e/x")).isEqualTo("/%2e%2e/x");
        assertThat(resolver(PathPolicy.DEFAULT).resolve("/%252e").file()).isEqualTo(root.resolve("%2e"));
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "/../secret/passwd", "/..", "/a/../../secret", "/%2e%2e/secret/passwd", "/%2E%2E/secret/passwd",
        "/..%2fsecret/passwd", "/..%2Fsecret", "/a/%2e%2e/%2e%2e/secret", "/.%2e/secret",
        "/x%00.jpg", "/%00",
        "/%", "/%2", "/%zz", "relative", "", "/\u0100"})
    void refusesTraversalAndMalformedPaths(String raw) {
        assertThatThrownBy(() -> PathResolver.normalize(raw)).isInstanceOf(MalformedPathException.class);
        Resolution r = resolver(PathPolicy.DEFAULT).resolve(raw);
        assertThat(r.status()).isEqualTo(Status.BAD_REQUEST);
        assertThat(r.file()).isNull();
        assertThat(r.reason()).doesNotContain(tmp.toString());
    }

    /**
     * A backslash, raw or encoded, is a character of a file's name, as for nginx on Linux: it separates nothing, so
     * "..\\" climbs nowhere (a front controller's /search/a%5Cb got 400).
     */
    @Test
    void aBackslashIsPartOfAName() throws Exception {
        assertThat(PathResolver.normalize("/a%5Cb")).isEqualTo("/a\\b");
        assertThat(PathResolver.normalize("/%5c..%5csecret")).isEqualTo("/\\..\\secret");
        assertThat(resolver(PathPolicy.DEFAULT).resolve("/x\\..\\..\\secret").status()).isEqualTo(Status.NOT_FOUND);
        assertThat(resolver(PathPolicy.DEFAULT).resolve("/..\\secret").status()).as("a name starting with a dot")
                .isEqualTo(Status.FORBIDDEN);
        Files.writeString(root.resolve("a\\b.txt"), "x");
        Resolution named = resolver(PathPolicy.DEFAULT).resolve("/a%5Cb.txt");
        assertThat(named.status()).isEqualTo(Status.OK);
        assertThat(named.file()).isEqualTo(root.resolve("a\\b.txt"));
    }

    /**
     * Bytes that are not UTF-8 (a Latin-1 link's {@code %E9}, a raw byte, an overlong or truncated sequence, an encoded
     * surrogate) are kept as U+DC00 + byte: the path routes, each such path stays distinct, and none is a '.', '/' or
     * climb (an overlong {@code %C0%AE} is two escapes, not a dot).
     */
    @Test
    void keepsBytesThatAreNotUtf8AsEscapesOfTheirOwn() {
        assertThat(PathResolver.normalize("/caf%E9")).isEqualTo("/caf\uDCE9");
        assertThat(PathResolver.normalize("/caf\u00e9")).isEqualTo("/caf\uDCE9"); // one raw byte from Netty
        assertThat(PathResolver.normalize("/caf%E8")).isNotEqualTo(PathResolver.normalize("/caf%E9"));
        assertThat(PathResolver.normalize("/%c3%28")).isEqualTo("/\uDCC3(");
        assertThat(PathResolver.normalize("/a%E2%82/b")).isEqualTo("/a\uDCE2\uDC82/b");
        assertThat(PathResolver.normalize("/%C0%AE%C0%AE/secret")).isEqualTo("/\uDCC0\uDCAE\uDCC0\uDCAE/secret");
        assertThat(PathResolver.normalize("/%ED%A0%80")).isEqualTo("/\uDCED\uDCA0\uDC80");
        assertThat(PathResolver.normalize("/%F0%9F%98%80%FF")).isEqualTo("/\uD83D\uDE00\uDCFF");
        assertThat(PathResolver.normalize("/x/%FF/../y")).isEqualTo("/x/y");
        assertThat(PathResolver.hasByteEscapes("/caf\uDCE9")).isTrue();
        assertThat(PathResolver.hasByteEscapes("/caf\u00e9/\uD83D\uDE00\uFFFD")).isFalse();
        // characters whose low surrogate lies in the escapes' range (1 in 8 of those past U+FFFF): 💀, U+20080
        assertThat(PathResolver.normalize("/%F0%9F%92%80%F0%A0%82%80")).isEqualTo("/\uD83D\uDC80\uD840\uDC80");
        assertThat(PathResolver.hasByteEscapes("/\uD83D\uDC80\uD840\uDC80")).isFalse();
        assertThat(PathResolver.hasByteEscapes("/\uD83D\uDC80\uDC80")).isTrue();
    }

    /** Such a path names no file: 404 by every way in, even where a file bears the UTF-8 replacement character. */
    @Test
    void aPathThatIsNotUtf8NamesNoFile() throws IOException {
        Files.writeString(root.resolve("caf\uFFFD"), "named by the replacement character");
        PathResolver resolver = resolver(PathPolicy.DEFAULT);
        assertThat(resolver.resolve("/caf%E9").status()).isEqualTo(Status.NOT_FOUND);
        assertThat(resolver.resolveForOpen("/caf\uDCE9").status()).isEqualTo(Status.NOT_FOUND);
        assertThat(resolver.resolveNormalized("/caf\uDCE9").status()).isEqualTo(Status.NOT_FOUND);
        assertThat(resolver.lexicalRefusal("/caf\uDCE9").status()).isEqualTo(Status.NOT_FOUND);
        assertThat(resolver.resolve("/caf%EF%BF%BD").status()).isEqualTo(Status.OK);
        Files.writeString(root.resolve("\uD83D\uDC80.txt"), "a character past U+FFFF, not an escape");
        assertThat(resolver.resolve("/%F0%9F%92%80.txt").status()).isEqualTo(Status.OK);
        assertThat(resolver.resolveForOpen("/\uD83D\uDC80.txt").status()).isEqualTo(Status.OK);
    }

    @Test
    void doubleEncodedTraversalIsJustAFileName() {
        Resolution r = resolver(PathPolicy.DEFAULT).resolve("/%252e%252e/secret/passwd");
        assertThat(r.status()).isEqualTo(Status.NOT_FOUND);
    }

    @Test
    void servesRegularFilesAndDirectories() {
        PathResolver resolver = resolver(PathPolicy.DEFAULT);
        Resolution r = resolver.resolve("/AB/CD/thumb.jpg");
        assertThat(r.status()).isEqualTo(Status.OK);
        assertThat(r.file()).isEqualTo(resolver.root().resolve("AB/CD/thumb.jpg"));
        assertThat(r.uriPath()).isEqualTo("/AB/CD/thumb.jpg");
        assertThat(resolver.resolve("/").file()).isEqualTo(resolver.root());
        assertThat(resolver.resolve("/AB/").uriPath()).isEqualTo("/AB/");
        assertThat(resolver.resolve("/missing.jpg").status()).isEqualTo(Status.NOT_FOUND);
        assertThat(resolver.resolve("/index.html/x").status()).isEqualTo(Status.NOT_FOUND);
    }

    @Test
    void resolveNormalizedDoesNotDecodeAgain() {
        PathResolver resolver = resolver(PathPolicy.DEFAULT);
        assertThat(resolver.resolveNormalized("/%2e").status()).isEqualTo(Status.OK);
        assertThat(resolver.resolveNormalized("/../secret/passwd").status()).isEqualTo(Status.BAD_REQUEST);
        assertThat(resolver.resolveNormalized("/a\u0000").status()).isEqualTo(Status.BAD_REQUEST);
        assertThat(resolver.resolveNormalized("/a\\b").status()).as("a name, not a separator").isEqualTo(Status.NOT_FOUND);
    }

    @Test
    void dotfilesAreForbiddenExceptWellKnown() {
        PathResolver resolver = resolver(PathPolicy.DEFAULT);
        assertThat(resolver.resolve("/.htpasswd").status()).isEqualTo(Status.FORBIDDEN);
        assertThat(resolver.resolve("/.git/config").status()).isEqualTo(Status.FORBIDDEN);
        assertThat(resolver.resolve("/%2egit/config").status()).isEqualTo(Status.FORBIDDEN);
        assertThat(resolver.resolve("/AB/.hidden").status()).isEqualTo(Status.FORBIDDEN);
        assertThat(resolver.resolve("/.well-known/acme-challenge/token").status()).isEqualTo(Status.OK);
        assertThat(resolver.resolve("/AB/.well-known").status()).isEqualTo(Status.FORBIDDEN);
        assertThat(resolver.resolve("/.well-knownx").status()).isEqualTo(Status.FORBIDDEN);
        assertThat(resolver.resolve("/dotlink").status()).isEqualTo(Status.FORBIDDEN);

        PathResolver lenient = resolver(new PathPolicy(true, true, false));
        assertThat(lenient.resolve("/.htpasswd").status()).isEqualTo(Status.OK);
        assertThat(lenient.resolve("/dotlink").status()).isEqualTo(Status.OK);
    }

    @Test
    void symlinksLeavingTheRootAreForbidden() {
        PathResolver resolver = resolver(PathPolicy.DEFAULT);
        assertThat(resolver.resolve("/escape/passwd").status()).isEqualTo(Status.FORBIDDEN);
        assertThat(resolver.resolve("/passwd").status()).isEqualTo(Status.FORBIDDEN);
        assertThat(resolver.resolve("/escape/passwd").reason()).doesNotContain(tmp.toString());
        Resolution inside = resolver.resolve("/inside/CD/thumb.jpg");
        assertThat(inside.status()).isEqualTo(Status.OK);
        assertThat(inside.file()).isEqualTo(resolver.root().resolve("AB/CD/thumb.jpg"));
    }

    /**
     * A loop of links inside the root is refused as a link is (403), not taken for a missing file (404): as the
     * engines answer ELOOP where the resolver does not check links (links may leave the root), as nginx does.
     */
    @Test
    void aLoopOfLinksIsForbiddenNotMissing() throws IOException {
        Files.createSymbolicLink(root.resolve("loop1"), Path.of("loop2"));
        Files.createSymbolicLink(root.resolve("loop2"), Path.of("loop1"));
        PathResolver resolver = resolver(PathPolicy.DEFAULT);
        for (String path : List.of("/loop1", "/loop1/x.jpg", "/AB/../loop2")) {
            assertThat(resolver.resolve(path).status()).as(path).isEqualTo(Status.FORBIDDEN);
            assertThat(resolver.checkLinks(PathResolver.normalize(path)).status()).as(path).isEqualTo(Status.FORBIDDEN);
            assertThat(resolver.resolve(path).reason()).doesNotContain(tmp.toString());
        }
        assertThat(resolver.resolve("/index.html/x").status()).as("a file used as a directory").isEqualTo(Status.NOT_FOUND);
    }

    /**
     * Links not followed (nginx's disable_symlinks on): a link as the file's own name is 403, one on its way 404, as
     * nginx 1.22.1 answers them (measured: openat() of a file through a linked directory fails with ENOTDIR, 404; the
     * link itself with ELOOP, 403).
     */
    @Test
    void noLinksAtAllWhenNotFollowing() {
        PathResolver resolver = resolver(new PathPolicy(false, false, false));
        assertThat(resolver.followSymlinks()).isFalse();
        assertThat(resolver.resolve("/inside/CD/thumb.jpg").status()).isEqualTo(Status.NOT_FOUND);
        assertThat(resolver.resolve("/inside/CD/thumb.jpg").reason()).isEqualTo(PathResolver.LINK_ON_THE_WAY);
        assertThat(resolver.resolve("/escape/passwd").status()).isEqualTo(Status.NOT_FOUND);
        assertThat(resolver.resolve("/inside").status()).isEqualTo(Status.FORBIDDEN);
        assertThat(resolver.resolve("/passwd").status()).isEqualTo(Status.FORBIDDEN);
        assertThat(resolver.resolve("/AB/CD/thumb.jpg").status()).isEqualTo(Status.OK);
    }

    @Test
    void aLinkedDirectoryNamedWithItsSlashIsALinkOnTheWayWhenNotFollowing() {
        // nginx 1.22.1, disable_symlinks on: GET /linkdir/ is 404 ("index.html" is not found (20: Not a directory)),
        // the link on the way to its index; GET /linkdir 403
        PathResolver resolver = resolver(new PathPolicy(false, false, false));
        assertThat(resolver.resolve("/inside/").status()).isEqualTo(Status.NOT_FOUND);
        assertThat(resolver.resolve("/inside/").reason()).isEqualTo(PathResolver.LINK_ON_THE_WAY);
        assertThat(resolver.resolveNormalized("/inside/").status()).isEqualTo(Status.NOT_FOUND);
        assertThat(resolver.resolve("/inside").status()).isEqualTo(Status.FORBIDDEN);
        assertThat(resolver.resolve("/AB/").status()).isEqualTo(Status.OK);
    }

    @Test
    void linksMayLeaveWhenAllowed() {
        PathResolver resolver = resolver(new PathPolicy(false, true, true));
        assertThat(resolver.resolve("/escape/passwd").status()).isEqualTo(Status.OK);
        // '..' above the root stays refused whatever the link policy.
        assertThat(resolver.resolve("/../secret/passwd").status()).isEqualTo(Status.BAD_REQUEST);
    }

    @Test
    void rootBehindALinkIsUsedByItsRealPath() throws IOException {
        Path link = Files.createSymbolicLink(tmp.resolve("wwwlink"), root);
        PathResolver resolver = new PathResolver(link, PathPolicy.DEFAULT);
        assertThat(resolver.resolve("/AB/CD/thumb.jpg").status()).isEqualTo(Status.OK);
        assertThat(new PathResolver(link, new PathPolicy(false, true, true)).resolve("/index.html").status())
                .isEqualTo(Status.OK);
    }

    /**
     * Links not followed, a root that is a link, or below one, holds nothing: every path is not found, checked or
     * opened, as nginx 1.22's disable_symlinks on answers a root that is a link to a directory (measured: each request
     * 404, openat() ENOTDIR; served with from=$document_root, which edge has not). Before, the root was taken by its
     * real path and its files served.
     */
    @Test
    void withLinksRefusedARootReachedThroughALinkHoldsNothing() throws IOException {
        Path link = Files.createSymbolicLink(tmp.resolve("wwwlink"), root);
        Path above = Files.createSymbolicLink(tmp.resolve("tmplink"), tmp);
        for (Path linked : new Path[] {link, above.resolve("www")}) {
            PathResolver deny = new PathResolver(linked, new PathPolicy(false, false, false));
            try {
                for (String path : new String[] {"/index.html", "/", "/AB/CD/thumb.jpg", "/missing"}) {
                    assertThat(deny.resolve(path).status()).as(linked + path).isEqualTo(Status.NOT_FOUND);
                    assertThat(deny.resolveForOpen(path).status()).as(linked + path).isEqualTo(Status.NOT_FOUND);
                }
                assertThatThrownBy(() -> read(deny, "/index.html")).as(linked.toString())
                        .isInstanceOf(NoSuchFileException.class);
            } finally {
                deny.close();
            }
        }
        PathResolver real = new PathResolver(root, new PathPolicy(false, false, false));
        try {
            assertThat(read(real, "/index.html")).as("the same tree by its real path").isEqualTo("hi");
        } finally {
            real.close();
        }
    }

    @Test
    void aDeployThatSwitchesALinkToTheRootIsServedFromTheNewTreeOnceTheRootIsCheckedAgain() throws IOException {
        Path release1 = withAppCss(tmp.resolve("releases/1/public"), "old");
        Path release2 = withAppCss(tmp.resolve("releases/2/public"), "new");
        Files.writeString(release2.resolve("only-new.css"), "new");
        Path current = Files.createSymbolicLink(tmp.resolve("current"), tmp.resolve("releases/1"));
        PathResolver resolver = new PathResolver(current.resolve("public"), PathPolicy.DEFAULT, () -> 0L,
                Duration.ofSeconds(1), false);
        Resolution before = resolver.resolveForOpen("/app.css");
        assertThat(before.file()).isEqualTo(release1.toRealPath().resolve("app.css"));
        assertThat(before.beneath().retain()).as("an open of the old tree still going on").isTrue();

        switchLink(current, tmp.resolve("releases/2"));
        assertThat(resolver.resolve("/only-new.css").status()).as("until the check").isEqualTo(Status.NOT_FOUND);
        resolver.checkRoot();

        assertThat(resolver.root()).isEqualTo(release2.toRealPath());
        assertThat(resolver.resolve("/only-new.css").file()).isEqualTo(release2.toRealPath().resolve("only-new.css"));
        Resolution after = resolver.resolveForOpen("/app.css");
        assertThat(after.file()).isEqualTo(release2.toRealPath().resolve("app.css"));
        assertThat(after.beneath()).isNotSameAs(before.beneath()).isSameAs(resolver.rootDirectory());
        assertClosedAfterTheOpenThatTookIt(before.beneath());
    }

    /**
     * A root that could not be held open at one check (here a file where the directory will be; in production
     * EMFILE under a burst) is opened at a later one: links under it are checked by the kernel again. It stayed
     * unopened for good, every link checked in user space, the check racing a tree whose links change.
     */
    @Test
    void aRootThatCouldNotBeHeldOpenIsOpenedAtALaterCheck() throws IOException {
        Path root = Files.writeString(tmp.resolve("public"), "not yet a directory");
        PathResolver resolver = new PathResolver(root, PathPolicy.DEFAULT, () -> 0L, Duration.ofSeconds(1), false);
        assertThat(resolver.rootDirectory()).isNull();
        Files.delete(root);
        withAppCss(root, "css");
        resolver.checkRoot();
        assertThat(resolver.rootDirectory()).isNotNull();
        assertThat(resolver.resolveForOpen("/app.css").confined()).isTrue();
    }

    /**
     * Whether the root is a file (a slash-less alias's, which its location then serves as a file below its parent) is
     * what the last check found: missing, then a file, then a directory put in its place under the same name.
     */
    @Test
    void whetherTheRootIsAFileIsWhatTheLastCheckFound() throws IOException {
        Path root = tmp.resolve("soon");
        PathResolver resolver = new PathResolver(root, PathPolicy.DEFAULT, () -> 0L, Duration.ofSeconds(1), false);
        assertThat(resolver.rootIsFile()).as("missing").isFalse();
        Files.writeString(root, "a file");
        assertThat(resolver.rootIsFile()).as("until the check").isFalse();
        resolver.checkRoot();
        assertThat(resolver.rootIsFile()).isTrue();
        Files.delete(root);
        withAppCss(root, "css");
        resolver.checkRoot();
        assertThat(resolver.rootIsFile()).as("a directory there now").isFalse();
        assertThat(resolver.resolve("/app.css").status()).isEqualTo(Status.OK);
    }

    /**
     * A root that is a file (a slash-less alias's) is checked as a file: found unchanged, it is not taken anew every
     * check, as a directory that could not be held open is (it was: every second an open of the file as a directory,
     * ENOTDIR, and the remembered directories dropped). A directory put in its place is taken, and held open.
     */
    @Test
    void aRootThatIsAFileIsCheckedAsAFile() throws IOException {
        Path root = Files.writeString(tmp.resolve("robots.txt"), "a file");
        PathResolver resolver = new PathResolver(root, PathPolicy.DEFAULT, () -> 0L, Duration.ofSeconds(1), false);
        assertThat(resolver.rootIsFile()).isTrue();
        assertThat(resolver.checkRoot()).as("a file at the start, unchanged").isFalse();
        assertThat(resolver.checkRoot()).isFalse();
        Files.delete(root);
        withAppCss(root, "css");
        assertThat(resolver.checkRoot()).as("a directory in its place").isTrue();
        assertThat(resolver.rootIsFile()).isFalse();
        assertThat(resolver.resolve("/app.css").status()).isEqualTo(Status.OK);
        Files.delete(root.resolve("app.css"));
        Files.delete(root);
        Files.writeString(root, "a file again");
        assertThat(resolver.checkRoot()).as("a file again").isTrue();
        assertThat(resolver.rootIsFile()).isTrue();
        assertThat(resolver.rootDirectory()).as("nothing held for a file").isNull();
        assertThat(resolver.checkRoot()).as("found unchanged").isFalse();
    }

    /**
     * directoryRoot, read at once for a caller that took the root as a directory (an X-Accel-Redirect into a slash-less
     * alias): the root's real path while it is a directory, none while a check finds a file there (a link in its place
     * to a file anywhere, which, judged against itself, would be inside it).
     */
    @Test
    void aRootFoundToBeAFileIsNoDirectoryRoot() throws IOException {
        Path root = withAppCss(tmp.resolve("dl"), "css");
        PathResolver resolver = new PathResolver(root, PathPolicy.DEFAULT, () -> 0L, Duration.ofSeconds(1), false);
        assertThat(resolver.directoryRoot()).isEqualTo(root.toRealPath());
        Files.delete(root.resolve("app.css"));
        Files.delete(root);
        Path outside = Files.writeString(tmp.resolve("outside.pdf"), "outside");
        Files.createSymbolicLink(root, outside);
        assertThat(resolver.checkRoot()).isTrue();
        assertThat(resolver.root()).isEqualTo(outside.toRealPath());
        assertThat(resolver.directoryRoot()).as("a link to a file in its place").isNull();
    }

    /**
     * The race of a slash-less alias's shape, made deterministic: the shape is chosen on the event loop from the last
     * look at the root (missing: the directory to come, whose links are checked off the loop), then a check finds a link
     * to a file there before those links are checked. Judged against its own real path as the root, the file the link
     * leads to, anywhere, was inside it and went out; it is refused, as no directory, until the next request takes the
     * file shape below the parent.
     */
    @Test
    void aRootFoundToBeAFileAfterTheShapeWasChosenHoldsNothing() throws IOException {
        Path root = tmp.resolve("vault").resolve("images");
        Files.createDirectories(root.getParent());
        PathResolver resolver = new PathResolver(root, PathPolicy.DEFAULT, () -> 0L, Duration.ofSeconds(1), false);
        Resolution chosen = resolver.resolveForOpen("/");
        // "/": the root named as a directory; nginx 1.22 answers it 404 (its index: ENOTDIR), links or not
        assertThat(chosen.linksToCheck()).as("a root missing: its links are to check").isTrue();
        Files.createSymbolicLink(root, Files.writeString(tmp.resolve("outside.pdf"), "outside"));
        assertThat(resolver.checkRoot()).isTrue();
        assertThat(resolver.rootIsFile()).isTrue();
        Resolution checked = resolver.checkLinks(chosen);
        assertThat(checked.status()).as(checked.toString()).isEqualTo(Status.NOT_FOUND);
        assertThat(resolver.checkLinksAgain(chosen).status()).isEqualTo(Status.NOT_FOUND);
        assertThat(resolver.resolveNormalized("/").status()).isEqualTo(Status.NOT_FOUND);
        assertThat(resolver.resolveForOpen("/x").linksToCheck()).isTrue();
        assertThat(resolver.checkLinks("/x").status()).as("below a file: nothing there").isEqualTo(Status.NOT_FOUND);
    }

    /**
     * As above, for the slash-less alias itself ({@code location /i { alias .../images; }}, its captures: "/i" and
     * "/i/" are the root): "/i", the file named as itself, is refused (403; nginx 1.22's disable_symlinks on refuses
     * the link, 403), "/i/", named as a directory, is nothing (404, as nginx's: ENOTDIR).
     */
    @Test
    void aSlashlessAliasFoundToBeAFileAfterTheShapeWasChosenIsRefusedAsItselfAndNothingAsADirectory()
            throws IOException {
        Path root = tmp.resolve("vault2").resolve("images");
        Files.createDirectories(root.getParent());
        PathResolver resolver = new PathResolver(root, PathPolicy.DEFAULT, () -> 0L, Duration.ofSeconds(1),
                path -> path.equals("/i") ? "" : path.startsWith("/i/") ? path.substring(3) : null);
        Resolution chosen = resolver.resolveForOpen("/i");
        assertThat(chosen.linksToCheck()).as("a root missing: its links are to check").isTrue();
        Files.createSymbolicLink(root, Files.writeString(tmp.resolve("outside.pdf"), "outside"));
        resolver.checkRoot(); // or its periodic look did, since: the same
        assertThat(resolver.rootIsFile()).isTrue();
        Resolution checked = resolver.checkLinks(chosen);
        assertThat(checked.status()).as(checked.toString()).isEqualTo(Status.FORBIDDEN);
        assertThat(resolver.checkLinksAgain(chosen).status()).isEqualTo(Status.FORBIDDEN);
        assertThat(resolver.resolveNormalized("/i").status()).isEqualTo(Status.FORBIDDEN);
        assertThat(resolver.checkLinks(resolver.resolveForOpen("/i/")).status()).as("named as a directory")
                .isEqualTo(Status.NOT_FOUND);
        assertThat(resolver.resolveNormalized("/i/").status()).isEqualTo(Status.NOT_FOUND);
        assertThat(resolver.checkLinks("/i/x").status()).as("below a file: nothing there").isEqualTo(Status.NOT_FOUND);
    }

    /**
     * The window between StaticResponder's choice of a slash-less alias's shape (rootIsFile: false, the directory) and
     * its resolveForOpen, made deterministic: a look in between found a file where the directory was. Where links may
     * go anywhere nothing is checked after the lexical resolution, and the root itself, named by the empty path, was the
     * file, opened as the directory's own (served for "/i"). It is refused there at once, as the link checks refuse it
     * where there are links to check: "/i" 403, "/i/" 404. Below it, a file is still looked for (ENOTDIR at the open).
     */
    @Test
    void aRootFoundToBeAFileBeforeItsLexicalResolutionIsRefusedThere() throws IOException {
        Path root = Files.createDirectories(tmp.resolve("vault3").resolve("images"));
        UnaryOperator<String> captures = path -> path.equals("/i") ? "" : path.startsWith("/i/") ? path.substring(3)
                : null;
        for (PathPolicy policy : new PathPolicy[] {new PathPolicy(false, true, true), PathPolicy.DEFAULT}) {
            PathResolver resolver = new PathResolver(root, policy, () -> 0L, Duration.ofSeconds(1), captures);
            assertThat(resolver.rootIsFile()).as("the shape chosen: the directory").isFalse();
            Files.delete(root);
            Files.writeString(root, "a file");
            assertThat(resolver.checkRoot()).isTrue();
            Resolution itself = resolver.resolveForOpen("/i");
            assertThat(itself.status()).as(policy + ": " + itself).isEqualTo(Status.FORBIDDEN);
            assertThat(resolver.resolveForOpen("/i/").status()).as(policy.toString()).isEqualTo(Status.NOT_FOUND);
            assertThat(resolver.resolveForOpen("/i/x").status()).as(policy.toString()).isEqualTo(Status.OK);
            Files.delete(root);
            Files.createDirectories(root);
            resolver.close();
        }
    }

    /** A closed resolver (its configuration retired) lets its root go, and still resolves, in user space. */
    @Test
    void aClosedResolverLetsItsRootGoAndStillResolves() throws IOException {
        Path root = withAppCss(tmp.resolve("public"), "css");
        PathResolver resolver = new PathResolver(root, PathPolicy.DEFAULT, () -> 0L, Duration.ofSeconds(1), false);
        Resolution held = resolver.resolveForOpen("/app.css");
        assertThat(held.beneath().retain()).as("an open still going on").isTrue();
        resolver.close();
        assertThat(resolver.rootDirectory()).isNull();
        assertClosedAfterTheOpenThatTookIt(held.beneath());
        resolver.checkRoot();
        assertThat(resolver.rootDirectory()).as("not opened again").isNull();
        assertThat(resolver.resolveForOpen("/app.css").file()).isEqualTo(root.toRealPath().resolve("app.css"));
    }

    /** {@code dir}, created, with an app.css saying {@code css}. */
    private static Path withAppCss(Path dir, String css) throws IOException {
        Files.writeString(Files.createDirectories(dir).resolve("app.css"), css);
        return dir;
    }

    /** A replaced root, retained once by an open still going on: kept open for it, closed once it is done. */
    private static void assertClosedAfterTheOpenThatTookIt(RootDirectory old) {
        assertThat(old.retain()).as("kept open for the open that took it").isTrue();
        old.release();
        old.release();
        assertThat(old.retain()).as("closed after the last open let it go").isFalse();
    }

    /** {@code ln -sfn target link}: a new link renamed over the old one. */
    private void switchLink(Path link, Path target) throws IOException {
        Path next = Files.createSymbolicLink(link.resolveSibling(link.getFileName() + ".next"), target);
        Files.move(next, link, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    @Test
    void aRootReplacedByRenameIsServedFromTheNewDirectoryOnceTheRootIsCheckedAgain() throws IOException {
        Path site = withAppCss(tmp.resolve("site"), "old");
        Path next = withAppCss(tmp.resolve("site.new"), "new");
        PathResolver resolver = new PathResolver(site, PathPolicy.DEFAULT, () -> 0L, Duration.ofSeconds(1), false);
        RootDirectory before = resolver.rootDirectory();
        assertThat(before.retain()).as("an open of the old directory still going on").isTrue();

        // mv site site.old; mv site.new site: the same path, another directory
        Files.move(site, tmp.resolve("site.old"));
        Files.move(next, site);
        assertThat(readBeneath(resolver.rootDirectory(), "app.css")).as("until the check").isEqualTo("old");
        resolver.checkRoot();

        assertThat(resolver.root()).isEqualTo(site.toRealPath());
        assertThat(resolver.rootDirectory()).isNotSameAs(before);
        assertThat(readBeneath(resolver.rootDirectory(), "app.css")).isEqualTo("new");
        assertThat(resolver.resolveForOpen("/app.css").beneath()).isSameAs(resolver.rootDirectory());
        assertClosedAfterTheOpenThatTookIt(before);
    }

    /** A file read through the directory's descriptor, which is what a confined open goes through. */
    private static String readBeneath(RootDirectory directory, String relative) throws IOException {
        return Files.readString(Path.of("/proc/self/fd/" + directory.fd(), relative));
    }

    @Test
    void aResolverForChecksOnlyHoldsNoDescriptorAndAnswersAsOneHoldingTheRoot() {
        PathResolver holding = resolver(PathPolicy.DEFAULT);
        PathResolver checking = PathResolver.forChecksOnly(root, PathPolicy.DEFAULT, System::nanoTime,
                Duration.ofSeconds(1));
        assertThat(checking.rootDirectory()).isNull();
        assertThat(checking.resolveForOpen("/index.html").confined()).isFalse();
        assertThat(checking.root()).isEqualTo(holding.root());
        for (String path : List.of("/", "/index.html", "/AB/CD/thumb.jpg", "/inside/CD/thumb.jpg", "/escape/passwd",
                "/passwd", "/dotlink", "/.git/config", "/.well-known/acme-challenge/token", "/missing", "/../x")) {
            assertThat(checking.resolveNormalized(path)).as(path).isEqualTo(holding.resolveNormalized(path));
        }
    }

    /**
     * Where no root is held open (no openat2: a kernel before 5.6, a seccomp filter; here a resolver for checks only),
     * resolving for an open touches nothing, as on an event loop it must not: the lexical rules answer at once, the
     * links are left to check before the open, and that check answers as the held root's opens do.
     */
    @Test
    void withoutARootHeldOpenResolvingForAnOpenLeavesTheLinksToCheck() throws IOException {
        Path real = root.toRealPath();
        PathResolver checking = PathResolver.forChecksOnly(root, PathPolicy.DEFAULT, () -> 0L, Duration.ofSeconds(1));
        for (String path : List.of("/index.html", "/AB/CD/thumb.jpg", "/inside/CD/thumb.jpg", "/escape/passwd",
                "/passwd", "/dotlink", "/missing", "/")) {
            Resolution lexical = checking.resolveForOpen(path);
            assertThat(lexical.isOk()).as(path).isTrue();
            assertThat(lexical.linksToCheck()).as(path).isTrue();
            assertThat(lexical.linksUnchecked()).as(path).isTrue();
            assertThat(lexical.file()).as("not looked up: " + path).isEqualTo(real.resolve(path.substring(1)));
        }
        assertThat(checking.checkLinks("/escape/passwd").status()).isEqualTo(Resolution.Status.FORBIDDEN);
        assertThat(checking.checkLinks("/missing").status()).isEqualTo(Resolution.Status.NOT_FOUND);
        assertThat(checking.checkLinks("/inside/CD/thumb.jpg").file()).isEqualTo(real.resolve("AB/CD/thumb.jpg"));
        assertThat(checking.resolveForOpen("/.git/config").status()).as("a dotfile, lexically")
                .isEqualTo(Resolution.Status.FORBIDDEN);
        assertThat(checking.resolveForOpen("/../x").status()).isEqualTo(Resolution.Status.BAD_REQUEST);

        PathResolver anywhere = PathResolver.forChecksOnly(root, new PathPolicy(false, true, true), () -> 0L,
                Duration.ofSeconds(1));
        Resolution followed = anywhere.resolveForOpen("/escape/passwd");
        assertThat(followed.linksUnchecked()).as("links may go anywhere: nothing to check").isFalse();
        assertThat(followed.file()).isEqualTo(real.resolve("escape/passwd"));
    }

    @Test
    void aRootThatDidNotChangeKeepsItsDescriptor() {
        PathResolver resolver = new PathResolver(root, PathPolicy.DEFAULT, () -> 0L, Duration.ofSeconds(1), false);
        RootDirectory held = resolver.rootDirectory();
        resolver.checkRoot();
        assertThat(resolver.rootDirectory()).isSameAs(held);
        assertThat(held.retain()).isTrue();
        held.release();
    }

    @Test
    void aRootMissingForAMomentKeepsTheOldOneAndOneMissingAtStartIsFoundLater() throws IOException {
        Path release1 = Files.createDirectories(tmp.resolve("releases/1"));
        Files.writeString(release1.resolve("a.css"), "a");
        Path current = Files.createSymbolicLink(tmp.resolve("current"), release1);
        PathResolver resolver = new PathResolver(current, PathPolicy.DEFAULT, () -> 0L, Duration.ofSeconds(1), false);
        Files.delete(current); // rm current; ln -s ...: between the two
        resolver.checkRoot();
        assertThat(resolver.root()).isEqualTo(release1.toRealPath());
        assertThat(resolver.resolveForOpen("/a.css").beneath()).isNotNull();

        PathResolver early = new PathResolver(tmp.resolve("later"), PathPolicy.DEFAULT, () -> 0L,
                Duration.ofSeconds(1), false);
        assertThat(early.resolve("/a.css").status()).isEqualTo(Status.NOT_FOUND);
        Files.createSymbolicLink(tmp.resolve("later"), release1);
        early.checkRoot();
        assertThat(early.resolve("/a.css").file()).isEqualTo(release1.toRealPath().resolve("a.css"));
        assertThat(early.rootDirectory()).isNotNull();
    }

    @Test
    void missingRootServesNothing() {
        PathResolver resolver = new PathResolver(tmp.resolve("nope"), PathPolicy.DEFAULT);
        assertThat(resolver.resolve("/index.html").status()).isEqualTo(Status.NOT_FOUND);
    }

    @Test
    void aRememberedDirectoryStillChecksEachFileForLinks() throws IOException {
        AtomicLong clock = new AtomicLong();
        PathResolver resolver = new PathResolver(root, PathPolicy.DEFAULT, clock::get, Duration.ofSeconds(1));
        assertThat(resolver.resolve("/AB/CD/thumb.jpg").file()).isEqualTo(root.toRealPath().resolve("AB/CD/thumb.jpg"));
        Files.createSymbolicLink(root.resolve("AB/CD/leak.jpg"), outside.resolve("passwd"));
        Files.createSymbolicLink(root.resolve("AB/CD/same.jpg"), root.resolve("AB/CD/thumb.jpg"));
        assertThat(resolver.resolve("/AB/CD/leak.jpg").status()).isEqualTo(Resolution.Status.FORBIDDEN);
        assertThat(resolver.resolve("/AB/CD/same.jpg").file()).isEqualTo(root.toRealPath().resolve("AB/CD/thumb.jpg"));
        assertThat(resolver.resolve("/AB/CD/missing.jpg").status()).isEqualTo(Resolution.Status.NOT_FOUND);
        assertThat(resolver.resolve("/inside/CD/thumb.jpg").file()).isEqualTo(root.toRealPath().resolve("AB/CD/thumb.jpg"));
        assertThat(resolver.resolve("/escape/passwd").status()).isEqualTo(Resolution.Status.FORBIDDEN);
    }

    @Test
    void aDirectoryReplacedByALinkOutsideIsRefusedOnceItsRealPathExpires() throws IOException {
        AtomicLong clock = new AtomicLong();
        PathResolver resolver = new PathResolver(root, PathPolicy.DEFAULT, clock::get, Duration.ofSeconds(1));
        assertThat(resolver.resolve("/AB/CD/thumb.jpg").isOk()).isTrue();
        Files.createDirectories(outside.resolve("CD"));
        Files.writeString(outside.resolve("CD/thumb.jpg"), "not yours");
        Files.move(root.resolve("AB/CD"), tmp.resolve("moved-away"));
        Files.createSymbolicLink(root.resolve("AB/CD"), outside.resolve("CD"));
        clock.addAndGet(Duration.ofSeconds(1).toNanos());
        assertThat(resolver.resolve("/AB/CD/thumb.jpg").status()).isEqualTo(Resolution.Status.FORBIDDEN);
    }

    @Test
    void aMissingDirectoryIsNotRememberedSoItsFilesAppearAtOnce() throws IOException {
        PathResolver resolver = new PathResolver(root, PathPolicy.DEFAULT, () -> 0L, Duration.ofSeconds(1));
        assertThat(resolver.resolve("/new/a.jpg").status()).isEqualTo(Resolution.Status.NOT_FOUND);
        Files.createDirectories(root.resolve("new"));
        Files.writeString(root.resolve("new/a.jpg"), "x");
        assertThat(resolver.resolve("/new/a.jpg").isOk()).isTrue();
    }

    @Test
    void withLinksRefusedARememberedDirectoryReachedThroughALinkIsNotFound() throws IOException {
        PathResolver resolver = new PathResolver(root, new PathPolicy(false, false, false), () -> 0L,
                Duration.ofSeconds(1));
        assertThat(resolver.resolve("/AB/CD/thumb.jpg").isOk()).isTrue();
        assertThat(resolver.resolve("/inside/CD/thumb.jpg").status()).isEqualTo(Resolution.Status.NOT_FOUND);
        assertThat(resolver.resolve("/inside/CD/thumb.jpg").status()).isEqualTo(Resolution.Status.NOT_FOUND);
        assertThat(resolver.resolve("/inside/x.jpg").status()).as("the link, the file's directory")
                .isEqualTo(Resolution.Status.NOT_FOUND);
        assertThat(resolver.resolve("/passwd").status()).isEqualTo(Resolution.Status.FORBIDDEN);
    }

    @Test
    void anOpenHoldsEveryComponentToThePolicyAtTheOpenItself() throws IOException {
        // The resolver remembers AB/CD as a directory for a second (a fake clock that never moves): a check in user
        // space would still trust it after it was swapped for a link out of the root. The open does not.
        PathResolver resolver = new PathResolver(root, PathPolicy.DEFAULT, () -> 0L, Duration.ofSeconds(1));
        try {
            assertThat(read(resolver, "/AB/CD/thumb.jpg")).isEqualTo("jpeg");
            assertThat(read(resolver, "/inside/CD/thumb.jpg")).as("a link within the root, followed").isEqualTo("jpeg");
            Files.createDirectories(outside.resolve("CD"));
            Files.writeString(outside.resolve("CD/thumb.jpg"), "not yours");
            Files.move(root.resolve("AB/CD"), tmp.resolve("moved-away"));
            Files.createSymbolicLink(root.resolve("AB/CD"), outside.resolve("CD"));
            assertThatThrownBy(() -> read(resolver, "/AB/CD/thumb.jpg")).isInstanceOf(AccessDeniedException.class);
            assertThatThrownBy(() -> read(resolver, "/escape/passwd")).isInstanceOf(AccessDeniedException.class);
            assertThatThrownBy(() -> read(resolver, "/.htpasswd")).isInstanceOf(AccessDeniedException.class);
            assertThatThrownBy(() -> read(resolver, "/missing.html")).isInstanceOf(NoSuchFileException.class);
        } finally {
            resolver.close();
        }
        PathResolver deny = new PathResolver(root, new PathPolicy(false, false, false));
        try {
            assertThat(read(deny, "/index.html")).isEqualTo("hi");
            assertThatThrownBy(() -> read(deny, "/inside/CD/thumb.jpg")).as("a link on the way: ENOTDIR, as nginx's")
                    .isInstanceOf(NoSuchFileException.class);
            assertThatThrownBy(() -> read(deny, "/passwd")).as("the file a link: ELOOP, as nginx's")
                    .isInstanceOf(AccessDeniedException.class);
        } finally {
            deny.close();
        }
        PathResolver allow = new PathResolver(root, new PathPolicy(false, true, true));
        try {
            assertThat(read(allow, "/passwd")).isEqualTo("root:x:0:0");
        } finally {
            allow.close();
        }
    }

    /** Reads the file at {@code path} as the static path (and a site's error pages) open it. */
    private static String read(PathResolver resolver, String path) throws IOException {
        try (OpenFileCache opener = new OpenFileCache(0, Duration.ZERO, 1, Ticker.systemTicker())) {
            OpenFile file = opener.acquire(resolver, resolver.resolveForOpen(path).requireOk());
            try {
                return new String(Channels.newInputStream(file.channel()).readAllBytes(), StandardCharsets.UTF_8);
            } finally {
                file.release();
            }
        }
    }

    /**
     * A path the file system cannot answer for (an I/O error, a FUSE daemon gone: ENOTCONN, a stale NFS handle) is a
     * failure, not a 404 that tells clients and caches the file is gone; a file used as a directory or a name too long
     * is still 404, a missing file too.
     */
    @Test
    void whatTheFileSystemFailsToAnswerIsAFailureAndWhatCannotBeThereIsNotFound() {
        assertThat(PathResolver.refusal("/a", new FileSystemException("/srv/a", null, "Transport endpoint is not connected")))
                .satisfies(r -> {
                    assertThat(r.status()).isEqualTo(Status.FAILED);
                    assertThat(r.reason()).isEqualTo("the file system failed: Transport endpoint is not connected");
                });
        assertThat(PathResolver.refusal("/a", new FileSystemException("/srv/a", null, "Input/output error")).status())
                .isEqualTo(Status.FAILED);
        assertThat(PathResolver.refusal("/a", new IOException("Stale file handle")).status()).isEqualTo(Status.FAILED);
        assertThat(PathResolver.refusal("/a/b", new FileSystemException("/srv/a/b", null, "Not a directory")).status())
                .isEqualTo(Status.NOT_FOUND);
        assertThat(PathResolver.refusal("/a", new FileSystemException("/srv/a", null, "File name too long")).status())
                .isEqualTo(Status.NOT_FOUND);
        assertThat(PathResolver.refusal("/a", new NoSuchFileException("/srv/a")).status()).isEqualTo(Status.NOT_FOUND);
    }

    /**
     * The JDK's reason is strerror's text in the process's locale ("Ist kein Verzeichnis" under de_DE): what the
     * file system says is judged by this process's strerror too, not by glibc's English alone (a German server
     * answered /index.html/x with 500).
     */
    @Test
    void aReasonIsTheErrnosTextInTheProcesssLocale() throws Exception {
        Files.writeString(tmp.resolve("file.txt"), "x");
        // this process's own words for ENOTDIR, whatever the locale the build runs in
        FileSystemException notADirectory = catchThrowableOfType(FileSystemException.class,
                () -> tmp.resolve("file.txt/x").toRealPath());
        assertThat(notADirectory).isNotNull();
        assertThat(PathResolver.refusal("/file.txt/x", notADirectory).status()).isEqualTo(Status.NOT_FOUND);
        assertThat(io.edge.aio.linux.Syscalls.isReason("Ist kein Verzeichnis", io.edge.aio.linux.Syscalls.ENOTDIR,
                "Not a directory")).as("another locale's text than this process's").isFalse();
    }
    /**
     * A root for the paths under a prefix (nginx's alias): looked up past the prefix, the path kept as asked (what a
     * redirect or a log names), the same rules (climbing, dotfiles, links) held against the root; a path outside the
     * prefix names nothing.
     */
    @Test
    void aRootForAPrefixLooksPathsUpPastIt() throws IOException {
        PathResolver alias = new PathResolver(root, PathPolicy.DEFAULT, System::nanoTime, Duration.ofSeconds(1),
                "/thumbs/");
        Resolution thumb = alias.resolveForOpen("/thumbs/AB/CD/thumb.jpg");
        assertThat(thumb.isOk()).isTrue();
        assertThat(thumb.uriPath()).isEqualTo("/thumbs/AB/CD/thumb.jpg");
        assertThat(thumb.file()).isEqualTo(root.toRealPath().resolve("AB/CD/thumb.jpg"));
        assertThat(alias.resolveNormalized("/thumbs/AB/CD/thumb.jpg").file())
                .isEqualTo(root.toRealPath().resolve("AB/CD/thumb.jpg"));
        assertThat(alias.checkLinks("/thumbs/AB/CD/thumb.jpg").isOk()).isTrue();
        assertThat(alias.resolveForOpen("/thumbs/").file()).as("the prefix itself: the directory")
                .isEqualTo(root.toRealPath());
        assertThat(alias.resolveForOpen("/AB/CD/thumb.jpg").status()).as("outside the prefix")
                .isEqualTo(Status.NOT_FOUND);
        assertThat(alias.resolveForOpen("/thumbs/../AB/CD/thumb.jpg").status()).as("normalised out of it")
                .isEqualTo(Status.NOT_FOUND);
        assertThat(alias.resolveForOpen("/thumbs/.git/config").status()).isEqualTo(Status.FORBIDDEN);
        assertThat(alias.resolveNormalized("/thumbs/escape/passwd").status()).as("a link out of the root")
                .isEqualTo(Status.FORBIDDEN);
        assertThat(alias.resolve("/thumbs/AB/%43D/thumb.jpg").isOk()).isTrue();
        assertThat(alias.lexicalRefusal("/thumbs/.htpasswd").status()).isEqualTo(Status.FORBIDDEN);
        assertThat(alias.lexicalRefusal("/other/x").status()).isEqualTo(Status.NOT_FOUND);
        assertThatThrownBy(() -> new PathResolver(root, PathPolicy.DEFAULT, System::nanoTime, Duration.ofSeconds(1),
                "/thumbs")).isInstanceOf(IllegalArgumentException.class);
    }

    /**
     * A root below which a function says where a path's file is (nginx's alias in a regex location, /data/$1): what it
     * makes is normalised and held to the root's rules as a request's path is, one climbing out of it (a capture of
     * "..") names nothing (404), a dotfile in it is refused, its links are checked; a suffix's file (gzip_static's
     * .gz) is the file's name and the suffix, not what the path and the suffix make.
     */
    @Test
    void aRootBelowWhichAFunctionSaysWhereAPathsFileIs() throws IOException {
        java.util.regex.Pattern regex = java.util.regex.Pattern.compile("^/u/(.*)\\.jpg$");
        PathResolver alias = new PathResolver(root, PathPolicy.DEFAULT, System::nanoTime, Duration.ofSeconds(1),
                path -> {
                    java.util.regex.Matcher m = regex.matcher(path);
                    return m.matches() ? m.group(1) + "/thumb.jpg" : null;
                });
        Resolution thumb = alias.resolveForOpen("/u/AB/CD.jpg");
        assertThat(thumb.isOk()).isTrue();
        assertThat(thumb.uriPath()).as("the path as asked, for redirects, types and logs").isEqualTo("/u/AB/CD.jpg");
        assertThat(thumb.file()).isEqualTo(root.toRealPath().resolve("AB/CD/thumb.jpg"));
        assertThat(alias.resolveNormalized("/u/AB/CD.jpg").file())
                .isEqualTo(root.toRealPath().resolve("AB/CD/thumb.jpg"));
        assertThat(alias.checkLinks(thumb).file()).isEqualTo(root.toRealPath().resolve("AB/CD/thumb.jpg"));
        assertThat(alias.checkLinksAgain("/u/AB/CD.jpg").isOk()).isTrue();
        assertThat(alias.resolveAgain(thumb).file()).isEqualTo(thumb.file());

        Resolution gz = alias.resolveForOpen("/u/AB/CD.jpg", ".gz");
        assertThat(gz.file()).as("the file's name and .gz").isEqualTo(root.toRealPath().resolve("AB/CD/thumb.jpg.gz"));
        assertThat(gz.uriPath()).isEqualTo("/u/AB/CD.jpg.gz");
        assertThat(alias.checkLinks(gz).status()).as("checked as that file, not as the path with .gz")
                .isEqualTo(Status.NOT_FOUND);
        Files.writeString(root.resolve("AB/CD/thumb.jpg.gz"), "gz");
        assertThat(alias.checkLinks(gz).file()).isEqualTo(root.toRealPath().resolve("AB/CD/thumb.jpg.gz"));

        Resolution climbs = alias.resolveForOpen("/u/../../secret/passwd.jpg");
        assertThat(climbs.status()).as("normalised as a request's path first").isEqualTo(Status.BAD_REQUEST);
        PathResolver dots = new PathResolver(root, PathPolicy.DEFAULT, System::nanoTime, Duration.ofSeconds(1),
                path -> path.equals("/u/..x") ? "../secret/passwd" : path.equals("/u/.git") ? ".git/config"
                        : path.equals("/u/link") ? "escape/passwd" : null);
        Resolution out = dots.resolveForOpen("/u/..x");
        assertThat(out.status()).as("a capture of \"..\" out of the root").isEqualTo(Status.NOT_FOUND);
        assertThat(out.reason()).isEqualTo("the alias's captures lead out of its directory");
        assertThat(dots.lexicalRefusal("/u/..x").status()).isEqualTo(Status.NOT_FOUND);
        assertThat(dots.resolve("/u/..x").status()).isEqualTo(Status.NOT_FOUND);
        assertThat(dots.checkLinks("/u/..x").status()).isEqualTo(Status.NOT_FOUND);
        assertThat(dots.resolveForOpen("/u/.git").status()).as("a dotfile the captures make")
                .isEqualTo(Status.FORBIDDEN);
        assertThat(dots.resolveNormalized("/u/link").status()).as("a link out of the root").isEqualTo(Status.FORBIDDEN);
        Resolution none = dots.resolveForOpen("/v/x");
        assertThat(none.status()).isEqualTo(Status.NOT_FOUND);
        assertThat(none.reason()).isEqualTo("not matched by the alias's regex");
    }

    /**
     * An alias's regex runs once per path a resolver refuses too: a path it does not match, or one whose captures
     * climb out, is told apart by what that one run made (the regex may read a crafted path millions of times within
     * its budget, and a second run for the refusal's reason doubled that on every 404 there).
     */
    @Test
    void anAliasRegexRunsOncePerRefusedPath() {
        AtomicLong runs = new AtomicLong();
        PathResolver dots = new PathResolver(root, PathPolicy.DEFAULT, System::nanoTime, Duration.ofSeconds(1),
                path -> {
                    runs.incrementAndGet();
                    return path.equals("/u/..x") ? "../secret/passwd" : null;
                });
        Resolution out = dots.resolveForOpen("/u/..x");
        assertThat(out.reason()).isEqualTo("the alias's captures lead out of its directory");
        assertThat(runs.getAndSet(0)).isEqualTo(1);
        Resolution none = dots.resolveForOpen("/v/x");
        assertThat(none.reason()).isEqualTo("not matched by the alias's regex");
        assertThat(runs.getAndSet(0)).isEqualTo(1);
        assertThat(dots.lexicalRefusal("/v/x").status()).isEqualTo(Status.NOT_FOUND);
        assertThat(runs.getAndSet(0)).isEqualTo(1);
        assertThat(dots.checkLinks("/u/..x").status()).isEqualTo(Status.NOT_FOUND);
        assertThat(runs.getAndSet(0)).isEqualTo(1);
        assertThat(dots.checkLinksAgain("/v/x").status()).isEqualTo(Status.NOT_FOUND);
        assertThat(runs.getAndSet(0)).isEqualTo(1);
    }

    /**
     * gzip_static's look for a file's .gz, from what the path was resolved to: the file's name and the suffix, held to
     * the dotfile rule, with no second run of the alias's regex (nor normalisation of the path) per request; under a
     * root as under an alias, links checked or not.
     */
    @ParameterizedTest
    @ValueSource(strings = {"within-root", "anywhere"})
    void aSuffixsFileIsFoundFromTheResolutionWithoutTheRegexAgain(String symlinks) throws IOException {
        Files.createDirectories(root.resolve("AB"));
        Files.writeString(root.resolve("AB/x.png.gz"), "gz");
        PathPolicy policy = symlinks.equals("anywhere") ? new PathPolicy(false, true, true) : PathPolicy.DEFAULT;
        AtomicLong runs = new AtomicLong();
        PathResolver alias = new PathResolver(root, policy, System::nanoTime, Duration.ofSeconds(1), path -> {
            runs.incrementAndGet();
            return path.startsWith("/u/") ? path.substring(3) : null;
        });
        Resolution file = alias.resolveForOpen("/u/AB/x.png");
        Resolution gz = alias.resolveForOpen(file, ".gz");
        assertThat(runs.get()).isEqualTo(1);
        assertThat(gz.uriPath()).isEqualTo("/u/AB/x.png.gz");
        assertThat(alias.resolveNormalized("/u/AB/x.png.gz").file()).isEqualTo(root.toRealPath().resolve("AB/x.png.gz"));
        assertThat(gz.file()).isEqualTo(alias.resolveForOpen("/u/AB/x.png", ".gz").file());
        assertThat(alias.checkLinks(gz).file()).isEqualTo(root.toRealPath().resolve("AB/x.png.gz"));
        assertThat(alias.resolveForOpen(alias.resolveForOpen("/u/"), ".gz").status()).as("the root's .gz: a dotfile")
                .isEqualTo(Status.FORBIDDEN);
        PathResolver plain = new PathResolver(root, policy, System::nanoTime, Duration.ofSeconds(1), "/");
        assertThat(plain.resolveForOpen(plain.resolveForOpen("/AB/x.png"), ".gz").file())
                .isEqualTo(plain.resolveForOpen("/AB/x.png.gz").file());
    }
}
