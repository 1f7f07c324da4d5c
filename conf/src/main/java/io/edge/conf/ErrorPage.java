package io.edge.conf;

import com.github.benmanes.caffeine.cache.Ticker;
import io.edge.aio.PathPolicy;
import io.edge.aio.file.OpenFile;
import io.edge.aio.file.OpenFileCache;
import io.edge.aio.path.PathResolver;
import io.edge.aio.path.Resolution;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A site's own page for an error status (nginx's {@code error_page}): the body edge sends in place of its built-in one,
 * and the URI it was named by, which routes to the location whose always-headers go with it. Or a named location
 * ({@link #named(String, int)}, {@code 404 = "@app"}) that answers the request in place of a page, or the script or
 * proxy location its path routes to ({@link #routed}, {@code 503 = "/busy.php"}).
 * <p>
 * A page's file is read when the configuration is loaded, then again by {@link #refresh} (once a second, off the event
 * loops) whenever it changed, appeared or went, as nginx, which opens the file at every request, sees an edit at once:
 * an answer takes the {@link #content} as last read, never the disk. It is looked for where its URI's location keeps
 * its files ({@link Source}), as nginx's error_page is an internal redirect to the URI, routed again.
 */
public final class ErrorPage {

    /** The largest page read: an error page is a short document, and it is held in memory for every answer. */
    public static final int MAX_BYTES = 64 * 1024;

    /** What the page's file was when last read. */
    public enum State {
        /** Read: its bytes are the page. */
        READ,
        /**
         * Not there, a link to nothing, or no regular file (a directory, a FIFO): the error is answered as nginx's
         * redirect to a missing page is, 404.
         */
        MISSING,
        /**
         * There, but refused (a link the site's rule refuses, permission denied): the error is answered as nginx's
         * redirect to a page it may not open is, 403.
         */
        REFUSED,
        /** There, but not to be sent (over {@link #MAX_BYTES}, a read that failed): edge's own page for the error. */
        UNUSABLE
    }

    /** The page as one answer sends it: its state and bytes, taken together. */
    public static final class Content {

        private static final Content NOT_READ = new Content(State.MISSING, new byte[0]);

        private final State state;
        private final byte[] body;

        private Content(State state, byte[] body) {
            this.state = state;
            this.body = body;
        }

        public State state() {
            return state;
        }

        /** The page's bytes, shared and read-only (no copy per answer); none unless {@link State#READ}. */
        public ByteBuffer body() {
            return ByteBuffer.wrap(body).asReadOnlyBuffer();
        }

        public int length() {
            return body.length;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Content other && state == other.state && Arrays.equals(body, other.body);
        }

        @Override
        public int hashCode() {
            return state.hashCode() * 31 + Arrays.hashCode(body);
        }
    }

    /**
     * Where a page's file is looked for: beneath {@code root}, the {@code root} or {@code alias} of the location its URI
     * routes to (nginx's error_page is an internal redirect there, its URI matched against the locations again), else
     * the site's root, by the site's symlinks {@code policy}; {@code uriPrefix} and {@code captures} as that location's
     * ({@link LocationSettings#uriPrefix}, {@link LocationSettings#aliasCaptures}), which map the URI below the root.
     */
    record Source(Path root, PathPolicy policy, String uriPrefix, AliasCaptures captures) {

        /**
         * Where {@code location} ({@code null}: none takes the URI) keeps its files: its own root or alias (an alias that
         * is a file as the load finds it: below its parent), else the site's {@code root}. Blocks: a stat of the alias.
         */
        static Source of(Path root, PathPolicy policy, LocationSettings location) {
            if (location == null || location.root() == null) {
                return new Source(root, policy, "/", null);
            }
            AliasCaptures asFile = location.aliasAsFile();
            if (asFile != null && Files.isRegularFile(location.root())) {
                // a prefix location's alias that is a file at the load (location /oops.html { alias /srv/f.html; }):
                // that file below its parent, as a request for the path takes it while it is one
                return new Source(location.root().getParent(), policy, "/", asFile);
            }
            return new Source(location.root(), policy, location.uriPrefix(), location.aliasCaptures());
        }

        /** A resolver beneath the root, which its caller closes. Blocks: it opens the root. */
        PathResolver resolver() {
            return captures != null
                    ? new PathResolver(root, policy, System::nanoTime, Duration.ofSeconds(1), captures::below)
                    : new PathResolver(root, policy, System::nanoTime, Duration.ofSeconds(1), uriPrefix);
        }

        /** The file {@code uri} names below the root, lexically, for the log and the checks; null where none. */
        Path file(String uri) {
            String below = captures != null ? captures.below(uri)
                    : uri.startsWith(uriPrefix) ? uri.substring(uriPrefix.length()) : null;
            if (below == null) {
                return null;
            }
            Path file = root.resolve(below.startsWith("/") ? below.substring(1) : below).normalize();
            return file.startsWith(root) && !file.equals(root) ? file : null;
        }
    }

    private final String uri;
    private final Path file;
    private final String contentType;
    /** For a {@link #named} one: the status its answer goes with; -1 the error's, 0 the location's own. */
    private final int answerStatus;
    /** For a {@link #routed} one: the query its path was written with ("x=1" of "/404.php?x=1"), "" for none. */
    private final String query;
    /** Where {@link #refresh} reads the file; null: a page made in code, never read. */
    private final Source source;
    private volatile Content content;
    /** What the file was when it was last read (inode, size, times); null: read it at the next refresh. */
    private List<Object> version;

    public ErrorPage(String uri, Path file, String contentType, byte[] body) {
        this(uri, file, contentType, new Content(State.READ, body.clone()), -1, "", null, null);
    }

    private ErrorPage(String uri, Path file, String contentType, Content content, int answerStatus, String query,
            Source source, List<Object> version) {
        this.uri = uri;
        this.file = file;
        this.contentType = contentType;
        this.content = content;
        this.answerStatus = answerStatus;
        this.query = query;
        this.source = source;
        this.version = version;
    }

    /**
     * A page of {@code file}, named {@code uri}, read from {@code source} when the configuration was: {@code body}, the
     * file as {@code version} ({@link #version(Path, Path)}, taken before the read) says it was; {@link #refresh} reads it
     * again from {@code source} when it changes.
     */
    static ErrorPage read(String uri, Path file, String contentType, byte[] body, Source source, List<Object> version) {
        return new ErrorPage(uri, file, contentType, new Content(State.READ, body), -1, "", source, settled(version));
    }

    /**
     * A page ({@code 503 = "/errors/503.html"}, {@code 301 = "/moved.html"}) whose {@code file} was not there when the
     * configuration was read, or was a link to nothing: no problem, as nginx -t looks for no error_page file, and the
     * error is answered as nginx's then is, its error_page redirect finding nothing: 404 with the built-in page (a
     * redirect's Location kept), not paged again. {@link #refresh} reads it once it is there.
     */
    static ErrorPage missing(String uri, Path file, String contentType, Source source) {
        return new ErrorPage(uri, file, contentType, Content.NOT_READ, -1, "", source, null);
    }

    /**
     * The named location {@code name} ({@code "@app"}) answers the error's request, its method and URI unchanged, as
     * nginx's {@code error_page 404 @app}: with the error's status ({@code answerStatus} -1, written {@code "@app"}),
     * its own ({@code 0}, {@code "= @app"}) or {@code answerStatus} ({@code "=200 @app"}).
     */
    public static ErrorPage named(String name, int answerStatus) {
        return routed(name, "", answerStatus);
    }

    /**
     * The page at {@code uri} ({@code "/busy.php"}) is answered by the location that path routes to, which runs it as a
     * script or asks its backend for it, as nginx's {@code error_page 503 /busy.php}: an internal redirect to the path
     * (with {@code query} in place of the request's, "" for none, as nginx's {@code error_page 404 /404.php?x=1}
     * passes x=1; a GET, a HEAD kept, the body passed on as it came), with the error's status ({@code answerStatus}
     * -1, written {@code "/busy.php"}), its own ({@code 0}, {@code "= /busy.php"}) or {@code answerStatus} ({@code
     * "=200 /busy.php"}).
     */
    public static ErrorPage routed(String uri, String query, int answerStatus) {
        return new ErrorPage(uri, null, null, new Content(State.READ, new byte[0]), answerStatus, query, null, null);
    }

    /** The page as the next answer sends it: its file as last read ({@link #refresh}). */
    public Content content() {
        return content;
    }

    /** Whether the page's file was not there when last looked for ({@link State#MISSING}). */
    public boolean missing() {
        return content.state() == State.MISSING;
    }

    /**
     * Whether a location answers in place of a page: a named location ({@link #named(String, int)}), or the one its
     * path routes to ({@link #routed}).
     */
    public boolean named() {
        return file == null;
    }

    /** Whether the location its path routes to answers it ({@link #routed}), not a named location. */
    public boolean routed() {
        return named() && uri.startsWith("/");
    }

    /** For a {@link #named} one: the status its answer goes with; -1 the error's, 0 the location's own. */
    public int answerStatus() {
        return answerStatus;
    }

    /** For a {@link #routed} one: the query its path was written with, without '?' ("" for none). */
    public String query() {
        return query;
    }

    /** The page's path as error-pages names it ("/errors/404.html", its query aside); a named location's name. */
    public String uri() {
        return uri;
    }

    public Path file() {
        return file;
    }

    public String contentType() {
        return contentType;
    }

    /** The length of the page as last read. */
    public int length() {
        return content.length();
    }

    /** The page's bytes as last read, shared and read-only (no copy per answer). */
    public ByteBuffer body() {
        return content.body();
    }

    /**
     * Reads the page's file again if it changed (its inode, size, modification or change time), appeared or went since
     * it was last read, from where it was read at the load ({@link Source}). Blocks on the disk: never on an
     * event loop. A page made in code or a named location has nothing to read.
     *
     * @return what changed, for the log ("is read again: 312 bytes", "is gone: ..."), or null where nothing did
     */
    public synchronized String refresh() {
        if (source == null) {
            return null;
        }
        List<Object> now;
        try {
            now = version(source.root(), file);
        } catch (NoSuchFileException gone) {
            return gone();
        } catch (AccessDeniedException e) {
            return refused("cannot be looked at (" + refusal(e) + ")", null);
        } catch (IOException | RuntimeException e) {
            return unusable("cannot be looked at (" + SettingsMapper.reason(e) + ")", null);
        }
        if (now.equals(version)) {
            return null;
        }
        PathResolver resolver = source.resolver();
        try {
            byte[] body = read(resolver, uri, MAX_BYTES + 1);
            if (body.length > MAX_BYTES) {
                return unusable("is more than " + MAX_BYTES + " bytes", now);
            }
            return change(State.READ, body, now, "is read again: " + body.length + " bytes");
        } catch (NoSuchFileException gone) {
            return gone();
        } catch (AccessDeniedException e) {
            return refused("cannot be read (" + refusal(e) + ")", now);
        } catch (IOException | RuntimeException e) {
            return unusable("cannot be read (" + SettingsMapper.reason(e) + ")", now);
        } finally {
            resolver.close();
        }
    }

    /**
     * Not there, a link to nothing, or no regular file: looked for again at each refresh. nginx 1.22 answers a directory
     * there with a 301 to its slash (an error made a permanent redirect to the directory, kept by clients and caches);
     * edge with the 404 of a missing page, as nginx answers a FIFO there.
     */
    private String gone() {
        return change(State.MISSING, new byte[0], null, "is gone: its errors are answered 404 (as nginx's error_page to"
                + " a missing file) until it is back");
    }

    /**
     * A link the site's rule refuses, a dotfile, permission denied: answered as nginx's error_page redirect to a file it
     * may not open is (nginx 1.22.1: a page of mode 000 to its workers' user, or a link under disable_symlinks), 403
     * with its own page, not paged again. {@code readAs} as {@link #unusable}'s.
     */
    private String refused(String why, List<Object> readAs) {
        return change(State.REFUSED, new byte[0], readAs, why + ": its errors are answered 403 (as nginx's error_page to"
                + " a file it may not open) until it is mended");
    }

    /**
     * Why {@code e} refused the page, for the log: the open's own reason where it gives one (a link the rule refuses,
     * "symbolic link not followed"; strerror's "Permission denied" for EACCES), else permission denied (the JDK's).
     */
    private static String refusal(AccessDeniedException e) {
        return e.getReason() != null ? e.getReason() : SettingsMapper.reason(e);
    }

    /** {@code readAs}: the file as it was when found unusable, not read again until it changes; null: at once. */
    private String unusable(String why, List<Object> readAs) {
        return change(State.UNUSABLE, new byte[0], readAs, why + ": its errors get edge's own page until it is mended");
    }

    /** Makes {@code body} in {@code state} the content; what to log where the state or the bytes changed, else null. */
    private String change(State state, byte[] body, List<Object> readAs, String what) {
        Content before = content;
        version = settled(readAs); // as before the read: a change meanwhile is read at the next refresh
        Content next = new Content(state, body);
        if (before.equals(next)) {
            return null;
        }
        content = next;
        return "error page " + file + " " + what;
    }

    /**
     * The file's inode, size, modification and change times, through links: any edit, a rename over it, a copy. Then the
     * inode of each name on its way from {@code root}, the file's own too, links not followed: a directory swapped for a
     * link (moved out of the root, a link to it in its place) or back, which the site's rule may refuse or allow again,
     * leaves the file's own inode and times as they were.
     */
    static List<Object> version(Path root, Path file) throws IOException {
        Map<String, Object> attributes = Files.readAttributes(file, "unix:ino,size,lastModifiedTime,ctime");
        List<Object> version = new ArrayList<>(List.of(Objects.toString(attributes.get("ino")),
                Objects.toString(attributes.get("size")), attributes.get("lastModifiedTime"), attributes.get("ctime")));
        Path name = root;
        for (Path part : root.relativize(file)) {
            name = name.resolve(part);
            version.add(Objects.toString(Files.getAttribute(name, "unix:ino", LinkOption.NOFOLLOW_LINKS)));
        }
        return List.copyOf(version);
    }

    /**
     * {@code version}, or null (the file read again at the next refresh, quietly if its bytes are the same) where its
     * modification or change time is less than a second old or ahead of the clock: those times move in ticks of some
     * milliseconds, and a rewrite of the same size within the tick that saw the file read keeps its version, which
     * would keep the old bytes until the next change, as the open-file cache trusts no file modified that recently.
     */
    private static List<Object> settled(List<Object> version) {
        if (version == null) {
            return null;
        }
        Instant recent = Instant.now().minusSeconds(1);
        for (Object time : version.subList(2, 4)) {
            if (!(time instanceof FileTime t) || !t.toInstant().isBefore(recent)) {
                return null;
            }
        }
        return version;
    }

    /**
     * At most {@code limit} bytes of the file at {@code uri}, opened as the static path opens a request's file
     * ({@link OpenFileCache#acquire(PathResolver, Resolution)}: beneath the root held open, every component held to
     * the site's symlinks rule by the open itself, or checked by its descriptor where no root is held), through a
     * cache of its own that keeps nothing.
     *
     * @throws NoSuchFileException   nothing there, or not a regular file
     * @throws java.nio.file.AccessDeniedException a link the rule refuses, a dotfile, or permission denied
     */
    static byte[] read(PathResolver resolver, String uri, int limit) throws IOException {
        Resolution resolution = resolver.resolveForOpen(uri).requireOk();
        try (OpenFileCache opener = new OpenFileCache(0, Duration.ZERO, 1, Ticker.systemTicker())) {
            OpenFile file = opener.acquire(resolver, resolution);
            try {
                if (file.isDirectory()) {
                    throw new NoSuchFileException(uri, null, "a directory");
                }
                FileChannel channel = file.channel();
                ByteBuffer body = ByteBuffer.allocate((int) Math.min(limit, file.size() + 1));
                while (body.hasRemaining() && channel.read(body, body.position()) > 0) {
                    // positional reads until the limit or the end
                }
                return Arrays.copyOf(body.array(), body.position());
            } finally {
                file.release();
            }
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ErrorPage other && uri.equals(other.uri) && Objects.equals(file, other.file)
                && Objects.equals(contentType, other.contentType) && content.equals(other.content)
                && answerStatus == other.answerStatus && query.equals(other.query);
    }

    @Override
    public int hashCode() {
        return Objects.hashCode(file) * 31 + content.hashCode() + uri.hashCode();
    }

    @Override
    public String toString() {
        Content now = content;
        return named() ? "ErrorPage[" + uri + (query.isEmpty() ? "" : "?" + query) + ", status " + answerStatus + "]"
                : now.state() != State.READ ? "ErrorPage[" + file + ", " + now.state().name().toLowerCase() + "]"
                : "ErrorPage[" + file + ", " + contentType + ", " + now.length() + " bytes]";
    }
}
