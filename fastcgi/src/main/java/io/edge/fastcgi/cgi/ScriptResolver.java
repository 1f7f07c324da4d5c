package io.edge.fastcgi.cgi;

import io.edge.fastcgi.regex.BoundedMatch;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Maps a request path to the script that answers it, safely by default.
 *
 * <ol>
 *   <li>The path is split by {@code splitPathInfo} (nginx {@code fastcgi_split_path_info}: group 1 is the
 *       script name, group 2, if any, the PATH_INFO). The default splits after the first segment ending in
 *       {@code .php} that is no directory: {@code /a.php/b.php/c} runs {@code /a.php} with PATH_INFO
 *       {@code /b.php/c}, {@code /dir.php/index.php} runs {@code /dir.php/index.php}. Where another split does not
 *       match, the path is the script name, PATH_INFO empty, as nginx's, but only for a path the split would take
 *       whole as one, of a path below it ({@code /a.phtml} under {@code ^(.+?\.phtml)(/.*)$}): any other path has no
 *       script part. A script name is the path's start (group 1 at index 0, not empty), else the split names
 *       none.</li>
 *   <li>A line break or NUL in the path is {@link Rejected} (CVE-2019-11043 rides on a newline in
 *       PATH_INFO).</li>
 *   <li>The script must be an existing regular file under the root; otherwise it is not a script. Nothing
 *       else is ever handed to PHP as a script, so {@code /uploads/a.jpg/x.php} never runs a JPEG.</li>
 *   <li>With a front controller configured ({@code try_files $uri $uri/ /index.php?$query}): an existing
 *       file is a {@link StaticFile} (not for a path that ends in '/': that names a directory), a directory is a
 *       {@link StaticFile} for the static path to index (a {@code .php} file the split names no script is {@link
 *       NotFound}, never its source), and anything else runs the front controller with the original
 *       query and an empty PATH_INFO, but for a path with a script part (step 1) that names no script: that is {@link
 *       NotFound}, as nginx's PHP location answers a missing script (a directory too, where it is told to count none:
 *       {@code try_files $uri /index.php}). Without one, a directory is still a {@link
 *       StaticFile} (its index script is the caller's to run, as nginx's {@code index} does), and anything else that
 *       is no script is {@link NotFound}. Either way a directory named as a script is {@link NotFound}: by a path
 *       the split takes whole as a script name, of itself or of a path below it ({@code /dir.php} by default, nginx's
 *       {@code ~ \.php$}; {@code /dir.phtml} for a split on {@code .phtml}, where {@code /dir.php} is a directory like
 *       any other). {@code /dir.php/} is the directory.</li>
 *   <li>A script, request path or front controller the probe calls {@link FileProbe.Kind#FORBIDDEN} (the
 *       site's dotfile or link policy refuses it) is {@link Forbidden}: it neither runs nor falls through to
 *       the front controller, so the answer is the static path's 403 for the same path.</li>
 * </ol>
 *
 * <p>Checks touch the filesystem through {@link FileProbe}; give it a cached probe (or call off the event
 * loop) where a blocking {@code stat} matters. The probe also carries the site's dotfile and link policy:
 * {@link FileProbe#FILESYSTEM} has none (it follows links anywhere).
 */
public final class ScriptResolver {

    /** Splits after the first path segment ending in ".php". */
    public static final Pattern DEFAULT_SPLIT = Pattern.compile("^(.+?\\.php)(/.*)?$");

    private final Path root;
    /** The request paths the root stands for: "/", or an alias's prefix ("/phpmyadmin/"), each path named past it. */
    private final String uriPrefix;
    private final Pattern splitPathInfo;
    private final String frontController;
    /** With {@link #frontController}: whether an existing directory answers before it ($uri/ in nginx's try_files). */
    private final boolean frontControllerDirectories;
    private final FileProbe probe;

    /**
     * @param root            the document root (absolute)
     * @param splitPathInfo   two groups: script name, PATH_INFO (group 2 optional)
     * @param frontController e.g. "/index.php", or null for no try-files fallback
     * @param probe           how files are looked at
     */
    public ScriptResolver(Path root, Pattern splitPathInfo, String frontController, FileProbe probe) {
        this(root, "/", splitPathInfo, frontController, probe);
    }

    /**
     * As above, for a root that stands for the paths below {@code uriPrefix} alone (nginx's {@code alias}, {@code
     * location /phpmyadmin/ { alias /usr/share/phpmyadmin/; }}): a path's file is the root and what follows the prefix
     * ({@code /phpmyadmin/sub/a.php} is {@code sub/a.php} in it), a path outside the prefix names none. Script names
     * stay the request's paths (SCRIPT_NAME {@code /phpmyadmin/sub/a.php}, as nginx's {@code $fastcgi_script_name}).
     *
     * @param uriPrefix "/" or a prefix starting and ending with '/'
     */
    public ScriptResolver(Path root, String uriPrefix, Pattern splitPathInfo, String frontController,
                          FileProbe probe) {
        this(root, uriPrefix, splitPathInfo, frontController, true, probe);
    }

    /**
     * As above; {@code frontControllerDirectories} false: with a front controller, an existing directory (with or
     * without its slash) is none of a path's answers, and the front controller runs for it as for a missing path,
     * nginx's {@code try_files $uri /index.php} (without {@code $uri/}).
     */
    public ScriptResolver(Path root, String uriPrefix, Pattern splitPathInfo, String frontController,
                          boolean frontControllerDirectories, FileProbe probe) {
        if (!uriPrefix.startsWith("/") || !uriPrefix.endsWith("/")) {
            throw new IllegalArgumentException("uriPrefix: " + uriPrefix + " (expected: starting and ending with /)");
        }
        this.uriPrefix = uriPrefix;
        this.root = root.toAbsolutePath().normalize();
        this.splitPathInfo = Objects.requireNonNull(splitPathInfo, "splitPathInfo");
        this.frontController = frontController;
        this.frontControllerDirectories = frontControllerDirectories;
        this.probe = Objects.requireNonNull(probe, "probe");
    }

    public ScriptResolver(Path root, String frontController) {
        this(root, DEFAULT_SPLIT, frontController, FileProbe.FILESYSTEM);
    }

    /** Outcome of {@link #resolve}. */
    public sealed interface Resolution permits Script, StaticFile, NotFound, Rejected, Forbidden, SplitGaveUp {
    }

    /**
     * Run this script.
     *
     * @param documentUri the path the script was chosen for (nginx {@code $document_uri})
     * @param query       the query string to pass
     */
    public record Script(Path documentRoot, Path scriptFilename, String scriptName, String pathInfo,
            String documentUri, String query) implements Resolution {
    }

    /** Not a script: an existing file or directory the static path should answer. */
    public record StaticFile(Path file, boolean directory) implements Resolution {
    }

    /** Nothing to run: 404. */
    public record NotFound(String reason) implements Resolution {
    }

    /**
     * The split backtracked past {@link BoundedMatch#PATH_STEPS} reads of the path (or deeper than the stack), as
     * PCRE's match limit stops nginx's: the path has no script part, 404, and the split is worth a warning.
     */
    public record SplitGaveUp(String reason) implements Resolution {

        /** That of {@code split} on {@code path}, which it took for {@code outcome} ("no script"). */
        static SplitGaveUp of(Pattern split, String path, String outcome) {
            return new SplitGaveUp("split-path-info \"" + split.pattern() + "\" gave up on a path of " + path.length()
                    + " characters (past " + BoundedMatch.PATH_STEPS + " steps, or too deep): " + outcome + "; a split"
                    + " that backtracks less would not");
        }
    }

    /** A path no backend may see: 400. */
    public record Rejected(String reason) implements Resolution {
    }

    /** A path the site's dotfile or link policy refuses: 403, as the static path answers it. */
    public record Forbidden(String reason) implements Resolution {

        /** That of {@code what} ("script /a.php"), which the probe refused ({@link FileProbe.Kind#FORBIDDEN}). */
        public static Forbidden refused(String what) {
            // the probe does not tell a link or a dotfile from a directory edge's user may not search
            return new Forbidden(what + " refused by the site's dotfile or link policy, or by a permission");
        }
    }

    /**
     * @param path  decoded, normalised, starting with '/'
     * @param query the raw query string, "" when none
     */
    /**
     * {@code scriptName} (a normalised path) as the script, whatever the request's path and whether a file has that
     * name: a location's fixed script, php-fpm's status page or ping, which php-fpm answers without one, or a named
     * location's application script. PATH_INFO is empty, DOCUMENT_URI {@code documentUri}; nothing is looked at but the
     * root's real path.
     */
    public Resolution fixed(String scriptName, String documentUri, String query) {
        Path file = underRoot(scriptName);
        return file == null ? new NotFound("no file may be named " + scriptName)
                : script(file, scriptName, "", documentUri, query);
    }

    public Resolution resolve(String path, String query) {
        if (!path.startsWith("/")) {
            return new Rejected("path: " + path + " (expected: starting with /)");
        }
        for (int i = 0; i < path.length(); i++) {
            char c = path.charAt(i);
            if (c == '\n' || c == '\r' || c == '\0') {
                return new Rejected("path: contains " + (c == '\0' ? "NUL" : "a line break")
                        + " (expected: none, CVE-2019-11043)");
            }
        }
        String scriptName = null;
        String pathInfo = "";
        Path scriptFile = null;
        FileProbe.Kind scriptKind = FileProbe.Kind.MISSING;
        if (splitPathInfo == DEFAULT_SPLIT) {
            // past the prefix: an alias's ("/app.php/") names no file, and its ".php" no script
            for (int end = defaultScriptEnd(path, uriPrefix.length()); end > 0; end = defaultScriptEnd(path, end)) {
                // A directory named so ("/dir.php/index.php") is a step of the path: the script is further on, as
                // lighttpd's and Apache's search for it finds. Split at it, /dir.php/ was no script, and its index,
                // /dir.php/index.php, went to the front controller.
                Path file = underRoot(path.substring(0, end));
                FileProbe.Kind kind = kindOf(file);
                if (kind != FileProbe.Kind.DIRECTORY) {
                    scriptName = path.substring(0, end);
                    pathInfo = path.substring(end);
                    scriptFile = file;
                    scriptKind = kind;
                    break;
                }
            }
        } else {
            // one budget for the split's tries on this path (three at most), as for a site's location regexes
            BoundedMatch.Budgeted budgeted = BoundedMatch.budgeted(path, BoundedMatch.PATH_STEPS);
            try {
                Matcher m = BoundedMatch.whole(splitPathInfo, budgeted);
                if (splits(m)) {
                    scriptName = m.group(1);
                    pathInfo = m.groupCount() >= 2 && m.group(2) != null ? m.group(2) : "";
                } else if (namesScript(splitPathInfo, budgeted)) {
                    // nginx's split that does not match (^(.+?\.php)(/.*)$ of /a.php) leaves the path the script name
                    scriptName = path;
                }
            } catch (BoundedMatch.GaveUpException e) {
                return SplitGaveUp.of(splitPathInfo, path, "no script");
            }
            if (scriptName != null) {
                scriptFile = underRoot(scriptName);
                scriptKind = kindOf(scriptFile);
            }
        }
        if (scriptKind == FileProbe.Kind.FILE) {
            return script(scriptFile, scriptName, pathInfo, path, query);
        }
        if (scriptKind == FileProbe.Kind.FORBIDDEN) {
            return Forbidden.refused("script " + scriptName);
        }
        if (scriptName != null && scriptKind != FileProbe.Kind.DIRECTORY) {
            // A script asked for that is not there (/wp-login.php, /missing.php/x, /uploads/a.jpg/x.php) is 404, as
            // nginx's PHP location answers it (try_files $uri =404; else php-fpm's "File not found."), never the front
            // controller's: a scanner's thousands of probes would each boot the application, which answers them 200.
            return new NotFound("no script " + scriptName);
        }
        Path asIs = underRoot(path);
        FileProbe.Kind kind = kindOf(asIs);
        if (kind == FileProbe.Kind.DIRECTORY && namesScript(path)) {
            // Asked for as a script (/dir.php), a directory is none: 404, as nginx's ~ \.php$ location answers it
            // (try_files $uri =404 wants a file; without it php-fpm's "No input file specified."), never a redirect to
            // /dir.php/. Named as a directory (/dir.php/) it is indexed, and a path below it is one like any other.
            return new NotFound("directory " + path + " named as a script");
        }
        if (frontController == null) {
            // A directory is still answered, as nginx's index answers it without any try_files: the caller looks
            // for its index script (or hands it to the static path).
            return kind == FileProbe.Kind.DIRECTORY ? new StaticFile(asIs, true) : new NotFound("no script for " + path);
        }
        // A Path drops the trailing '/', so "/a.jpg/" would find the file a.jpg: a file is no match for it (stat says
        // ENOTDIR, as nginx's try_files finds), and the front controller answers it.
        if (kind == FileProbe.Kind.FILE && scriptName == null && !path.endsWith("/")) {
            // A .php file another split names no script (/x.php under a split on .phtml) is still PHP's source
            return splitPathInfo != DEFAULT_SPLIT && path.endsWith(".php")
                    ? new NotFound("no script for " + path + " by the split, and never sent as a file")
                    : new StaticFile(asIs, false);
        }
        if (kind == FileProbe.Kind.DIRECTORY && frontControllerDirectories) {
            return new StaticFile(asIs, true);
        }
        if (kind == FileProbe.Kind.FORBIDDEN) {
            return Forbidden.refused(path);
        }
        Path controller = underRoot(frontController);
        FileProbe.Kind controllerKind = kindOf(controller);
        if (controllerKind == FileProbe.Kind.FILE) {
            return script(controller, frontController, "", frontController, query);
        }
        if (controllerKind == FileProbe.Kind.FORBIDDEN) {
            return Forbidden.refused("front controller " + frontController);
        }
        return new NotFound("no script for " + path + " and no front controller " + frontController);
    }

    /**
     * {@link #DEFAULT_SPLIT} without a regex (it was a few per cent of a PHP request's CPU): the end of the first
     * {@code .php} with at least one character before it that ends the path or a segment, else -1. The path
     * holds no line break (checked before), so {@code .} of the pattern matches every character.
     */
    static int defaultScriptEnd(String path) {
        return defaultScriptEnd(path, 1);
    }

    /** As {@link #defaultScriptEnd(String)}, for a {@code .php} that starts at {@code from} or after. */
    private static int defaultScriptEnd(String path, int from) {
        int at = path.indexOf(".php", from);
        while (at >= 0) {
            int end = at + 4;
            if (end == path.length() || path.charAt(end) == '/') {
                return end;
            }
            at = path.indexOf(".php", at + 1);
        }
        return -1;
    }

    /**
     * Whether the split takes {@code path} whole as a script name: of the path itself, or of a path below it (with
     * a PATH_INFO, which a split such as {@code ^(.+\.php)(/.+)$} requires). By default, a path ending in {@code .php}.
     */
    private boolean namesScript(String path) {
        if (splitPathInfo == DEFAULT_SPLIT) {
            return path.endsWith(".php");
        }
        try {
            return namesScript(splitPathInfo, BoundedMatch.budgeted(path, BoundedMatch.PATH_STEPS));
        } catch (BoundedMatch.GaveUpException e) {
            return true; // as hasScriptPart: what may be a script is never sent as a file
        }
    }

    /** As {@link #namesScript(String)}, for any split, within what is left of the path's budget. */
    private static boolean namesScript(Pattern split, BoundedMatch.Budgeted path) {
        int length = path.length();
        return scriptNameEnd(split, path) == length || scriptNameEnd(split, path.then(path + "/x")) == length;
    }

    /**
     * Whether {@code split} finds a script part in {@code path} (which need not name a file): it matches with a
     * script name, or takes the path whole as one (a split that does not match, {@link #resolve}). A split that gives
     * up on the path ({@link BoundedMatch#PATH_STEPS}) finds one: what may be a script is never sent as a file; {@code
     * gaveUp} is told why, for the caller's warning (as {@link #resolve}'s {@link SplitGaveUp} is said).
     */
    public static boolean hasScriptPart(Pattern split, String path, Consumer<SplitGaveUp> gaveUp) {
        BoundedMatch.Budgeted budgeted = BoundedMatch.budgeted(path, BoundedMatch.PATH_STEPS);
        try {
            return scriptNameEnd(split, budgeted) > 0 || namesScript(split, budgeted);
        } catch (BoundedMatch.GaveUpException e) {
            gaveUp.accept(SplitGaveUp.of(split, path, "taken for a script, never sent as a file"));
            return true;
        }
    }

    /** Where the split's script name ends in {@code path}, or -1: the split does not match, or names no path. */
    private static int scriptNameEnd(Pattern split, BoundedMatch.Budgeted path) {
        Matcher m = BoundedMatch.whole(split, path);
        return splits(m) ? m.end(1) : -1;
    }

    /**
     * Whether {@code m}, a split's match of a whole path or null, names a script, a path from the start: a split whose
     * first group may take none, or not the path's first "/" ({@code ^(.*)(/.*)$}, {@code ^/(.+)$}), names none.
     */
    private static boolean splits(Matcher m) {
        return m != null && m.group(1) != null && m.start(1) == 0 && !m.group(1).isEmpty();
    }

    /** What the probe says {@code file} is; missing for no file ({@link #underRoot} found none). */
    private FileProbe.Kind kindOf(Path file) {
        return file == null ? FileProbe.Kind.MISSING : probe.kind(file);
    }

    /** A script to run, named to the backend under the root as the probe has it now ({@link FileProbe#backendRoot}). */
    private Script script(Path file, String scriptName, String pathInfo, String documentUri, String query) {
        Path backendRoot = probe.backendRoot(root);
        Path scriptFilename = backendRoot == root ? file : backendRoot.resolve(root.relativize(file));
        return new Script(backendRoot, scriptFilename, scriptName, pathInfo, documentUri, query);
    }

    /**
     * The file a path names under the root, or null: above the root, outside the prefix the root stands for, or a name
     * no file here has (a path of bytes that are not UTF-8, kept as escapes the JVM cannot write as a file name):
     * missing, so a front controller answers it, as nginx's {@code try_files} would for a file not there.
     */
    private Path underRoot(String urlPath) {
        if (!urlPath.startsWith(uriPrefix)) {
            return null;
        }
        Path p;
        try {
            p = root.resolve(urlPath.substring(uriPrefix.length())).normalize();
        } catch (InvalidPathException e) {
            return null;
        }
        return p.startsWith(root) ? p : null;
    }

    /** Looks at a file under the root, as the site's policy lets it be seen. */
    public interface FileProbe {

        /**
         * What a path is. {@code FORBIDDEN}: the site's policy refuses it (a dotfile segment, a link it does not
         * follow or that leaves the root, no permission), whatever lies there.
         */
        enum Kind { FILE, DIRECTORY, OTHER, MISSING, FORBIDDEN }

        /** @param path absolute, normalised, under the root */
        Kind kind(Path path);

        /**
         * The root as the backend is told it (DOCUMENT_ROOT, and SCRIPT_FILENAME under it). By default the root as
         * given; a probe that follows the root's real path gives that (nginx's {@code $realpath_root}), so that a
         * deploy switching a link on the way to the root ({@code current -> releases/42}) is a new path for PHP's
         * realpath cache and opcache, which would otherwise keep running the old release's files.
         */
        default Path backendRoot(Path root) {
            return root;
        }

        /** The file system with no policy: links are followed anywhere, dotfiles are files. */
        FileProbe FILESYSTEM = path -> {
            try {
                BasicFileAttributes a = Files.readAttributes(path, BasicFileAttributes.class);
                return a.isRegularFile() ? Kind.FILE : a.isDirectory() ? Kind.DIRECTORY : Kind.OTHER;
            } catch (NoSuchFileException e) {
                return Kind.MISSING;
            } catch (IOException e) {
                return Kind.OTHER;
            }
        };

        /** Like {@link #FILESYSTEM} but a symlink is never a file or directory. */
        FileProbe NO_SYMLINKS = path -> {
            try {
                BasicFileAttributes a = Files.readAttributes(path, BasicFileAttributes.class,
                        LinkOption.NOFOLLOW_LINKS);
                return a.isRegularFile() ? Kind.FILE : a.isDirectory() ? Kind.DIRECTORY : Kind.OTHER;
            } catch (NoSuchFileException e) {
                return Kind.MISSING;
            } catch (IOException e) {
                return Kind.OTHER;
            }
        };
    }
}
