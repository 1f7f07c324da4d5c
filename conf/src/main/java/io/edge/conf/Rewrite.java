package io.edge.conf;

import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A location's {@code rewrite}, nginx's {@code rewrite <the location's regex> <replacement> last}: every request the
 * location takes is answered as a request for another URI, routed again (an internal redirect: the client sees
 * nothing, and its {@code REQUEST_URI} stays as sent). The replacement holds the variables {@link Return} names (a
 * regex location's captures the usual ones): {@code "/article.php?id=$1"}.
 *
 * <p>Arguments as nginx: a replacement with a {@code ?} sets the new query to what follows it, with the request's own
 * query appended after an {@code &}; one ending in {@code ?} drops the request's query; one without keeps it.
 *
 * @param path       the new path's parts (a URL's: decoded values are encoded again, then the whole decoded once)
 * @param query      the new query's parts; empty with {@code setsQuery}: none but the request's, if kept
 * @param setsQuery  whether the replacement has a {@code ?}
 * @param keepsQuery whether the request's own query is kept (appended after {@code query}'s, if any)
 */
public record Rewrite(List<Return.Part> path, List<Return.Part> query, boolean setsQuery, boolean keepsQuery) {

    /** What a rewrite is written as, for a message. */
    static final String EXPECTED = "a path starting with \"/\", with variables and the location's captures, such as"
            + " \"/article.php?id=$1\" (a trailing \"?\" drops the request's own query)";

    public Rewrite {
        path = List.copyOf(path);
        query = List.copyOf(query);
    }

    /**
     * A replacement as written, its variables checked against {@code regex} (the location's, null for another match).
     *
     * @throws IllegalArgumentException saying what is wrong with {@code written}
     */
    static Rewrite parse(String written, Pattern regex) {
        return parse(written, regex, VariableMaps.NONE);
    }

    /** As {@link #parse(String, Pattern)}, the replacement naming {@code maps} as well. */
    static Rewrite parse(String written, Pattern regex, VariableMaps maps) {
        return parse(written, regex, maps, Set.of());
    }

    /** As {@link #parse(String, Pattern, VariableMaps)}, and the named groups {@code earlier} (regexes' met before). */
    static Rewrite parse(String written, Pattern regex, VariableMaps maps, Set<String> earlier) {
        String text = written.strip();
        if (!text.startsWith("/")) {
            throw new IllegalArgumentException("does not start with \"/\"");
        }
        if (text.chars().anyMatch(c -> c <= 0x20 || c == 0x7f)) {
            throw new IllegalArgumentException("has white space or a control character");
        }
        int question = text.indexOf('?');
        String pathText = question < 0 ? text : text.substring(0, question);
        String queryText = question < 0 ? "" : text.substring(question + 1);
        // nginx: a "?" that ends the replacement (after new arguments or alone) drops the request's own
        boolean keepsQuery = question < 0 || !text.endsWith("?") && !queryText.isEmpty();
        if (queryText.endsWith("?")) {
            queryText = queryText.substring(0, queryText.length() - 1);
        }
        List<Return.Part> path = Return.parts(pathText, regex, maps, earlier);
        for (Return.Part part : path) {
            if (part.literal() != null && !part.literal().matches("([^%]|%[0-9A-Fa-f]{2})*")) {
                throw new IllegalArgumentException("has a % not followed by two hex digits in its path (a percent"
                        + " sign is %25: the path is decoded as a request's)");
            }
        }
        List<Return.Part> query = queryText.isEmpty() ? List.of() : Return.parts(queryText, regex, maps, earlier);
        return new Rewrite(path, query, question >= 0, keepsQuery);
    }
}
