package io.edge.conf;

import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigIncludeContext;
import com.typesafe.config.ConfigIncluder;
import com.typesafe.config.ConfigIncluderClasspath;
import com.typesafe.config.ConfigIncluderFile;
import com.typesafe.config.ConfigIncluderURL;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigOriginFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigParseable;
import com.typesafe.config.ConfigSyntax;
import java.io.File;
import java.io.IOException;
import java.net.MalformedURLException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * Makes every {@code include} of an edge configuration required, as nginx's {@code include} of a missing file is
 * an error: HOCON skips a plain {@code include "x.conf"} it cannot find, so a misspelt name would leave the
 * settings it holds at their defaults (a {@code status-allow}, a {@code purge-allow}) without a word. A missing
 * one is reported at its line ({@link ParseErrors}). Everything else is Typesafe's own includer, its fallback.
 *
 * <p>A file that cannot be opened (missing, unreadable) is noted and read as empty, so that parsing goes on and the
 * problems in every other file are listed with it; a syntax error or an include cycle still ends the parse.
 *
 * <p>It also notes each file it included, for the checks Typesafe does not make ({@link Utf8Check}), and where it
 * was included, for the order problems are listed in ({@link ReadOrder}).
 */
final class RequiredIncludes implements ConfigIncluder, ConfigIncluderFile, ConfigIncluderURL, ConfigIncluderClasspath {

    /** The extensions of the syntaxes Typesafe reads a name without one as ({@code x} is read as x.conf ...). */
    static final List<String> SYNTAX_EXTENSIONS = List.of(".conf", ".json", ".properties");
    /** What an include of a FIFO or a device is refused for ({@link ParseErrors} words the problem). */
    static final String NOT_REGULAR = "not a regular file";
    /**
     * The most a configuration file may hold: 16 MiB, thousands of times a real one; Typesafe reads a file whole, and a
     * 3 GB one ran the heap out after a minute (OutOfMemoryError, exit 1).
     */
    static final long MAX_FILE = 16L << 20;
    /** What an include of a file past {@link #MAX_FILE} is refused for. */
    static final String TOO_LARGE = "larger than " + (MAX_FILE >> 20) + " MiB";
    /** What an include of a name no file can have ({@code "a\\u0000b"}) is refused for. */
    static final String NOT_A_PATH = "not a valid path";

    /** Typesafe's includer, which parses what is included; given by {@link #withFallback} before any include. */
    private final ConfigIncluder typesafe;
    /** The files included so far, absolute, in the order they were read; shared by every copy of this includer. */
    private final List<Path> included;
    /** The includes that could not be opened, in the order met; shared by every copy of this includer. */
    private final List<Unopened> failed;
    /** The tree of includes, as read; shared by every copy of this includer. */
    private final ReadOrder order;

    /**
     * @param included where the files included are added
     * @param failed   where an include that could not be opened is added
     * @param order    where each include is noted where it is read
     */
    RequiredIncludes(List<Path> included, List<Unopened> failed, ReadOrder order) {
        this(null, included, failed, order);
    }

    private RequiredIncludes(ConfigIncluder typesafe, List<Path> included, List<Unopened> failed, ReadOrder order) {
        this.typesafe = typesafe;
        this.included = included;
        this.failed = failed;
        this.order = order;
    }

    @Override
    public ConfigIncluder withFallback(ConfigIncluder fallback) {
        return fallback == typesafe ? this : new RequiredIncludes(fallback, included, failed, order);
    }

    @Override
    public ConfigObject include(ConfigIncludeContext context, String what) {
        return read(() -> {
            URL url = urlOf(what);
            if (url == null) { // no URL: a file beside the includer (and the classpath), "a:b.conf" too
                File file = besideIncluder(context, new File(what));
                refuseIfNotRegular(file);
                if (isProperties(what)) {
                    // a name Typesafe reads beside its includer is parsed in the includer's syntax: beside a file, read
                    // as a file(...); beside a URL or a resource (no file: relative, it would be read in the working
                    // directory), where Typesafe reads it, as properties
                    if (file.isAbsolute()) {
                        return ((ConfigIncluderFile) typesafe).includeFile(required(context, what), file);
                    }
                    ConfigParseable beside = context.relativeTo(what);
                    if (beside != null) {
                        return beside.parse(required(context, what).parseOptions());
                    }
                }
            } else if ("file".equals(url.getProtocol())) {
                refuseIfNotRegular(ParseErrors.fileOf(url));
            }
            return typesafe.include(required(context, what), what);
        });
    }

    @Override
    public ConfigObject includeFile(ConfigIncludeContext context, File what) {
        File file = besideIncluder(context, what);
        return read(() -> {
            refuseIfNotRegular(file);
            return ((ConfigIncluderFile) typesafe).includeFile(required(context, file.getName()), file);
        });
    }

    /**
     * Throws, as for a file that cannot be opened, if what an include of {@code file} reads (it, or for a name without
     * a syntax's extension name.conf, .json or .properties) exists and is no regular file: a FIFO would hold the read
     * (and a {@code --check-config}, a start, a reload) until something wrote to it; a device, for ever.
     */
    private static void refuseIfNotRegular(File file) {
        List<File> read = new ArrayList<>(List.of(file));
        if (SYNTAX_EXTENSIONS.stream().noneMatch(file.getName()::endsWith)) {
            SYNTAX_EXTENSIONS.forEach(extension -> read.add(new File(file.getPath() + extension)));
        }
        for (File candidate : read) {
            Path path;
            try {
                path = candidate.toPath();
            } catch (InvalidPathException e) {
                throw new ConfigException.IO(ConfigOriginFactory.newFile(file.getPath()), NOT_A_PATH,
                        new IOException(NOT_A_PATH + ": " + e.getReason()));
            }
            if (Files.exists(path) && !Files.isRegularFile(path) && !Files.isDirectory(path)) {
                // named by the file as the include names it, where its problem is placed
                throw new ConfigException.IO(ConfigOriginFactory.newFile(file.getPath()), NOT_REGULAR,
                        new IOException(candidate + ": " + NOT_REGULAR));
            }
            if (Files.isRegularFile(path) && sizeOf(path) > MAX_FILE) {
                throw new ConfigException.IO(ConfigOriginFactory.newFile(file.getPath()), TOO_LARGE,
                        new IOException(TOO_LARGE));
            }
        }
    }

    /** {@code path}'s size; 0 when it cannot be read (its include says why). */
    static long sizeOf(Path path) {
        try {
            return Files.size(path);
        } catch (IOException e) {
            return 0;
        }
    }

    /**
     * {@code what} in the directory of the file that includes it when it is relative, as a bare name is read, as every
     * relative path of edge's is, and as {@link ParseErrors} finds the files includes name: Typesafe reads a relative
     * {@code file(...)} against the working directory, where edge happened to be started. {@code what} itself when the
     * includer is no file (a URL, a resource).
     */
    private static File besideIncluder(ConfigIncludeContext context, File what) {
        if (what.isAbsolute()) {
            return what;
        }
        // An includer that is a file gives its sibling "." (its directory, which exists) as a file; others do not.
        ConfigParseable directory = context.relativeTo(".");
        String name = directory == null ? null : directory.origin().filename();
        return name == null ? what : new File(new File(name).getParentFile(), what.getPath());
    }

    @Override
    public ConfigObject includeURL(ConfigIncludeContext context, URL what) {
        return read(() -> {
            if ("file".equals(what.getProtocol())) { // a file: a FIFO, a device, a large one as any other include's
                refuseIfNotRegular(ParseErrors.fileOf(what));
            }
            return ((ConfigIncluderURL) typesafe).includeURL(required(context, what.getPath()), what);
        });
    }

    /** {@code what} as the URL Typesafe reads a plain include's name as, when it is one; else null. */
    private static URL urlOf(String what) {
        try {
            return new URL(what);
        } catch (MalformedURLException e) {
            return null;
        }
    }

    @Override
    public ConfigObject includeResources(ConfigIncludeContext context, String what) {
        return read(() -> ((ConfigIncluderClasspath) typesafe).includeResources(required(context, what), what));
    }

    /**
     * An include that could not be opened.
     *
     * @param at    where it is in the read order: its includer, and how many includes that met before it
     * @param error what Typesafe threw (for {@link ParseErrors#describe})
     */
    record Unopened(ReadOrder.Include at, ConfigException error) {
    }

    /**
     * Reads an include with {@code include}, placed in the read order (every include is, so that the includes of one
     * file are placed in the order written); one that cannot be opened is noted and read as nothing.
     */
    private ConfigObject read(Supplier<ConfigObject> include) {
        ReadOrder.Include placed = order.enter();
        try {
            return noted(placed, include.get());
        } catch (ConfigException.IO e) {
            failed.add(new Unopened(placed, e));
            return ConfigFactory.empty("an include that could not be opened").root();
        } catch (ConfigException.BugOrBroken e) {
            // a URL that could not be fetched (connection refused, unknown host, a 5xx): a problem at its directive,
            // as a missing file is, and the rest of the configuration is still read and judged
            if (!ParseErrors.isUrlFailure(e)) {
                throw e;
            }
            failed.add(new Unopened(placed, e));
            return ConfigFactory.empty("an include that could not be fetched").root();
        } finally {
            order.leave(placed);
        }
    }

    /**
     * {@code object}, its file noted as what {@code include} read: an included file's object has that file for
     * origin (a URL's or resource's none).
     */
    private ConfigObject noted(ReadOrder.Include include, ConfigObject object) {
        String file = object.origin().filename();
        if (file != null) {
            Path path = Path.of(file).toAbsolutePath().normalize();
            included.add(path);
            order.read(include, path);
        }
        return object;
    }

    /**
     * {@code context} for an include of {@code name} that must exist. A name ending in .properties is read as a
     * properties file, as Typesafe reads one anywhere else: its syntax is otherwise the main file's, HOCON, which the
     * loader sets (a main file named .json is read as HOCON too), and which includes inherit.
     */
    private static ConfigIncludeContext required(ConfigIncludeContext context, String name) {
        ConfigParseOptions options = context.parseOptions().setAllowMissing(false);
        return context.setParseOptions(isProperties(name) ? options.setSyntax(ConfigSyntax.PROPERTIES) : options);
    }

    /** Whether a file named {@code name} is a properties file, by its extension. */
    static boolean isProperties(String name) {
        return name != null && name.toLowerCase(Locale.ROOT).endsWith(".properties");
    }
}
