package io.edge.core.statics;

import io.edge.aio.file.ReadQueueFullException;
import io.edge.aio.linux.Syscalls;
import io.edge.aio.path.PathResolver;
import io.edge.aio.path.Resolution;
import io.edge.conf.Autoindex;
import io.edge.core.http.HttpDate;
import io.edge.core.http.RequestTarget;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * nginx's autoindex: what a directory holds, read off the event loop ({@link #read}) and written as nginx's
 * {@code autoindex_format} writes it ({@link #render}).
 *
 * <p>Listed is what a request for the name could be answered with: regular files and directories, not a name that
 * begins with "." (nginx leaves those out too), not a link the site's policy refuses or that leads nowhere, not a name
 * that is no UTF-8 (a request cannot name it).
 */
final class DirectoryListing {

    /** Listings read at a time, and waiting: more are refused (503), as a full read queue is. */
    private static final int THREADS = 2;
    private static final int WAITING = 64;
    /** nginx's NGX_HTTP_AUTOINDEX_NAME_LEN: the HTML list's name column, in characters. */
    static final int NAME_COLUMN = 50;
    private static final DateTimeFormatter HTML_TIME = DateTimeFormatter.ofPattern("dd-MMM-yyyy HH:mm", Locale.ENGLISH);
    private static final DateTimeFormatter XML_TIME = DateTimeFormatter.ISO_OFFSET_DATE_TIME;
    private static final Executor LISTERS = listers();

    /**
     * Whether descriptors can be named by path (/proc mounted): a directory is then read through the descriptor that was
     * checked ({@link #readChecked}); else by its path, as before, with the race that leaves.
     */
    private static final boolean PROC_FD = Files.isDirectory(Path.of("/proc/self/fd"));

    /** One name a directory holds; {@code size} is a file's bytes. */
    record Entry(String name, boolean directory, long size, long modifiedMillis) {
    }

    /**
     * Files and directories by name, directories first, names compared as their UTF-8 bytes (nginx's strcmp): as
     * UTF-16 code units, which order alike but for characters past U+FFFF against U+E000-U+FFFF, compared as code
     * points then.
     */
    static final Comparator<Entry> ORDER = Comparator.comparing((Entry e) -> !e.directory())
            .thenComparing(Entry::name, DirectoryListing::compareAsUtf8);

    /** {@code a} and {@code b} in the order of their UTF-8 bytes, without making them: UTF-8 orders as code points. */
    static int compareAsUtf8(String a, String b) {
        int i = 0;
        int j = 0;
        while (i < a.length() && j < b.length()) {
            int x = a.codePointAt(i);
            int y = b.codePointAt(j);
            if (x != y) {
                return Integer.compare(x, y);
            }
            i += Character.charCount(x);
            j += Character.charCount(y);
        }
        return Integer.compare(a.length() - i, b.length() - j);
    }

    private DirectoryListing() {
    }

    /**
     * What the directory {@code uriPath} (ending in "/") names beneath {@code resolver}'s root holds, in
     * {@link #ORDER}, read and written as {@code autoindex} says on a listing thread (a large directory's page is no
     * event loop's work either); fails as an open does (NoSuchFileException, AccessDeniedException), or with
     * ReadQueueFullException when too many listings wait.
     */
    static CompletableFuture<Rendered> list(PathResolver resolver, String uriPath, Autoindex autoindex,
            String callback) {
        return list(resolver, uriPath, autoindex, callback, LISTERS);
    }

    /** As {@link #list(PathResolver, String, Autoindex, String)}, on {@code listers}. */
    static CompletableFuture<Rendered> list(PathResolver resolver, String uriPath, Autoindex autoindex, String callback,
            Executor listers) {
        CompletableFuture<Rendered> listed = new CompletableFuture<>();
        try {
            listers.execute(() -> {
                try {
                    listed.complete(render(autoindex, uriPath, read(resolver, uriPath), ZoneId.systemDefault(),
                            callback));
                } catch (Throwable e) { // an OutOfMemoryError too: the request is answered (503), never left waiting
                    listed.completeExceptionally(e);
                }
            });
        } catch (RejectedExecutionException e) {
            listed.completeExceptionally(new ReadQueueFullException("directory listings waiting: " + WAITING));
        }
        return listed;
    }

    /** {@link #list}'s work: blocks on the file system. */
    static List<Entry> read(PathResolver resolver, String uriPath) throws IOException {
        // its links checked, as an open's
        return readChecked(resolver, uriPath, resolver.resolveNormalized(uriPath).requireOk().file());
    }

    /**
     * The entries of {@code checked}, the directory the resolver let through for {@code uriPath}, read through a
     * descriptor of it whose real path is checked again, as a file's open is ({@link PathResolver#admitsOpened}): read by
     * its path, a link swapped in for it (or for a directory on the way) after the check was followed, and a directory
     * outside the root listed. Without the natives, by its path.
     */
    static List<Entry> readChecked(PathResolver resolver, String uriPath, Path checked) throws IOException {
        if (!Syscalls.isAvailable() || !PROC_FD) {
            return entries(resolver, uriPath, checked);
        }
        int fd = Syscalls.openDirectoryPath(checked.toString());
        if (fd == -Syscalls.ENOTDIR) {
            throw new NoSuchFileException(uriPath, null, "not a directory (any more)"); // a 404, as a file gone
        }
        if (fd < 0) {
            throw Syscalls.openFailure(checked.toString(), -fd);
        }
        try {
            Path opened = Path.of("/proc/self/fd/" + fd);
            if (!resolver.admitsOpened(Files.readSymbolicLink(opened), checked)) {
                throw new AccessDeniedException(uriPath, null, "a link changed on the path while it was listed");
            }
            return entries(resolver, uriPath, opened);
        } finally {
            Syscalls.closeQuietly(fd);
        }
    }

    /** The entries of {@code directory} (a path that names it), the listing of {@code uriPath}. */
    private static List<Entry> entries(PathResolver resolver, String uriPath, Path directory) throws IOException {
        List<Entry> entries = new ArrayList<>();
        try (DirectoryStream<Path> names = Files.newDirectoryStream(directory)) {
            for (Path path : names) {
                String name = path.getFileName().toString();
                // a dotfile (nginx lists none), or a name of bytes that are no UTF-8 (decoded with U+FFFD: the
                // decoded name names no file), not one that has that character
                if (name.startsWith(".") || name.indexOf('\uFFFD') >= 0
                        && !Files.exists(directory.resolve(name), LinkOption.NOFOLLOW_LINKS)) {
                    continue;
                }
                BasicFileAttributes attributes;
                try {
                    attributes = Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                    if (attributes.isSymbolicLink()) {
                        if (!resolver.followSymlinks()) {
                            continue;
                        }
                        Resolution target = resolver.resolveNormalized(uriPath + name);
                        if (!target.isOk()) {
                            continue; // out of the root, to a dotfile, or nowhere: refused when asked for
                        }
                        attributes = Files.readAttributes(target.file(), BasicFileAttributes.class);
                    }
                } catch (IOException e) {
                    continue; // gone since the directory was read, or a link that leads nowhere
                }
                if (attributes.isDirectory() || attributes.isRegularFile()) {
                    entries.add(new Entry(name, attributes.isDirectory(), attributes.isDirectory() ? 0 : attributes.size(),
                            attributes.lastModifiedTime().toMillis()));
                }
            }
        }
        entries.sort(ORDER);
        return entries;
    }

    /** The list as {@code autoindex} writes it, with its Content-Type. */
    record Rendered(String contentType, byte[] body) {
    }

    /**
     * {@code entries} of the directory {@code uriPath} (the request's path, decoded) written in {@code autoindex}'s
     * format, the HTML list's times in {@code zone} where it asks for local time (nginx's XML and JSON are in UTC
     * whatever it asks); JSONP's call of {@code callback} ({@link #callback}: null or empty, the JSON list alone).
     */
    static Rendered render(Autoindex autoindex, String uriPath, List<Entry> entries, ZoneId zone, String callback) {
        ZoneId times = autoindex.localTime() ? zone : ZoneOffset.UTC;
        boolean called = autoindex.format() == Autoindex.Format.JSONP && callback != null && !callback.isEmpty();
        return switch (autoindex.format()) {
            case HTML -> new Rendered("text/html; charset=utf-8",
                    html(uriPath, entries, autoindex.exactSize(), times).getBytes(StandardCharsets.UTF_8));
            case JSON, JSONP -> called
                    ? new Rendered("application/javascript", ("/* callback */\r\n" + callback + "(" + json(entries)
                            + ");").getBytes(StandardCharsets.UTF_8))
                    : new Rendered("application/json", json(entries).getBytes(StandardCharsets.UTF_8));
            case XML -> new Rendered("text/xml; charset=utf-8", xml(entries).getBytes(StandardCharsets.UTF_8));
        };
    }

    /**
     * nginx's HTML list: a link to the parent, then one line per entry: its link (a directory's with a trailing "/")
     * in a column of {@link #NAME_COLUMN} characters (a longer name cut, ending "..&gt;"), its time and its size (right
     * aligned; "-" for a directory).
     */
    static String html(String uriPath, List<Entry> entries, boolean exactSize, ZoneId zone) {
        String title = escapeHtml(uriPath);
        StringBuilder out = new StringBuilder(256 + entries.size() * 120);
        out.append("<html>\r\n<head><title>Index of ").append(title).append("</title></head>\r\n<body>\r\n<h1>Index of ")
                .append(title).append("</h1><hr><pre><a href=\"../\">../</a>\r\n");
        for (Entry entry : entries) {
            String name = entry.name();
            // a relative link, all but the unreserved encoded: a ':' left as it is would make javascript:alert(1) a
            // link that runs, and a:b.txt a URL of scheme a (nginx encodes more than that too)
            out.append("<a href=\"").append(RequestTarget.encodeComponent(name)).append(entry.directory() ? "/" : "")
                    .append("\">");
            int length = name.codePointCount(0, name.length());
            if (length > NAME_COLUMN) {
                out.append(escapeHtml(name.substring(0, name.offsetByCodePoints(0, NAME_COLUMN - 3))))
                        .append("..&gt;</a>");
            } else {
                out.append(escapeHtml(name));
                if (entry.directory() && length < NAME_COLUMN) {
                    out.append('/');
                    length++;
                }
                out.append("</a>").append(" ".repeat(NAME_COLUMN - length));
            }
            out.append(' ').append(HTML_TIME.format(Instant.ofEpochMilli(entry.modifiedMillis()).atZone(zone)))
                    .append(' ');
            if (exactSize) {
                out.append(pad(entry.directory() ? "-" : Long.toString(entry.size()), 19));
            } else {
                out.append(entry.directory() ? pad("-", 7) : roundedSize(entry.size()));
            }
            out.append("\r\n");
        }
        return out.append("</pre><hr></body>\r\n</html>\r\n").toString();
    }

    /** nginx's autoindex_exact_size off: bytes up to 9999, else K, M or G, rounded half up, in seven columns. */
    static String roundedSize(long size) {
        long unit;
        char scale;
        if (size >= 1L << 30) {
            unit = 1L << 30;
            scale = 'G';
        } else if (size >= 1L << 20) {
            unit = 1L << 20;
            scale = 'M';
        } else if (size > 9999) {
            unit = 1L << 10;
            scale = 'K';
        } else {
            return pad(Long.toString(size), 7);
        }
        long rounded = size / unit + (size % unit >= unit / 2 ? 1 : 0);
        return pad(Long.toString(rounded), 6) + scale;
    }

    /** The longest JSONP callback name nginx takes. */
    static final int CALLBACK_MAX = 128;

    /**
     * The request's {@code callback} argument (its first, as sent) for a JSONP list, as nginx takes it: "" where it has
     * none (the JSON list alone); null where it is no name a page could call (more than {@link #CALLBACK_MAX}
     * characters, or any but letters, digits, '_' and '.': its text goes into a script), which nginx answers 400.
     */
    static String callback(String query) {
        String callback = RequestTarget.argument(query, "callback");
        if (callback.length() > CALLBACK_MAX) {
            return null;
        }
        for (int i = 0; i < callback.length(); i++) {
            char c = callback.charAt(i);
            if (!(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.')) {
                return null;
            }
        }
        return callback;
    }

    /** nginx's JSON list: name, type, mtime (an HTTP date) and a file's size; nginx's line breaks, none at the end. */
    static String json(List<Entry> entries) {
        StringBuilder out = new StringBuilder(8 + entries.size() * 100).append("[\r\n");
        for (int i = 0; i < entries.size(); i++) {
            Entry entry = entries.get(i);
            if (i > 0) {
                out.append(",\r\n");
            }
            out.append("{ \"name\":\"");
            escapeJson(entry.name(), out);
            out.append("\", \"type\":\"").append(entry.directory() ? "directory" : "file").append("\", \"mtime\":\"")
                    .append(HttpDate.format(entry.modifiedMillis()))
                    .append('"');
            if (!entry.directory()) {
                out.append(", \"size\":").append(entry.size());
            }
            out.append(" }");
        }
        return out.append(entries.isEmpty() ? "]" : "\r\n]").toString();
    }

    /**
     * nginx's XML list: a directory or file element per entry, its name the text, mtime (in UTC, as nginx's whatever
     * its autoindex_localtime) and a file's size attributes.
     */
    static String xml(List<Entry> entries) {
        StringBuilder out = new StringBuilder(32 + entries.size() * 100).append("<?xml version=\"1.0\"?>\r\n<list>\r\n");
        for (Entry entry : entries) {
            String element = entry.directory() ? "directory" : "file";
            ZonedDateTime time = Instant.ofEpochMilli(entry.modifiedMillis() / 1000 * 1000).atZone(ZoneOffset.UTC);
            out.append('<').append(element).append(" mtime=\"").append(XML_TIME.format(time)).append('"');
            if (!entry.directory()) {
                out.append(" size=\"").append(entry.size()).append('"');
            }
            out.append('>').append(escapeHtml(entry.name())).append("</").append(element).append(">\r\n");
        }
        return out.append("</list>\r\n").toString();
    }

    private static String pad(String text, int width) {
        return text.length() >= width ? text : " ".repeat(width - text.length()) + text;
    }

    /** &amp;, &lt;, &gt; and &quot; as entities: text and double-quoted attribute values in HTML and XML. */
    static String escapeHtml(String text) {
        StringBuilder out = null;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            String entity = switch (c) {
                case '&' -> "&amp;";
                case '<' -> "&lt;";
                case '>' -> "&gt;";
                case '"' -> "&quot;";
                default -> null;
            };
            if (entity != null && out == null) {
                out = new StringBuilder(text.length() + 16).append(text, 0, i);
            }
            if (out != null) {
                if (entity != null) {
                    out.append(entity);
                } else {
                    out.append(c);
                }
            }
        }
        return out == null ? text : out.toString();
    }

    private static void escapeJson(String text, StringBuilder out) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '"' || c == '\\') {
                out.append('\\').append(c);
            } else if (c < 0x20) {
                switch (c) {
                    case '\b' -> out.append("\\b");
                    case '\f' -> out.append("\\f");
                    case '\n' -> out.append("\\n");
                    case '\r' -> out.append("\\r");
                    case '\t' -> out.append("\\t");
                    default -> out.append(String.format("\\u%04x", (int) c));
                }
            } else {
                out.append(c);
            }
        }
    }

    private static Executor listers() {
        AtomicInteger threads = new AtomicInteger();
        ThreadPoolExecutor pool = new ThreadPoolExecutor(THREADS, THREADS, 30, TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(WAITING), runnable -> {
                    Thread thread = new Thread(runnable, "edge-autoindex-" + threads.incrementAndGet());
                    thread.setDaemon(true);
                    return thread;
                });
        pool.allowCoreThreadTimeOut(true); // no thread kept where nothing is listed
        return pool;
    }
}
