package io.edge.conf;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How a {@code limit-req} or {@code limit-conn} logs what it refuses, and whether it refuses at all: nginx's
 * {@code limit_req_log_level} and {@code limit_req_dry_run} (and limit_conn's).
 *
 * @param level  the level of the error-log line for each request it refuses, nginx's levels; a request
 *               {@code limit-req} delays gets one a level below (warn for error, info for the others), as nginx's
 * @param every  a line for every request it refuses, as nginx writes them (what fail2ban reads); false: the first,
 *               then at most one every ten seconds, saying how many more there were
 * @param dryRun count and log, but refuse (or delay) nothing, nginx's {@code limit_req_dry_run on}: what a limit would
 *               do, tried on live traffic first
 */
public record LimitMode(Level level, boolean every, boolean dryRun) {

    /** nginx's defaults: error, each refusal logged, not a dry run. */
    public static final LimitMode DEFAULT = new LimitMode(Level.ERROR, true, false);

    /** nginx's levels a limit's line may have, as written ({@code limit_req_log_level info | notice | warn | error}). */
    public enum Level {
        INFO, NOTICE, WARN, ERROR
    }

    /** The levels by the names written. */
    static final Map<String, Level> LEVELS = levels();

    /** What {@code log} may say, by the name written: a line for every refusal (true) or throttled (false). */
    static final Map<String, Boolean> LOGS = logs();

    private static Map<String, Level> levels() {
        Map<String, Level> levels = new LinkedHashMap<>();
        levels.put("error", Level.ERROR); // the first: a problem's placeholder, nginx's default
        levels.put("warn", Level.WARN);
        levels.put("notice", Level.NOTICE);
        levels.put("info", Level.INFO);
        return levels;
    }

    private static Map<String, Boolean> logs() {
        Map<String, Boolean> logs = new LinkedHashMap<>();
        logs.put("every", true);
        logs.put("throttled", false);
        return logs;
    }
}
