package io.edge.conf;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigOrigin;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigSyntax;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import io.edge.fastcgi.spawn.PhpFpmSupervisor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiFunction;

/**
 * Reads an {@code edge.conf} over the defaults in {@code reference.conf}, checks all of it and maps it
 * onto {@link EdgeSettings}.
 *
 * <p>Every problem is collected before anything is thrown: unknown keys (with the nearest known key
 * suggested), wrong types, bad durations and sizes, values out of range, unknown enum values, missing or
 * nonexistent directories, bad location matches, references to undefined backends, bytes that are not UTF-8 and
 * lines ended by CR alone in the file or a file it includes. Each names the file and line where the value was written.
 * A value that one file sets twice in one object is no problem but a warning ({@link EdgeSettings#warnings}), as are
 * backend groups that name one address (their max-connections add up at its php-fpm).
 *
 * <p>Relative paths in the file are resolved against the file's directory. When {@code server.run-dir} is
 * {@code ""} and a backend is spawned, each load (but a {@link #checkOnly()} one) creates a fresh directory
 * under the system temporary directory ({@code edge-*}, marked with this process's pid: {@link TemporaryRunDir});
 * the server owns it from then on. Otherwise the
 * run directory is a name that does not exist, and nothing is created. A directory made so is marked
 * {@link ServerSettings#runDirTemporary()}: the server deletes it when it stops. System properties do not override the file: the file alone says what
 * the server does.
 */
public final class ConfigLoader {

    /** How long an {@code include url(...)} may take to connect, and then between two reads, in milliseconds. */
    static final int URL_INCLUDE_TIMEOUT_MILLIS = 10_000;

    static {
        // Typesafe fetches an include url(...) through the JDK's URL connection, which waits for ever by default: a
        // server that takes the connection and never answers held a --check-config, and a reload, for good. Its
        // defaults are these properties, read once, before the first such connection; one the command line set stays.
        for (String timeout : new String[] {"sun.net.client.defaultConnectTimeout", "sun.net.client.defaultReadTimeout"}) {
            if (System.getProperty(timeout) == null) {
                System.setProperty(timeout, String.valueOf(URL_INCLUDE_TIMEOUT_MILLIS));
            }
        }
    }

    private final boolean createRunDir;
    /** The temporary run directory a running server already has, which a reload's {@code run-dir = ""} keeps. */
    private final Path runningTemporaryRunDir;
    /** Whether the server runs as root: a spawn's user and group are applied, so must exist. */
    private final boolean root;

    /** A loader for a server that will run: it makes the temporary run directory when one is needed. */
    public ConfigLoader() {
        this(true, null, PhpFpmSupervisor.runningAsRoot());
    }

    private ConfigLoader(boolean createRunDir, Path runningTemporaryRunDir, boolean root) {
        this.createRunDir = createRunDir;
        this.runningTemporaryRunDir = runningTemporaryRunDir;
        this.root = root;
    }

    /**
     * This loader for a server that runs as root ({@code true}) or as another user, whatever this process runs as
     * (by default, as this process): only a server that runs as root applies a spawn's user and group, so only for
     * one must they be accounts of this machine.
     */
    public ConfigLoader asRoot(boolean root) {
        return new ConfigLoader(createRunDir, runningTemporaryRunDir, root);
    }

    /**
     * A loader for a configuration reloaded into a running server: {@code run-dir = ""} names {@code temporaryRunDir},
     * the temporary run directory made for that server (its spawned php-fpm sockets are there), instead of a new
     * one; one is made only when {@code temporaryRunDir} is null (the server has none yet).
     */
    public static ConfigLoader forReload(Path temporaryRunDir) {
        return new ConfigLoader(true, temporaryRunDir, PhpFpmSupervisor.runningAsRoot());
    }

    /**
     * A loader that only checks ({@code --check-config}): it creates nothing, and a temporary run directory is
     * a name that was never made.
     */
    public static ConfigLoader checkOnly() {
        return new ConfigLoader(false, null, PhpFpmSupervisor.runningAsRoot());
    }

    /**
     * More levels of objects and lists than any configuration needs, fewer than the stack holds: a file nested deeper
     * where the stack ran out is where it did.
     */
    private static final int MANY_LEVELS = 1000;

    /** Objects whose keys are the user's to choose; every other object's keys are checked. */
    private static final Set<String> FREE_MAPS = Set.of("edge.mime-types", "edge.fastcgi.backends",
            "edge.proxy.backends", "edge.server.maps", "edge.location-defaults.proxy-headers");

    /**
     * Loads and checks {@code file}.
     *
     * @throws ConfigException with every problem found, when there is at least one
     */
    public EdgeSettings load(Path file) throws ConfigException {
        try {
            return loadChecked(file);
        } catch (StackOverflowError e) {
            // Typesafe parses, merges and resolves by recursion, one frame per level of nesting or substitution:
            // a file deeper than the stack holds is a problem with the file, not a crash. Nothing was made yet.
            Path absolute = file.toAbsolutePath();
            String expected = "fewer levels of objects or lists one inside another, or a shorter chain of substitutions";
            ParseErrors.Depth deepest = ParseErrors.deepest(absolute);
            if (deepest != null && deepest.levels() > MANY_LEVELS) {
                throw new ConfigException(List.of(new ConfigProblem(absolute, deepest.line(), null,
                        "is nested too deeply to be read: " + deepest.levels() + " levels of objects and lists here",
                        expected)));
            }
            // deep elsewhere: in a chain of substitutions, or in what the file includes
            throw new ConfigException(List.of(new ConfigProblem(absolute, 0, null, "is nested too deeply to be read",
                    expected)));
        }
    }

    private EdgeSettings loadChecked(Path file) throws ConfigException {
        if (file.toString().isEmpty()) {
            Problems problems = new Problems(file);
            problems.add(new ConfigProblem(file, 0, null, "the configuration path is empty",
                    "-c FILE naming a HOCON configuration file"));
            throw new ConfigException(problems.sorted());
        }
        // Absolute: every problem names the file one way (Typesafe's origins are absolute), and an include in a
        // file named without a directory ("edge.conf", -c's default) is found beside it.
        file = file.toAbsolutePath();
        Problems problems = new Problems(file);
        if (!Files.isRegularFile(file)) {
            String why = SettingsMapper.reasonNoFile(file, "is not a regular file");
            problems.add(new ConfigProblem(file, 0, null, why.equals(SettingsMapper.MISSING) ? "no such file" : why,
                    "a HOCON configuration file"));
            throw new ConfigException(problems.sorted());
        }
        if (!Files.isReadable(file)) {
            problems.add(new ConfigProblem(file, 0, null, "cannot be read", "a file readable by this user"));
            throw new ConfigException(problems.sorted());
        }
        if (RequiredIncludes.isProperties(file.getFileName().toString())) {
            // Read as HOCON, "edge.server.listen.0=127.0.0.1:80" is a syntax error naming no key, and
            // "edge.sites.0.root" an object where a list is expected: say what the file is taken for instead
            problems.add(new ConfigProblem(file, 0, null, "is a .properties file, which edge does not read",
                    "a HOCON configuration file (.conf; JSON is HOCON too)"));
            throw new ConfigException(problems.sorted());
        }
        if (RequiredIncludes.sizeOf(file) > RequiredIncludes.MAX_FILE) {
            problems.add(new ConfigProblem(file, 0, null, "is " + RequiredIncludes.TOO_LARGE,
                    "a HOCON configuration file of at most " + (RequiredIncludes.MAX_FILE >> 20) + " MiB"));
            throw new ConfigException(problems.sorted());
        }
        Config user;
        Config merged;
        Config reference = ConfigFactory.parseResourcesAnySyntax(ConfigLoader.class.getClassLoader(), "reference");
        List<Path> read = new ArrayList<>(List.of(file));
        List<RequiredIncludes.Unopened> unopened = new ArrayList<>();
        ReadOrder order = new ReadOrder(file);
        try {
            user = ConfigFactory.parseFile(file.toFile(),
                    ConfigParseOptions.defaults().setSyntax(ConfigSyntax.CONF).setAllowMissing(false)
                            .appendIncluder(new RequiredIncludes(read, unopened, order)));
            problems.readIn(order);
            addIncludeProblems(unopened, file, problems);
            merged = Substitutions.resolve(user, reference, problems);
        } catch (com.typesafe.config.ConfigException e) {
            problems.readIn(order);
            addIncludeProblems(unopened, file, problems);
            ConfigOrigin failed = e.origin();
            if (failed != null && failed.filename() != null) { // a syntax error in a file whose include did not return
                read.add(Path.of(failed.filename()).toAbsolutePath().normalize());
            }
            // A syntax error ends Typesafe's parse: the files it did not reach, and those after the error, are
            // parsed each on its own, so that every file's syntax error is listed at once.
            Map<Path, List<Integer>> reached = ParseErrors.filesReachedFrom(file);
            problems.readAlsoAt(reached);
            read.addAll(reached.keySet());
            checkLineEnds(read, problems); // before the syntax error it explains, when that is at the same line
            ConfigProblem thrown = ParseErrors.describe(e, file);
            problems.add(thrown);
            for (Path other : reached.keySet()) {
                ParseErrors.unopenedIncludes(other).forEach(problems::add);
                ConfigProblem syntax = ParseErrors.syntaxError(other);
                if (syntax != null && !(e instanceof com.typesafe.config.ConfigException.Parse
                        && sameFile(syntax.file(), thrown.file()))) {
                    problems.add(syntax);
                }
            }
            checkUtf8(read, problems);
            checkSemicolons(read, problems);
            throw new ConfigException(problems.sorted());
        }
        checkLineEnds(read, problems);
        checkUtf8(read, problems);
        checkSemicolons(read, problems);
        ConfigObject referenceEdge = (ConfigObject) reference.resolve().root().get("edge");

        UnknownKeys.check(merged.root(), reference.root(), "", Set.of(), FREE_MAPS, defaultsNeighbours(reference),
                problems);
        ConfigValue edgeValue = merged.root().get("edge");
        if (edgeValue == null || edgeValue.valueType() != ConfigValueType.OBJECT) {
            problems.add(edgeValue == null ? null : edgeValue.origin(), "edge", "is not an object", "edge { ... }");
            throw new ConfigException(problems.sorted());
        }
        ConfigValue userEdge = user.root().get("edge");
        ConfigOrigin anchor = userEdge != null ? userEdge.origin() : user.root().origin();
        Section edge = new Section((ConfigObject) edgeValue, "edge", anchor, problems);

        Path source = file.toAbsolutePath().normalize();
        // Mapped first against a name as long as any the temporary directory could get (spawned backends'
        // socket paths, whose length is checked, live in it); nothing is created unless something needs it.
        Path placeholder = temporaryRunDirPlaceholder();
        EdgeSettings settings =
                new SettingsMapper(problems, source.getParent(), placeholder, false, referenceEdge, root)
                        .map(edge, source);
        List<ConfigProblem> warnings = new ArrayList<>(DuplicateKeys.in(file, read));
        warnings.addAll(settings.warnings());
        warnings = problems.inReadOrder(warnings);
        if (!problems.isEmpty()) {
            throw new ConfigException(problems.sorted(), warnings);
        }
        boolean spawns = settings.backends().values().stream().anyMatch(b -> b.spawn() != null);
        if (!spawns || !settings.server().runDir().equals(placeholder)) {
            return settings.withWarnings(warnings);
        }
        if (!createRunDir) {
            // --check-config makes none, but says whether the start could (it said ok, and the start refused)
            String refused = runningTemporaryRunDir != null ? null
                    : SettingsMapper.directoryRefused(TemporaryRunDir.parent());
            if (refused != null) {
                throw new ConfigException(noTemporaryRunDir(edge, problems, refused));
            }
            return settings.withWarnings(warnings);
        }
        Path runDir;
        try {
            runDir = runningTemporaryRunDir != null ? runningTemporaryRunDir
                    : TemporaryRunDir.create(TemporaryRunDir.parent());
        } catch (IOException | RuntimeException e) {
            throw new ConfigException(noTemporaryRunDir(edge, problems, SettingsMapper.reason(e)));
        }
        Problems again = new Problems(file);
        again.readIn(order);
        settings = new SettingsMapper(again, source.getParent(), runDir, true, referenceEdge, root)
                .map(new Section((ConfigObject) edgeValue, "edge", anchor, again), source);
        if (!again.isEmpty()) { // cannot happen: the real name is no longer than the placeholder
            try {
                if (runningTemporaryRunDir == null) {
                    Files.deleteIfExists(runDir.resolve(TemporaryRunDir.MARKER));
                    Files.deleteIfExists(runDir);
                }
            } catch (IOException e) {
                // left behind; the problems say what matters
            }
            throw new ConfigException(again.sorted());
        }
        return settings.withWarnings(warnings);
    }

    /**
     * site-defaults' and location-defaults' keys, each the other's neighbour: a location's key written under
     * site-defaults (gzip, expires) is said to belong under location-defaults, and a site's under location-defaults
     * (index) under site-defaults, as in a site and a location themselves.
     */
    private static Map<String, UnknownKeys.Neighbour> defaultsNeighbours(Config reference) {
        ConfigObject edge = (ConfigObject) reference.root().get("edge");
        ConfigObject sites = (ConfigObject) edge.get("site-defaults");
        ConfigObject locations = (ConfigObject) edge.get("location-defaults");
        return Map.of("edge.site-defaults", new UnknownKeys.Neighbour(locations, "a location's",
                        "under location-defaults, or in the sites' locations"),
                "edge.location-defaults", new UnknownKeys.Neighbour(sites, "a site's",
                        "under site-defaults, or in the sites"));
    }

    /** {@code problems} with the one of a spawned php-fpm's temporary run directory that cannot be made ({@code why}). */
    private static List<ConfigProblem> noTemporaryRunDir(Section edge, Problems problems, String why) {
        edge.section("server").problem("run-dir", "\"\" needs a temporary directory, and none could be made under "
                        + TemporaryRunDir.parent() + " (" + why + ")",
                "run-dir set to a writable directory, or -Djava.io.tmpdir naming one");
        return problems.sorted();
    }

    private static boolean sameFile(Path a, Path b) {
        return a.toAbsolutePath().normalize().equals(b.toAbsolutePath().normalize());
    }

    /** Reports each include that could not be opened (read as empty, so that the rest is checked), at its line. */
    private static void addIncludeProblems(List<RequiredIncludes.Unopened> unopened, Path file, Problems problems) {
        for (RequiredIncludes.Unopened include : unopened) {
            problems.add(ParseErrors.describe(include, file));
        }
        unopened.clear();
    }

    /** Reports each of {@code files} (each once) with a line ended by CR alone, which Typesafe read as no line end. */
    private static void checkLineEnds(List<Path> files, Problems problems) {
        checkBytes(files, problems, LineEndCheck::problem);
    }

    /** Reports each of {@code files} (each once) that is not all UTF-8, which Typesafe read all the same. */
    private static void checkUtf8(List<Path> files, Problems problems) {
        checkBytes(files, problems, Utf8Check::problem);
    }

    /** Reports each line of {@code files} (each once) with a ';' after a value, which HOCON read as part of it. */
    private static void checkSemicolons(List<Path> files, Problems problems) {
        checkAllInBytes(files, problems, SemicolonCheck::problems);
    }

    /**
     * Reports what {@code check} finds in the bytes of each of {@code files}, each once; a file that cannot be read
     * is left to its include, or the loader, to report.
     */
    private static void checkBytes(List<Path> files, Problems problems, BiFunction<Path, byte[], ConfigProblem> check) {
        checkAllInBytes(files, problems, (file, bytes) -> {
            ConfigProblem problem = check.apply(file, bytes);
            return problem == null ? List.of() : List.of(problem);
        });
    }

    /** As {@link #checkBytes}, for a check that may find several problems in a file. */
    private static void checkAllInBytes(List<Path> files, Problems problems,
                                        BiFunction<Path, byte[], List<ConfigProblem>> check) {
        for (Path read : new LinkedHashSet<>(files)) {
            byte[] bytes;
            try {
                bytes = Files.readAllBytes(read);
            } catch (IOException | RuntimeException e) {
                continue;
            }
            check.apply(read, bytes).forEach(problems::add);
        }
    }

    /**
     * Whether {@code runDir} is the name a server's settings carry for {@code run-dir = ""} when nothing needed the
     * temporary directory made (no spawned backend): there is no run directory then.
     */
    public static boolean isTemporaryRunDirPlaceholder(Path runDir) {
        return temporaryRunDirPlaceholder().equals(runDir);
    }

    /** Where a temporary run directory would go, not created: {@code <java.io.tmpdir>/edge-<20 digits>}. */
    private static Path temporaryRunDirPlaceholder() {
        try {
            // Files.createTempDirectory names it prefix + an unsigned long: at most 20 digits.
            return TemporaryRunDir.parent().resolve("edge-" + "0".repeat(20));
        } catch (java.nio.file.InvalidPathException e) {
            return Path.of("/tmp", "edge-" + "0".repeat(20));
        }
    }
}
