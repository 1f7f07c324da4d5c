package io.edge.core.fastcgi;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.aio.PathPolicy;
import io.edge.aio.path.PathResolver;
import io.edge.fastcgi.cgi.ScriptResolver;
import io.edge.fastcgi.cgi.ScriptResolver.FileProbe.Kind;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real files and links: the probe refuses what the static path's resolver refuses, for every policy. */
class PolicyFileProbeTest {

    private static final PathPolicy WITHIN_ROOT = PathPolicy.DEFAULT;
    private static final PathPolicy NO_LINKS = new PathPolicy(false, false, false);
    private static final PathPolicy LINKS_ANYWHERE = new PathPolicy(false, true, true);
    private static final PathPolicy DOTFILES_ALLOWED = new PathPolicy(true, true, false);

    @TempDir
    Path dir;
    Path root;

    @BeforeEach
    void tree() throws IOException {
        root = Files.createDirectories(dir.resolve("www"));
        Path outside = Files.createDirectories(dir.resolve("outside"));
        Files.writeString(outside.resolve("x.php"), "<?php echo 'outside';");
        Files.writeString(root.resolve("a.php"), "<?php");
        Files.createDirectories(root.resolve("sub"));
        Files.createDirectories(root.resolve(".git"));
        Files.writeString(root.resolve(".git/x.php"), "<?php");
        Files.writeString(root.resolve(".env.php"), "<?php");
        Files.createDirectories(root.resolve(".well-known"));
        Files.writeString(root.resolve(".well-known/x.php"), "<?php");
        Files.createSymbolicLink(root.resolve("out.php"), outside.resolve("x.php"));
        Files.createSymbolicLink(root.resolve("outdir"), outside);
        Files.createSymbolicLink(root.resolve("in.php"), root.resolve("a.php"));
        Files.createSymbolicLink(root.resolve("secret.php"), root.resolve(".env.php"));
    }

    private static PolicyFileProbe probe(Path root, PathPolicy policy) {
        return new PolicyFileProbe(root, policy, System::nanoTime, Duration.ofSeconds(1));
    }

    private Kind kind(PathPolicy policy, String relative) {
        return probe(root, policy).kind(root.resolve(relative));
    }

    @Test
    void plainFilesDirectoriesAndMissingPathsAreWhatTheyAre() {
        assertThat(kind(WITHIN_ROOT, "a.php")).isEqualTo(Kind.FILE);
        assertThat(kind(WITHIN_ROOT, "sub")).isEqualTo(Kind.DIRECTORY);
        assertThat(kind(WITHIN_ROOT, "")).isEqualTo(Kind.DIRECTORY);
        assertThat(kind(WITHIN_ROOT, "nothing.php")).isEqualTo(Kind.MISSING);
        assertThat(kind(WITHIN_ROOT, "a.php/x.php")).as("a file used as a directory").isEqualTo(Kind.MISSING);
    }

    @Test
    void dotfilesAreForbiddenUnlessAllowedAndWellKnownIsAlwaysAllowed() {
        assertThat(kind(WITHIN_ROOT, ".git/x.php")).isEqualTo(Kind.FORBIDDEN);
        assertThat(kind(WITHIN_ROOT, ".git")).isEqualTo(Kind.FORBIDDEN);
        assertThat(kind(WITHIN_ROOT, ".git/missing.php")).isEqualTo(Kind.FORBIDDEN);
        assertThat(kind(WITHIN_ROOT, ".env.php")).isEqualTo(Kind.FORBIDDEN);
        assertThat(kind(WITHIN_ROOT, ".well-known/x.php")).isEqualTo(Kind.FILE);
        assertThat(kind(DOTFILES_ALLOWED, ".git/x.php")).isEqualTo(Kind.FILE);
    }

    @Test
    void withinRootALinkLeavingTheRootIsForbiddenAndOneStayingInsideIsFollowed() {
        assertThat(kind(WITHIN_ROOT, "out.php")).isEqualTo(Kind.FORBIDDEN);
        assertThat(kind(WITHIN_ROOT, "outdir/x.php")).as("a directory link on the way").isEqualTo(Kind.FORBIDDEN);
        assertThat(kind(WITHIN_ROOT, "outdir")).isEqualTo(Kind.FORBIDDEN);
        assertThat(kind(WITHIN_ROOT, "in.php")).isEqualTo(Kind.FILE);
        assertThat(kind(WITHIN_ROOT, "secret.php")).as("a link landing on a dotfile").isEqualTo(Kind.FORBIDDEN);
    }

    /**
     * Beyond a link the policy refuses, a path is refused whether something lies there or not, as the static path
     * refuses it: a front controller answered a missing one, and so told which files exist outside the root.
     */
    @Test
    void aMissingPathBeyondARefusedLinkIsForbiddenToo() {
        assertThat(kind(WITHIN_ROOT, "outdir/nothing.php")).isEqualTo(Kind.FORBIDDEN);
        assertThat(kind(WITHIN_ROOT, "outdir/no/such/route")).isEqualTo(Kind.FORBIDDEN);
        assertThat(kind(LINKS_ANYWHERE, "outdir/nothing.php")).isEqualTo(Kind.MISSING);
        assertThat(kind(WITHIN_ROOT, "sub/no/such/route")).isEqualTo(Kind.MISSING);
        assertThat(kind(WITHIN_ROOT, "no/such/route")).isEqualTo(Kind.MISSING);
    }

    /**
     * With links denied (nginx's disable_symlinks on), a link as the script's own name is refused (ELOOP, 403) and a
     * path through a linked directory is missing (ENOTDIR, 404), there or not, as the static path answers it: the same
     * answer either way tells nothing of what lies beyond the link.
     */
    @Test
    void withLinksDeniedEveryLinkIsForbiddenAndAPathThroughOneMissing() {
        assertThat(kind(NO_LINKS, "in.php")).isEqualTo(Kind.FORBIDDEN);
        assertThat(kind(NO_LINKS, "out.php")).isEqualTo(Kind.FORBIDDEN);
        assertThat(kind(NO_LINKS, "outdir")).isEqualTo(Kind.FORBIDDEN);
        assertThat(kind(NO_LINKS, "a.php")).isEqualTo(Kind.FILE);
        assertThat(kind(NO_LINKS, "outdir/x.php")).isEqualTo(Kind.MISSING);
        assertThat(kind(NO_LINKS, "outdir/nothing.php")).isEqualTo(Kind.MISSING);
        assertThat(kind(NO_LINKS, "outdir/no/such/route")).isEqualTo(Kind.MISSING);
    }

    @Test
    void withLinksAllowedALinkMayLeaveTheRoot() {
        assertThat(kind(LINKS_ANYWHERE, "out.php")).isEqualTo(Kind.FILE);
        assertThat(kind(LINKS_ANYWHERE, "outdir")).isEqualTo(Kind.DIRECTORY);
        assertThat(kind(LINKS_ANYWHERE, ".git/x.php")).as("dotfiles are still denied").isEqualTo(Kind.FORBIDDEN);
    }

    @Test
    void aRootReachedThroughALinkIsSeenUnderItsLexicalName() throws IOException {
        Path linkedRoot = Files.createSymbolicLink(dir.resolve("current"), root);
        var probe = probe(linkedRoot, WITHIN_ROOT);
        assertThat(probe.kind(linkedRoot.resolve("a.php"))).isEqualTo(Kind.FILE);
        assertThat(probe.kind(linkedRoot.resolve("out.php"))).isEqualTo(Kind.FORBIDDEN);
    }

    @Test
    void theScriptResolverRefusesWhatTheProbeRefuses() {
        var probe = probe(root, WITHIN_ROOT);
        var resolver = new ScriptResolver(root, ScriptResolver.DEFAULT_SPLIT, "/a.php", probe);
        assertThat(resolver.resolve("/.git/x.php", "")).isInstanceOf(ScriptResolver.Forbidden.class);
        assertThat(resolver.resolve("/out.php", "")).isInstanceOf(ScriptResolver.Forbidden.class);
        assertThat(resolver.resolve("/outdir/x.php", "")).isInstanceOf(ScriptResolver.Forbidden.class);
        assertThat(resolver.resolve("/in.php", "")).isInstanceOf(ScriptResolver.Script.class);
        assertThat(((ScriptResolver.Script) resolver.resolve("/pretty/url", "")).scriptName()).isEqualTo("/a.php");
    }

    @Test
    void theProbeHoldsNoDescriptorOfTheRootSincePhpFpmOpensTheScriptByItsPath() throws IOException {
        var probe = probe(root, WITHIN_ROOT);
        assertThat(probe.kind(root.resolve("a.php"))).isEqualTo(Kind.FILE);
        assertThat(probe.kind(root.resolve("out.php"))).isEqualTo(Kind.FORBIDDEN);
        assertThat(descriptorsOn(root)).isZero();

        // The count sees one where it is held: the static path's resolver opens files beneath the root.
        PathResolver staticPath = new PathResolver(root, WITHIN_ROOT);
        assertThat(descriptorsOn(root)).isEqualTo(staticPath.rootDirectory() == null ? 0 : 1);
    }

    /** Descriptors of this process open on {@code directory}, as {@code /proc/self/fd} names them. */
    private static long descriptorsOn(Path directory) throws IOException {
        Path real = directory.toRealPath();
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.filter(fd -> {
                try {
                    return Files.readSymbolicLink(fd).equals(real);
                } catch (IOException e) {
                    return false; // closed since the listing (the listing's own, for one)
                }
            }).count();
        }
    }
}
