package io.edge.aio.path;

import io.edge.aio.PathPolicy;
import io.edge.aio.linux.Syscalls;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.ref.WeakReference;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CancellationException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Maps request paths onto files under one root, applying a {@link PathPolicy}.
 *
 * <p>Steps, in order: percent-decode exactly once ({@code %252e} becomes the literal text {@code %2e}), keeping
 * bytes that are not UTF-8 as escapes ({@link #hasByteEscapes}: such a path routes but names no file);
 * refuse NUL and bad percent-encoding (a backslash, raw or {@code %5C}, is a file name's character, as for nginx on
 * Linux: no separator, so it climbs nowhere); drop empty and "."
 * segments and apply ".." segments, refusing any that would climb above the root; refuse dotfile segments
 * unless allowed ({@code .well-known} as the first segment is always allowed); then check links against
 * the file system.
 *
 * <p>Link checks use the real path of the candidate: with {@code followSymlinks=false} any link on the way
 * (the real path differs from the lexical one) is refused; otherwise a real path outside the real root is
 * refused unless {@code symlinksMayLeaveRoot}. A link inside the root that lands on a dotfile is refused
 * like the dotfile itself. The checks and the later open are two steps: an attacker who can replace
 * directories inside the root between them is out of scope; with {@code followSymlinks=false} the engine
 * also opens with {@code O_NOFOLLOW} (see {@link #followSymlinks()}).
 *
 * <p>The root's real path is taken again every {@code directoryTtl} (on a thread of its own, never the
 * caller's), and where the root is held open, whether that path still names the directory held: when a deploy
 * switches a link on the way to the root ({@code current -> releases/42}) or renames another directory over it
 * ({@code mv root root.old; mv root.new root}), files come from the new tree within that time. With
 * {@code followSymlinks=false} the root's own path is held to the rule as well: while it is a link, or one of the
 * directories above it is (its real path is not the path configured), every path below it is not found, as nginx's
 * {@code disable_symlinks on} opens every component from "/" and meets ENOTDIR at the link (nginx 1.22, measured:
 * {@code root} a link to a directory, each request 404; its {@code from=$document_root}, which trusts the root's own
 * components, has no counterpart here).
 *
 * <p>{@link #normalize} is pure. {@link #resolve} and {@link #resolveNormalized} stat the file system, so
 * they block: the asynchronous engines call them off the event loop.
 */
public final class PathResolver {

    private static final String WELL_KNOWN = ".well-known";
    /** The reason of a refusal under {@code dotfiles = deny}. */
    public static final String DOTFILE = "dotfile";
    /** The reason of a refusal of a link as a file's own name where links are not followed (403). */
    public static final String LINK = "symbolic link";
    /** The reason of a path with a link on its way where links are not followed (404, as nginx's ENOTDIR). */
    public static final String LINK_ON_THE_WAY = "symbolic link on the way";

    /** The chars {@link #decode} keeps a byte that was not UTF-8 as: {@code U+DC00 + byte}, 0x80 to 0xFF. */
    private static final char BYTE_ESCAPES = '\uDC00';
    private static final char FIRST_BYTE_ESCAPE = '\uDC80';
    private static final char LAST_BYTE_ESCAPE = '\uDCFF';

    /** Directories whose real path is remembered at most; beyond it the memory starts over. */
    static final int MAX_DIRECTORIES = 65_536;

    /**
     * Where every resolver's root is checked, each every {@code directoryTtl}: a few daemon threads, so that a
     * root on a file server that stops answering holds up its own checks, not every other root's. A check
     * holds its resolver weakly: a resolver nobody uses any more stops being checked.
     */
    private static final class RootChecks {
        static final ScheduledExecutorService EXECUTOR = Executors.newScheduledThreadPool(2, runnable -> {
            Thread thread = new Thread(runnable, "edge-root-check");
            thread.setDaemon(true);
            return thread;
        });

        static void every(PathResolver resolver, Duration period) {
            WeakReference<PathResolver> weak = new WeakReference<>(resolver);
            long nanos = Math.max(period.toNanos(), TimeUnit.MILLISECONDS.toNanos(100));
            EXECUTOR.scheduleWithFixedDelay(() -> {
                PathResolver alive = weak.get();
                if (alive == null || alive.closed) {
                    throw new CancellationException("resolver gone"); // ends this schedule, quietly
                }
                alive.checkRoot();
            }, nanos, nanos, TimeUnit.NANOSECONDS);
        }
    }

    private static final Logger log = LoggerFactory.getLogger(PathResolver.class);

    /** The root as configured (absolute, normalised), whose real path {@link #current} holds. */
    private final Path configured;
    /** {@link #close} ran: the root is no longer held nor checked. */
    private volatile boolean closed;
    private final PathPolicy policy;
    private final LongSupplier nanoClock;
    private final long directoryTtlNanos;
    /**
     * Lexical directory -> its checked real path: a thumbnail tree has few directories and many files, so a
     * request costs one {@code lstat} of its last component instead of a {@code readlink} per component.
     */
    private final ConcurrentHashMap<Path, Directory> directories = new ConcurrentHashMap<>();
    /** The request paths the root stands for ({@code /} but for an alias): a path is looked up past it. */
    private final String uriPrefix;
    /**
     * For an alias in a regex location, the path below the root a request path names (its captures written into the
     * alias), not yet normalised, or null where it names none; null for a root that stands for a prefix.
     */
    private final UnaryOperator<String> below;
    /** Whether the root is held open for confined opens; false for a caller that opens nothing beneath it. */
    private final boolean holdsRoot;
    private volatile Root current;

    /**
     * The root's real path ({@code found}; else the configured one, the root missing), and the root held open
     * for confined opens (null where links may leave the root, {@code openat2} is missing or the root is, or
     * the resolver is {@link #forChecksOnly}); {@code file}: found, and no directory (an alias of a file).
     */
    private record Root(Path real, RootDirectory directory, boolean found, boolean file) {
    }

    /** A directory's real path, checked (inside the root, no dotfile, no link if links are refused) at {@code checkedAt}. */
    private record Directory(Path real, long checkedAt) {
    }

    /**
     * @param root    the document root; its real path is taken now (a missing root makes every path 404)
     * @param policy  dotfile and link rules
     */
    public PathResolver(Path root, PathPolicy policy) {
        this(root, policy, System::nanoTime, Duration.ofSeconds(1));
    }

    /**
     * @param nanoClock    the clock for {@code directoryTtl} (a fake one in tests)
     * @param directoryTtl how long a directory's real path is trusted: a link replacing a directory is seen
     *                     within this time (the open-file cache trusts files as long); the root's own real path
     *                     is taken again this often (in real time, on a thread of the resolvers' own)
     */
    public PathResolver(Path root, PathPolicy policy, LongSupplier nanoClock, Duration directoryTtl) {
        this(root, policy, nanoClock, directoryTtl, "/");
    }

    /**
     * As {@link #PathResolver(Path, PathPolicy, LongSupplier, Duration)}, for a root that stands for the paths under
     * {@code uriPrefix} (nginx's {@code alias}: {@code /thumbs/ab/x.jpg} is {@code ab/x.jpg} under the root for the
     * prefix {@code /thumbs/}); a path outside the prefix names no file. {@code "/"}: the root is the paths' own.
     */
    public PathResolver(Path root, PathPolicy policy, LongSupplier nanoClock, Duration directoryTtl,
            String uriPrefix) {
        this(root, policy, nanoClock, directoryTtl, true, true, uriPrefix, null);
    }

    /**
     * As {@link #PathResolver(Path, PathPolicy, LongSupplier, Duration)}, for a root below which {@code below} says
     * where a request path's file is (nginx's {@code alias} in a regex location, {@code /data/images/$1}: the root
     * {@code /data/images}, and below it the path's capture). {@code below} takes a decoded, normalised request path
     * and returns the path under the root, without a leading slash and not yet normalised, or null where the path
     * names nothing here; the rules are then held against that path as against a request's: normalised, one that
     * climbs above the root names no file (404), a dotfile segment in it is refused, its links are checked.
     */
    public PathResolver(Path root, PathPolicy policy, LongSupplier nanoClock, Duration directoryTtl,
            UnaryOperator<String> below) {
        this(root, policy, nanoClock, directoryTtl, true, true, "/", Objects.requireNonNull(below, "below"));
    }

    /** @param checkRootPeriodically false: the root changes only when a test calls {@link #checkRoot} */
    PathResolver(Path root, PathPolicy policy, LongSupplier nanoClock, Duration directoryTtl,
            boolean checkRootPeriodically) {
        this(root, policy, nanoClock, directoryTtl, true, checkRootPeriodically, "/", null);
    }

    /**
     * A resolver for a caller that looks at paths and opens nothing beneath the root (FastCGI's script probe:
     * php-fpm opens the script by its path): the same answers and the same periodic check of the root, but it
     * holds no descriptor of it, so {@link #rootDirectory()} is null and no resolution is
     * {@link Resolution#confined() confined}. Parameters as for
     * {@link #PathResolver(Path, PathPolicy, LongSupplier, Duration)}.
     */
    public static PathResolver forChecksOnly(Path root, PathPolicy policy, LongSupplier nanoClock,
            Duration directoryTtl) {
        return new PathResolver(root, policy, nanoClock, directoryTtl, false, true, "/", null);
    }

    private PathResolver(Path root, PathPolicy policy, LongSupplier nanoClock, Duration directoryTtl,
            boolean holdsRoot, boolean checkRootPeriodically, String uriPrefix, UnaryOperator<String> below) {
        if (!uriPrefix.startsWith("/") || !uriPrefix.endsWith("/")) {
            throw new IllegalArgumentException("a prefix starts and ends with /: " + uriPrefix);
        }
        this.uriPrefix = uriPrefix;
        this.below = below;
        this.holdsRoot = holdsRoot;
        this.nanoClock = Objects.requireNonNull(nanoClock, "nanoClock");
        this.directoryTtlNanos = directoryTtl.toNanos();
        this.policy = Objects.requireNonNull(policy, "policy");
        this.configured = root.toAbsolutePath().normalize();
        Path real;
        boolean found;
        try {
            real = configured.toRealPath();
            found = true;
        } catch (IOException e) {
            real = configured; // a missing root: every path is 404 until a check finds it
            found = false;
        }
        boolean file = found && !Files.isDirectory(real);
        this.current = new Root(real, found && !file ? openDirectory(real) : null, found, file);
        if (reachedThroughLink(current)) {
            log.warn("{}: links are not followed and the root is reached through one (its real path is {}): every"
                    + " path below it is not found (404), as nginx's disable_symlinks on answers", configured, real);
        }
        if (checkRootPeriodically) {
            RootChecks.every(this, directoryTtl);
        }
    }

    private RootDirectory openDirectory(Path real) {
        return confines() ? RootDirectory.open(real) : null;
    }

    /** Whether files are to be opened beneath the root held open: links are checked, and the resolver may hold it. */
    private boolean confines() {
        return holdsRoot && !(policy.followSymlinks() && policy.symlinksMayLeaveRoot());
    }

    /**
     * Takes the root's real path again; if it changed (a deploy switched a link on the way to it) or, the root
     * being held open, names another directory than the one held (a deploy renamed one over it), opens the new
     * one and lets the old one go once the opens that took it are done. A root missing for the moment (a link
     * or directory being replaced in two steps) keeps the old one until a later check finds it. A root that is a file
     * (a slash-less alias's) is checked as one: still there, still a file, at the same real path is all there is to
     * know; nothing is held open for it, so nothing is tried again. Blocks.
     *
     * @return whether the root was taken anew (for tests: a check that found nothing changed costs a stat or two)
     */
    synchronized boolean checkRoot() {
        if (closed) {
            return false;
        }
        Root old = current;
        Path real;
        boolean file;
        try {
            real = configured.toRealPath();
            file = !Files.isDirectory(real);
            // a directory not held open where it could be (a descriptor short before) is opened again; a file never is
            boolean unopened = !file && old.directory() == null && confines() && RootDirectory.mayOpenLater();
            if (old.found() && real.equals(old.real()) && file == old.file() && !unopened
                    && (old.directory() == null || old.directory().isAt(real))) {
                return false;
            }
        } catch (IOException e) {
            return false;
        }
        current = new Root(real, file ? null : openDirectory(real), true, file);
        directories.clear();
        if (old.directory() != null) {
            old.directory().release();
        }
        if (!real.equals(old.real()) && reachedThroughLink(current)) {
            log.warn("{}: the root is now {} (was {}), reached through a link, which is not followed: every path below"
                    + " it is not found (404)", configured, real, old.real());
        } else if (!real.equals(old.real())) {
            log.info("{}: the root is now {} (was {})", configured, real, old.real());
        } else if (old.directory() == null) {
            if (current.directory() != null) {
                log.info("{}: the root {} is held open now; links under it are checked by the kernel again",
                        configured, real);
            }
        } else if (old.found()) {
            log.info(file ? "{}: the root {} is a file now"
                    : "{}: the root {} is another directory now (one was renamed over it)", configured, real);
        }
        return true;
    }

    /**
     * Whether a file the user-space check let through as {@code checked} may be served when its descriptor names
     * {@code real}: links not followed, no link on the way ({@code real} is what was checked); followed within the
     * root, inside it and not a dotfile reached through a link. Anything, where links may leave the root.
     */
    public boolean admitsOpened(Path real, Path checked) {
        return policy.followSymlinks() && policy.symlinksMayLeaveRoot()
                || linkRefusal(real, checked, current.real()) == null;
    }

    /**
     * Lets the root go once the opens that took it are done, and stops checking it: for a resolver of a configuration
     * replaced by a reload, whose last request has ended. A late use still resolves, with links checked in user space
     * and each file opened checked by its descriptor.
     */
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        Root old = current;
        current = new Root(old.real(), null, old.found(), old.file());
        directories.clear();
        if (old.directory() != null) {
            old.directory().release();
        }
    }

    /** The real path of the root. */
    public Path root() {
        return current.real();
    }

    /**
     * {@link #root}, or null while the root is a file ({@link #rootIsFile}), read at once: for a caller that took the
     * root as a directory, for which a file found there by a check since is no root holding files below it.
     */
    public Path directoryRoot() {
        Root root = current;
        return root.file() ? null : root.real();
    }

    /**
     * Whether the root, as last found (when the resolver was made, then by the checks every {@code directoryTtl}), is
     * there and is no directory: a slash-less alias of a file (at the start or since), which its location serves below
     * its parent.
     */
    public boolean rootIsFile() {
        return current.file();
    }

    /** The root as configured (absolute, links not resolved). */
    public Path configuredRoot() {
        return configured;
    }

    public PathPolicy policy() {
        return policy;
    }

    /** Whether the last component may be a link; when false, open it with {@code NOFOLLOW_LINKS}. */
    public boolean followSymlinks() {
        return policy.followSymlinks();
    }

    /**
     * Decodes and normalises a raw request path (as in the request URI, before '?'). Pure.
     *
     * @return the path, starting with '/', without empty, "." or ".." segments; a trailing '/' is kept
     * @throws MalformedPathException if the path is malformed or climbs above the root
     */
    public static String normalize(String rawPath) {
        return normalizeDecoded(decode(rawPath));
    }

    /**
     * The root held open now, which {@link Resolution#confined() confined} resolutions name; null when links may
     * leave the root (nothing to confine), {@code openat2} is unavailable or the resolver is {@link #forChecksOnly}.
     */
    public RootDirectory rootDirectory() {
        return current.directory();
    }

    /**
     * Resolves a decoded path as {@link #resolveNormalized} does as far as the lexical rules go (malformed, above the
     * root, a dotfile), without touching the file system: for an event loop, which must never wait for a disk. Where
     * the root is held open the result is {@link Resolution#confined() confined}: opening it beneath
     * {@link #rootDirectory()} with no link allowed on the way does in one call what the link checks do in several.
     * Where it is not (no {@code openat2}: a kernel before 5.6, a seccomp filter; the root missing or not openable
     * for the moment; a resolver {@link #forChecksOnly} or closed) its links are {@link Resolution#linksToCheck() to
     * check} before the open, off the loop ({@link #checkLinks}), which may then refuse it or find nothing there.
     * Where links may go anywhere there is nothing to check: the lexical path is the file. Never blocks.
     */
    public Resolution resolveForOpen(String decodedPath) {
        return resolveForOpen(decodedPath, "");
    }

    /**
     * As {@link #resolveForOpen(String)}, for the file whose name is that of {@code decodedPath}'s file followed by
     * {@code suffix} (a precompressed {@code .gz} beside it, as nginx's gzip_static appends it to the file's name, not
     * to the URI: under an alias in a regex location the two differ). Its {@link Resolution#uriPath()} is the path's
     * with the suffix. Never blocks.
     */
    public Resolution resolveForOpen(String decodedPath, String suffix) {
        String uriPath;
        try {
            uriPath = checkedNormal(decodedPath);
        } catch (MalformedPathException e) {
            return Resolution.refused(Resolution.Status.BAD_REQUEST, null, e.getMessage());
        }
        if (hasByteEscapes(uriPath)) {
            return notUtf8(uriPath);
        }
        String mapped = mapped(uriPath);
        String relative = mapped == null ? null : below(mapped);
        if (relative == null) {
            return outside(uriPath, mapped);
        }
        return suffixed(uriPath, relative, suffix);
    }

    /**
     * As {@link #resolveForOpen(String, String)}, from {@code resolution}, what {@link #resolveForOpen(String)} made of
     * the path (OK): its file's name and {@code suffix}, without normalising the path or running an alias's regex on
     * it again (gzip_static's look for the .gz of every file it serves). Never blocks.
     */
    public Resolution resolveForOpen(Resolution resolution, String suffix) {
        return suffixed(resolution.uriPath(), Objects.requireNonNull(resolution.relative(), "relative"), suffix);
    }

    /** The file {@code relative} and {@code suffix} name (normalised, below the root), its dotfile rule held. */
    private Resolution suffixed(String uriPath, String relative, String suffix) {
        if (!suffix.isEmpty()) {
            uriPath += suffix;
            relative += suffix;
        }
        if (refusesDotfile(relative)) {
            return Resolution.refused(Resolution.Status.FORBIDDEN, uriPath, DOTFILE);
        }
        return lexical(uriPath, relative);
    }

    /**
     * The same file as {@code resolution}, lexically resolved (as {@link #resolveForOpen(String)}) against the root
     * held now: for an open that found the root it was resolved against replaced (a deploy switched a link to it).
     * Never blocks.
     */
    public Resolution resolveAgain(Resolution resolution) {
        return resolution.relative() == null ? resolveForOpen(resolution.uriPath())
                : lexical(resolution.uriPath(), resolution.relative());
    }

    /**
     * The file {@code relative} (normalised, below the root, its lexical rules held) names, to open. The root itself
     * while a look found it to be a file is refused at once ({@link #fileRootRefusal}): a caller took it as a directory
     * (StaticResponder chose a slash-less alias's shape from an earlier look), and where links may go anywhere nothing
     * after this would check it, the file opened as the directory's own.
     */
    private Resolution lexical(String uriPath, String relative) {
        Root root = current;
        Resolution refused = rootRefusal(root, uriPath, relative);
        if (refused != null) {
            return refused;
        }
        Path lexical = relative.isEmpty() ? root.real() : root.real().resolve(relative);
        if (policy.followSymlinks() && policy.symlinksMayLeaveRoot()) {
            return Resolution.lexical(uriPath, lexical, relative);
        }
        return root.directory() == null ? Resolution.linksToCheck(uriPath, lexical, relative)
                : Resolution.confined(uriPath, lexical, root.directory(), relative);
    }

    /**
     * What {@code uriPath} (normalised) names below the root before it is normalised: past the prefix, or what an
     * alias's captures make of it; null where it names nothing under this root (outside the prefix, not matched by the
     * alias's regex). The regex runs here alone, once per path resolved: {@link #below(String, String)} and
     * {@link #outside} take what it made.
     */
    private String mapped(String uriPath) {
        if (below == null) {
            return uriPath.startsWith(uriPrefix) ? uriPath.substring(uriPrefix.length()) : null;
        }
        return below.apply(uriPath);
    }

    /**
     * The path below the root {@code mapped} ({@link #mapped}: not null) is, normalised, without a leading slash ("" for
     * the root itself); null where it climbs above the root once the alias's captures are written in ({@code /data/$1/x}
     * with a capture "..", which a regex as {@code ^/u/(\.\.)x$} takes from a normalised path).
     */
    private String below(String mapped) {
        if (below == null) {
            return mapped; // the rest of a normalised path
        }
        try {
            return normalizeDecoded("/" + mapped).substring(1);
        } catch (MalformedPathException climbs) {
            return null;
        }
    }

    /**
     * The refusal of a path that names nothing under this root, 404: {@code mapped} is what {@link #mapped} made of it
     * (null: nothing), which {@link #below(String)} found climbing out.
     */
    private Resolution outside(String uriPath, String mapped) {
        return Resolution.refused(Resolution.Status.NOT_FOUND, uriPath, below == null ? "not under this root's path"
                : mapped == null ? "not matched by the alias's regex" : "the alias's captures lead out of its directory");
    }

    private static Resolution notUtf8(String uriPath) {
        return Resolution.refused(Resolution.Status.NOT_FOUND, uriPath, "path is not UTF-8: it names no file here");
    }

    private static String checkedNormal(String decodedPath) {
        checkDecoded(decodedPath);
        return normalizeDecoded(decodedPath);
    }

    private boolean refusesDotfile(String relative) {
        return !policy.allowDotfiles() && hasDotSegment(relative);
    }

    /**
     * What the lexical rules alone say of a decoded path, touching nothing: its refusal (malformed, climbing above
     * the root, a dotfile), or null if they let it through. For a path known not to exist, where links can lead
     * nowhere, this is the whole answer.
     */
    public Resolution lexicalRefusal(String decodedPath) {
        try {
            String uriPath = checkedNormal(decodedPath);
            if (hasByteEscapes(uriPath)) {
                return notUtf8(uriPath);
            }
            String mapped = mapped(uriPath);
            String relative = mapped == null ? null : below(mapped);
            if (relative == null) {
                return outside(uriPath, mapped);
            }
            return refusesDotfile(relative) ? Resolution.refused(Resolution.Status.FORBIDDEN, uriPath,
                    DOTFILE) : null;
        } catch (MalformedPathException e) {
            return Resolution.refused(Resolution.Status.BAD_REQUEST, null, e.getMessage());
        }
    }

    /**
     * The full link check of a normalised path ({@link Resolution#uriPath()}), for a confined open that met a
     * link, or a resolution whose {@link Resolution#linksToCheck() links are to check}: a link is refused unless
     * followed and staying inside the root. Blocks on the file system.
     */
    public Resolution checkLinks(String uriPath) {
        String mapped = mapped(uriPath);
        String relative = mapped == null ? null : below(mapped);
        return relative == null ? outside(uriPath, mapped) : resolveBelowCurrent(uriPath, relative);
    }

    /**
     * {@link #checkLinks(String)} of the file {@code resolution} names (a suffix's file included): this resolver's,
     * lexical, {@link Resolution#confined() confined} or with {@link Resolution#linksToCheck() links to check}.
     * Blocks.
     */
    public Resolution checkLinks(Resolution resolution) {
        return resolution.relative() == null ? checkLinks(resolution.uriPath())
                : resolveBelowCurrent(resolution.uriPath(), resolution.relative());
    }

    /**
     * {@link #checkLinks} without the real paths of directories remembered for a while: for a path whose checked
     * real path met a link when opened (the tree changed since). Blocks on the file system.
     */
    public Resolution checkLinksAgain(String uriPath) {
        String mapped = mapped(uriPath);
        String relative = mapped == null ? null : below(mapped);
        return relative == null ? outside(uriPath, mapped) : checkLinksAgain(uriPath, relative);
    }

    /** {@link #checkLinksAgain(String)} of the file {@code resolution} names, as {@link #checkLinks(Resolution)}. */
    public Resolution checkLinksAgain(Resolution resolution) {
        return resolution.relative() == null ? checkLinksAgain(resolution.uriPath())
                : checkLinksAgain(resolution.uriPath(), resolution.relative());
    }

    private Resolution checkLinksAgain(String uriPath, String relative) {
        if (!relative.isEmpty()) {
            directories.remove(current.real().resolve(relative).getParent());
        }
        return resolveBelowCurrent(uriPath, relative);
    }

    /**
     * The file {@code relative} (normalised) names below the root as the last check found it, its links checked. A
     * root found to be a file is no directory and holds nothing, not even itself: a caller took it as a directory (a
     * slash-less alias's shape is chosen on the event loop from the last look at its root, and a later look may land
     * before the links are checked here), and judged against its own real path as the root, the file a link there
     * leads to, anywhere, would be inside it (refused, 403, as {@link #directoryRoot} has X-Accel-Redirect refuse it).
     * Named as a directory ({@code uriPath} ending in "/") and below it, nothing is found (404, ENOTDIR, as nginx 1.22
     * answers a root or alias that is a file, or a link to one, under any disable_symlinks). Blocks.
     */
    private Resolution resolveBelowCurrent(String uriPath, String relative) {
        Root root = current;
        Resolution refused = rootRefusal(root, uriPath, relative);
        return refused != null ? refused : resolveChecked(uriPath, relative, root.real());
    }

    /**
     * What {@code root} itself refuses of {@code relative} below it ({@code uriPath}), or null: the root found to be a
     * file, named as itself ({@link #fileRootRefusal}); every path, where links are not followed and the root is
     * reached through one ({@link #reachedThroughLink}).
     */
    private Resolution rootRefusal(Root root, String uriPath, String relative) {
        if (root.file() && relative.isEmpty()) {
            return fileRootRefusal(uriPath);
        }
        return reachedThroughLink(root) ? linkOnTheWay(uriPath) : null;
    }

    /**
     * Whether links are not followed and {@code root}, found, is reached through one: its real path is not the path
     * configured (the root a link, or a directory above it), a link on the way to every file below it.
     */
    private boolean reachedThroughLink(Root root) {
        return !policy.followSymlinks() && root.found() && !root.real().equals(configured);
    }

    /**
     * The root, found to be a file, named by {@code uriPath} as a directory ("/", "/i/": 404, as nginx 1.22's ENOTDIR)
     * or as itself ("/i": 403).
     */
    private static Resolution fileRootRefusal(String uriPath) {
        return Resolution.refused(uriPath.endsWith("/") ? Resolution.Status.NOT_FOUND : Resolution.Status.FORBIDDEN,
                uriPath, "the root is a file: no directory");
    }

    /** Resolves a raw request path (as in the URI, before '?'). Blocks on the file system. */
    public Resolution resolve(String rawPath) {
        String uriPath;
        try {
            uriPath = normalize(rawPath);
        } catch (MalformedPathException e) {
            return Resolution.refused(Resolution.Status.BAD_REQUEST, null, e.getMessage());
        }
        return hasByteEscapes(uriPath) ? notUtf8(uriPath) : checkLinks(uriPath);
    }

    /**
     * Resolves a path that was already decoded (such as {@code Exchange.path()}); it is not decoded again,
     * only checked and normalised. Blocks on the file system.
     */
    public Resolution resolveNormalized(String decodedPath) {
        Resolution lexical = resolveForOpen(decodedPath);
        return lexical.confined() ? resolveChecked(lexical.uriPath(), lexical.relative(), lexical.beneath().path())
                : lexical.linksToCheck() ? checkLinks(lexical) : lexical;
    }

    /** The file {@code relative} (normalised, below {@code root}) names, its links checked. Blocks. */
    private Resolution resolveChecked(String uriPath, String relative, Path root) {
        if (refusesDotfile(relative)) {
            return Resolution.refused(Resolution.Status.FORBIDDEN, uriPath, DOTFILE);
        }
        Path lexical = relative.isEmpty() ? root : root.resolve(relative);
        if (policy.followSymlinks() && policy.symlinksMayLeaveRoot()) {
            return Resolution.ok(uriPath, lexical);
        }
        if (!relative.isEmpty() && directoryTtlNanos > 0) {
            Resolution fast = viaDirectory(uriPath, lexical, root);
            if (fast != null) {
                return fast;
            }
        }
        return fullCheck(uriPath, lexical, root);
    }

    /**
     * The file in a directory whose real path is known: one {@code lstat} of the last component. Returns
     * null when that component is a link (the full check decides).
     */
    private Resolution viaDirectory(String uriPath, Path lexical, Path root) {
        Path parent = lexical.getParent();
        long now = nanoClock.getAsLong();
        Directory dir = directories.get(parent);
        if (dir == null || now - dir.checkedAt() >= directoryTtlNanos) {
            Resolution r = parent.equals(root) ? Resolution.ok("/", root) : fullCheck(uriPath, parent, root);
            if (!r.isOk()) {
                // Not remembered: a directory created a moment later is served at once. A link the rule refuses as
                // the directory's own name is one on the file's way.
                return !policy.followSymlinks() && LINK.equals(r.reason()) ? linkOnTheWay(uriPath)
                        : Resolution.refused(r.status(), uriPath, r.reason());
            }
            dir = new Directory(r.file(), now);
            if (directories.size() >= MAX_DIRECTORIES) {
                directories.clear();
            }
            directories.put(parent, dir);
        }
        Path candidate = dir.real().resolve(lexical.getFileName());
        try {
            if (Files.readAttributes(candidate, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).isSymbolicLink()) {
                return null;
            }
        } catch (IOException e) {
            return refusal(uriPath, e);
        }
        if (!policy.followSymlinks() && !candidate.equals(lexical)) {
            return linkOnTheWay(uriPath); // the directory's real path is not its own: a link on its way
        }
        return Resolution.ok(uriPath, candidate);
    }

    private Resolution fullCheck(String uriPath, Path lexical, Path root) {
        Path real;
        try {
            real = lexical.toRealPath();
        } catch (IOException e) {
            return refusal(uriPath, e);
        }
        String refusal = linkRefusal(real, lexical, root);
        if (refusal == null) {
            return Resolution.ok(uriPath, real);
        }
        // named as a directory ("/linkdir/"), the link is on the way to what is in it, its index (nginx 1.22.1: 404,
        // ENOTDIR), as one further up is
        if (LINK.equals(refusal) && (uriPath.endsWith("/") || hasLinkOnTheWay(lexical, root))) {
            return linkOnTheWay(uriPath);
        }
        return Resolution.refused(Resolution.Status.FORBIDDEN, uriPath, refusal);
    }

    /**
     * Links not followed, a link met on the way to the file, a directory of its path (not its own name, but for a path
     * named as a directory, {@code /linkdir/}, the way to its index): nothing there, 404, as nginx's disable_symlinks on
     * opens each directory on the way with O_NOFOLLOW and O_DIRECTORY and meets ENOTDIR there (nginx 1.22.1, measured:
     * a file through a linked directory is 404, as is {@code /linkdir/}; the link itself 403 by ELOOP).
     */
    private static Resolution linkOnTheWay(String uriPath) {
        return Resolution.refused(Resolution.Status.NOT_FOUND, uriPath, LINK_ON_THE_WAY);
    }

    /**
     * Whether a directory on the way from {@code root} to {@code lexical} (below it), not {@code lexical} itself, is a
     * link or is reached through one. Blocks; asked only of a path refused for a link.
     */
    private static boolean hasLinkOnTheWay(Path lexical, Path root) {
        Path parent = lexical.getParent();
        if (parent == null || parent.equals(root) || !parent.startsWith(root)) {
            return false;
        }
        try {
            return !parent.toRealPath().equals(parent);
        } catch (IOException e) {
            return false; // gone meanwhile: the link's own refusal stands
        }
    }

    /**
     * Why the link policy refuses {@code real}, the real path of {@code lexical} (a path under {@code root}), or null
     * if it admits it (links not followed: none on the way; followed within the root: inside it, and no dotfile
     * reached through a link). Not for links that may leave the root, which are not checked.
     */
    private String linkRefusal(Path real, Path lexical, Path root) {
        if (!policy.followSymlinks()) {
            return real.equals(lexical) ? null : LINK;
        }
        if (!real.startsWith(root)) {
            return "symbolic link leaves the root";
        }
        if (!policy.allowDotfiles() && !real.equals(lexical)
                && hasDotSegment(root.relativize(real).toString())) {
            return "symbolic link to a dotfile";
        }
        return null;
    }

    static Resolution refusal(String uriPath, IOException e) {
        if (e instanceof NoSuchFileException) {
            return Resolution.refused(Resolution.Status.NOT_FOUND, uriPath, "no such file");
        }
        if (e instanceof AccessDeniedException) {
            return Resolution.refused(Resolution.Status.FORBIDDEN, uriPath, "permission denied");
        }
        if (e instanceof FileSystemException fs
                && Syscalls.isReason(fs.getReason(), Syscalls.ELOOP, "Too many levels of symbolic links")) {
            // ELOOP (the JDK's toRealPath adds "or unable to access attributes of symbolic link"): a loop of links is
            // refused as a link is, as the engines answer it where links are not checked here
            return Resolution.refused(Resolution.Status.FORBIDDEN, uriPath, "a loop of symbolic links");
        }
        if (e instanceof FileSystemException fs
                && (Syscalls.isReason(fs.getReason(), Syscalls.ENOTDIR, "Not a directory")
                        || Syscalls.isReason(fs.getReason(), Syscalls.ENAMETOOLONG, "File name too long"))) {
            // ENOTDIR (a file used as a directory), ENAMETOOLONG: nothing to serve there.
            return Resolution.refused(Resolution.Status.NOT_FOUND, uriPath, "not found: " + fs.getReason());
        }
        // EIO, a file server gone (ENOTCONN, ESTALE): the file system did not answer, which says nothing of the file
        // (as nginx's 500 for a failed open); a 404 would tell clients and caches it is gone
        return Resolution.refused(Resolution.Status.FAILED, uriPath, "the file system failed: "
                + (e instanceof FileSystemException fs && fs.getReason() != null ? fs.getReason() : e.toString()));
    }

    /** Whether a root-relative path ("a/b/c", no leading '/') has a dot segment other than a leading .well-known. */
    public static boolean hasDotSegment(String relative) {
        int start = 0;
        int n = relative.length();
        while (start < n) {
            int end = relative.indexOf('/', start);
            if (end < 0) {
                end = n;
            }
            if (end > start && relative.charAt(start) == '.'
                    && !(start == 0 && relative.regionMatches(0, WELL_KNOWN, 0, WELL_KNOWN.length())
                    && end == WELL_KNOWN.length())) {
                return true;
            }
            start = end + 1;
        }
        return false;
    }

    static String decode(String rawPath) {
        if (rawPath == null || rawPath.isEmpty() || rawPath.charAt(0) != '/') {
            throw new MalformedPathException("path must start with '/'");
        }
        if (isPlainAscii(rawPath)) {
            checkDecoded(rawPath);
            return rawPath;
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(rawPath.length());
        for (int i = 0; i < rawPath.length(); i++) {
            char c = rawPath.charAt(i);
            if (c == '%') {
                if (i + 2 >= rawPath.length()) {
                    throw new MalformedPathException("truncated percent-encoding");
                }
                int hi = Character.digit(rawPath.charAt(i + 1), 16);
                int lo = Character.digit(rawPath.charAt(i + 2), 16);
                if (hi < 0 || lo < 0) {
                    throw new MalformedPathException("invalid percent-encoding");
                }
                bytes.write(hi << 4 | lo);
                i += 2;
            } else if (c <= 0xFF) {
                // Netty hands the request line over one char per received byte: a raw non-ASCII byte
                // arrives as a char <= 0xFF and is part of the UTF-8 sequence like a decoded one.
                bytes.write(c);
            } else {
                throw new MalformedPathException("path contains a character that is not a byte");
            }
        }
        String decoded = utf8WithByteEscapes(bytes.toByteArray());
        checkDecoded(decoded);
        return decoded;
    }

    /**
     * {@code bytes} read as UTF-8, each byte of a sequence that is not UTF-8 (a Latin-1 {@code %E9}, an overlong
     * {@code %C0%AE}, a lone surrogate's three bytes) kept as the char {@code U+DC00 + byte}, U+DC80 to U+DCFF, as
     * Python's {@code surrogateescape} keeps it (PEP 383). UTF-8 never decodes to a lone surrogate, so such a char
     * names its byte and nothing else: a path of legacy bytes routes (a front controller answers it, CGI's params
     * carry its bytes back) and is never taken for another path. The bytes below 0x80 are always UTF-8, so no
     * escape is a '/', '.' or NUL.
     */
    private static String utf8WithByteEscapes(byte[] bytes) {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(bytes.length); // UTF-8 and escapes: at most one char per byte
        CoderResult result;
        while ((result = decoder.decode(in, out, true)).isError()) {
            for (int i = 0; i < result.length(); i++) {
                out.put((char) (BYTE_ESCAPES | in.get() & 0xFF));
            }
        }
        decoder.flush(out);
        return out.flip().toString();
    }

    /**
     * Whether a decoded path holds a byte that was not UTF-8 ({@link #decode}): it routes, but names no file here,
     * since the JVM names files in UTF-8 (and a file named by its UTF-8 replacement would be another file).
     */
    public static boolean hasByteEscapes(String decodedPath) {
        for (int i = 0; i < decodedPath.length(); i++) {
            char c = decodedPath.charAt(i);
            // a low surrogate after a high one is half of a character (U+1F480 is D83D DC80): no escape
            if (c >= FIRST_BYTE_ESCAPE && c <= LAST_BYTE_ESCAPE
                    && (i == 0 || !Character.isHighSurrogate(decodedPath.charAt(i - 1)))) {
                return true;
            }
        }
        return false;
    }

    /** Whether a path starting with '/' has no empty segment (but a trailing '/'), "." or "..". */
    private static boolean isNormal(String path) {
        int n = path.length();
        for (int i = 0; i < n; i++) {
            if (path.charAt(i) != '/') {
                continue;
            }
            int end = path.indexOf('/', i + 1);
            int length = (end < 0 ? n : end) - i - 1;
            if ((length == 0 && end >= 0) || (length == 1 && path.charAt(i + 1) == '.')
                    || (length == 2 && path.charAt(i + 1) == '.' && path.charAt(i + 2) == '.')) {
                return false;
            }
        }
        return true;
    }

    private static boolean isPlainAscii(String path) {
        for (int i = 0; i < path.length(); i++) {
            char c = path.charAt(i);
            if (c == '%' || c >= 0x80) {
                return false;
            }
        }
        return true;
    }

    private static void checkDecoded(String path) {
        if (path == null || path.isEmpty() || path.charAt(0) != '/') {
            throw new MalformedPathException("path must start with '/'");
        }
        if (path.indexOf('\0') >= 0) {
            throw new MalformedPathException("NUL in path");
        }
    }

    private static String normalizeDecoded(String decoded) {
        if (isNormal(decoded)) {
            return decoded; // the common case: nothing to drop or apply
        }
        Deque<String> segments = new ArrayDeque<>();
        boolean trailingSlash = false;
        int start = 1;
        int n = decoded.length();
        while (start <= n) {
            int end = decoded.indexOf('/', start);
            if (end < 0) {
                end = n;
            }
            String segment = decoded.substring(start, end);
            boolean last = end == n;
            switch (segment) {
                case "":
                    trailingSlash = last;
                    break;
                case ".":
                    trailingSlash = last;
                    break;
                case "..":
                    if (segments.isEmpty()) {
                        throw new MalformedPathException("'..' climbs above the root");
                    }
                    segments.removeLast();
                    trailingSlash = last;
                    break;
                default:
                    segments.addLast(segment);
                    trailingSlash = false;
                    break;
            }
            start = end + 1;
        }
        if (segments.isEmpty()) {
            return "/";
        }
        StringBuilder out = new StringBuilder(decoded.length());
        for (String segment : segments) {
            out.append('/').append(segment);
        }
        if (trailingSlash) {
            out.append('/');
        }
        return out.toString();
    }
}
