package io.edge.conf;

import java.util.List;
import java.util.stream.Collectors;

/** A configuration could not be loaded; it carries every problem found, not just the first. */
public final class ConfigException extends Exception {

    private final List<ConfigProblem> problems;
    private final List<ConfigProblem> warnings;

    /** @param problems at least one, in the order found */
    public ConfigException(List<ConfigProblem> problems) {
        this(problems, List.of());
    }

    /**
     * @param problems at least one, in the order found
     * @param warnings what a configuration without the problems would have been warned of (a key set twice), which
     *                 may be why one of them is there
     */
    public ConfigException(List<ConfigProblem> problems, List<ConfigProblem> warnings) {
        super(problems.stream().map(ConfigProblem::toString).collect(Collectors.joining("\n")));
        if (problems.isEmpty()) {
            throw new IllegalArgumentException("problems is empty");
        }
        this.problems = List.copyOf(problems);
        this.warnings = List.copyOf(warnings);
    }

    /** What was found besides the problems that is worth a look ({@link EdgeSettings#warnings}), in file order. */
    public List<ConfigProblem> warnings() {
        return warnings;
    }

    /** Every problem found, in the order the configuration reads (includes in place) where it could be established. */
    public List<ConfigProblem> problems() {
        return problems;
    }
}
