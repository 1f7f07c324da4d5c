package io.edge.conf;

import java.util.List;
import java.util.stream.Collectors;

/** A configuration could not be loaded; it carries every problem found, not just the first. */
public final class ConfigException extends Exception {

    private final List<ConfigProblem> problems;

    /** @param problems at least one, in the order found */
    public ConfigException(List<ConfigProblem> problems) {
        super(problems.stream().map(ConfigProblem::toString).collect(Collectors.joining("\n")));
        if (problems.isEmpty()) {
            throw new IllegalArgumentException("problems is empty");
        }
        this.problems = List.copyOf(problems);
    }

    /** Every problem found, in the order the configuration reads (includes in place) where it could be established. */
    public List<ConfigProblem> problems() {
        return problems;
    }
}
