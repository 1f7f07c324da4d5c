package io.edge.conf;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigOrigin;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigSyntax;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/**
 * Reads an {@code edge.conf} over the defaults in {@code reference.conf}, checks all of it and maps it
 * onto {@link EdgeSettings}.
 *
 * <p>Every problem is collected before anything is thrown: unknown keys (with the nearest known key
 * suggested), wrong types, bad durations and sizes, values out of range, unknown enum values, missing or
 * nonexistent directories, bad location matches, references to undefined backends. Each names the file and
 * line where the value was written.
 *
 * <p>Relative paths in the file are resolved against the file's directory. When {@code server.run-dir} is
 * {@code ""}, each load creates a fresh directory under the system temporary directory ({@code edge-*});
 * the server owns it from then on. System properties do not override the file: the file alone says what
 * the server does.
 */
public final class ConfigLoader {

    /** Objects whose keys are the user's to choose; every other object's keys are checked. */
    private static final Set<String> FREE_MAPS = Set.of("edge.mime-types", "edge.fastcgi.backends");

    /**
     * Loads and checks {@code file}.
     *
     * @throws ConfigException with every problem found, when there is at least one
     */
    public EdgeSettings load(Path file) throws ConfigException {
        Problems problems = new Problems(file);
        if (!Files.isRegularFile(file)) {
            problems.add(new ConfigProblem(file, 0, null,
                    Files.exists(file) ? "is not a regular file" : "no such file", "a HOCON configuration file"));
            throw new ConfigException(problems.sorted());
        }
        if (!Files.isReadable(file)) {
            problems.add(new ConfigProblem(file, 0, null, "cannot be read", "a file readable by this user"));
            throw new ConfigException(problems.sorted());
        }
        Config user;
        Config merged;
        Config reference = ConfigFactory.parseResourcesAnySyntax(ConfigLoader.class.getClassLoader(), "reference");
        try {
            user = ConfigFactory.parseFile(file.toFile(),
                    ConfigParseOptions.defaults().setSyntax(ConfigSyntax.CONF).setAllowMissing(false));
            merged = Substitutions.resolve(user, reference, problems);
        } catch (com.typesafe.config.ConfigException e) {
            problems.add(e.origin(), null, stripOrigin(e), null);
            throw new ConfigException(problems.sorted());
        }
        ConfigObject referenceEdge = (ConfigObject) reference.resolve().root().get("edge");

        UnknownKeys.check(merged.root(), reference.root(), "", Set.of(), FREE_MAPS, problems);
        ConfigValue edgeValue = merged.root().get("edge");
        if (edgeValue == null || edgeValue.valueType() != ConfigValueType.OBJECT) {
            problems.add(edgeValue == null ? null : edgeValue.origin(), "edge", "is not an object", "edge { ... }");
            throw new ConfigException(problems.sorted());
        }
        ConfigValue userEdge = user.root().get("edge");
        ConfigOrigin anchor = userEdge != null ? userEdge.origin() : user.root().origin();
        Section edge = new Section((ConfigObject) edgeValue, "edge", anchor, problems);

        Path source = file.toAbsolutePath().normalize();
        Path runDir = temporaryRunDir();
        EdgeSettings settings = new SettingsMapper(problems, source.getParent(), runDir, referenceEdge).map(edge, source);
        boolean spawns = settings.backends().values().stream().anyMatch(b -> b.spawn() != null);
        if (!settings.server().runDir().equals(runDir) || !spawns) {
            deleteQuietly(runDir); // only spawned backends put files there (and create it again if needed)
        }
        if (!problems.isEmpty()) {
            deleteQuietly(runDir);
            throw new ConfigException(problems.sorted());
        }
        return settings;
    }

    /** Created up front because spawned backends' socket paths, whose length is checked, live in it. */
    private static Path temporaryRunDir() {
        try {
            return Files.createTempDirectory("edge-");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a run directory under java.io.tmpdir", e);
        }
    }

    private static void deleteQuietly(Path emptyDirectory) {
        try {
            Files.deleteIfExists(emptyDirectory);
        } catch (IOException e) {
            // Nothing was put in it; a leftover empty temporary directory harms no one.
        }
    }

    /** Typesafe prefixes its messages with the origin, which a {@link ConfigProblem} already shows. */
    private static String stripOrigin(com.typesafe.config.ConfigException e) {
        String message = e.getMessage();
        if (e.origin() != null) {
            String prefix = e.origin().description() + ": ";
            if (message.startsWith(prefix)) {
                return message.substring(prefix.length());
            }
        }
        return message;
    }
}
