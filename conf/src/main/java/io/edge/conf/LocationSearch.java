package io.edge.conf;

import io.edge.fastcgi.regex.BoundedMatch;
import java.util.List;

/**
 * The location of a site for a path, as nginx's ngx_http_core_find_location picks it: an exact match ({@code = /x})
 * wins at once; otherwise the longest matching prefix is remembered; if it was written {@code ^~} it wins; otherwise
 * regular expressions are tried in configuration order and the first match wins; otherwise the remembered prefix. A
 * named location ({@code @app}) is never a path's ({@code /@app} is a prefix's like any path).
 *
 * <p>Nested locations, as nginx's: the longest prefix's own locations are searched the same way before this level's
 * regexes are tried, and an exact match or a regex found among them ends the search (the innermost regexes are tried
 * first); a nested prefix only refines the prefix, this level's regexes still tried unless the outer prefix was
 * {@code ^~} (a nested {@code ^~} skips its own level's regexes, not the enclosing ones). A regex that matches has its
 * nested regexes tried in turn, the first that matches answering.
 *
 * <p>Here, not in the router, so that the configuration finds the location an error page's URI goes to (nginx's
 * error_page is an internal redirect there) by the same search a request's path is routed by.
 */
public final class LocationSearch {

    private LocationSearch() {
    }

    /**
     * The location of {@code locations} (a site's) for {@code path}, or null where none takes it.
     *
     * @throws RegexGaveUpException where the site's regexes gave up on the path, past {@link BoundedMatch#PATH_STEPS}
     *                              reads of it in all (or deeper than the stack), as PCRE's match limit stops nginx's
     */
    public static LocationSettings find(List<LocationSettings> locations, String path) {
        return find(locations, path, null);
    }

    /**
     * Whether {@code chosen}, what a level's search chose, ends the search (nginx's NGX_OK): an exact match or a regex
     * (only regexes nest in a regex location); else a prefix, which the enclosing level's regexes may still take the
     * path from (NGX_AGAIN).
     */
    private static boolean done(LocationSettings chosen) {
        return chosen.kind() == LocationSettings.Kind.EXACT || chosen.kind() == LocationSettings.Kind.REGEX;
    }

    /**
     * The location of {@code level} (a site's, or those nested in one) for the path: an exact match ends it; the longest
     * prefix is searched within, its nested locations' answer (an exact match, a regex's) ending it too; then, unless
     * that prefix was written {@code ^~}, this level's regexes in order, the first that matches searched within (a
     * regex location's nested regexes); else the prefix (or what within it was chosen), {@link #done} saying whether
     * that ends the search. Null: nothing at this level.
     *
     * @param budgeted the path as the regexes of every level read it, one budget for all of them; null until a regex is
     *                 tried or a level within searched, so that a site without nested locations costs a path no more
     *                 objects than before locations nested (none where no regex is tried)
     */
    private static LocationSettings find(List<LocationSettings> level, String path, BoundedMatch.Budgeted budgeted) {
        LocationSettings longestPrefix = null;
        for (int i = 0; i < level.size(); i++) { // indexed, as below: no iterator made per request
            LocationSettings location = level.get(i);
            switch (location.kind()) {
                case EXACT -> {
                    if (location.pattern().equals(path)) {
                        return location;
                    }
                }
                case PREFIX, PREFIX_NO_REGEX -> {
                    if (path.startsWith(location.pattern()) && (longestPrefix == null
                            || location.pattern().length() > longestPrefix.pattern().length())) {
                        longestPrefix = location;
                    }
                }
                case REGEX -> {
                    // tried below, after every prefix has been seen
                }
                case NAMED -> {
                    // no path: only a front-controller or an error page sends a request there
                }
            }
        }
        LocationSettings found = longestPrefix;
        if (longestPrefix != null && !longestPrefix.locations().isEmpty()) {
            budgeted = budgeted != null ? budgeted : BoundedMatch.budgeted(path, BoundedMatch.PATH_STEPS);
            LocationSettings within = find(longestPrefix.locations(), path, budgeted);
            if (within != null && done(within)) {
                return within;
            }
            found = within != null ? within : longestPrefix;
        }
        if (longestPrefix != null && longestPrefix.kind() == LocationSettings.Kind.PREFIX_NO_REGEX) {
            return found; // as nginx: this level's regexes skipped, an enclosing level's still tried
        }
        for (int i = 0; i < level.size(); i++) {
            LocationSettings location = level.get(i);
            if (location.kind() == LocationSettings.Kind.REGEX) {
                budgeted = budgeted != null ? budgeted : BoundedMatch.budgeted(path, BoundedMatch.PATH_STEPS);
                if (finds(location, path, budgeted)) {
                    LocationSettings within = location.locations().isEmpty() ? null
                            : find(location.locations(), path, budgeted);
                    return within != null ? within : location;
                }
            }
        }
        return found;
    }

    private static boolean finds(LocationSettings location, String path, BoundedMatch.Budgeted budgeted) {
        return switch (BoundedMatch.find(location.regex(), budgeted)) {
            case FOUND -> true;
            case GAVE_UP -> throw new RegexGaveUpException("location \"" + location.match() + "\" gave up on a path of "
                    + path.length() + " characters (past " + BoundedMatch.PATH_STEPS + " steps of the site's regexes,"
                    + " or too deep), as PCRE's match limit stops nginx's; a regex that backtracks less would not");
            case NOT_FOUND -> false;
        };
    }
}
