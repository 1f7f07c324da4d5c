package io.edge.conf;

import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A FastCGI location's {@code split-path-info}, nginx's {@code fastcgi_split_path_info}: a regular expression (read as
 * nginx's PCRE, {@link LocationMatch#compile}) whose first group is the script name (SCRIPT_NAME) and second the
 * PATH_INFO. Edge holds it to the shape that makes both paths: the script name's group first, from the path's start,
 * then at once the PATH_INFO's, starting with "/" (or optional), to the end. A split of another shape could hand PHP a
 * script name that is no path from the root ({@code ^/(.+\.php)(/.*)$}: "x.php") or a PATH_INFO that is no path
 * ({@code ^(.+\.php)(.*)$} splits /a.phpx into /a.php and "x"), or drop a part of the path between or after them.
 */
final class SplitPathInfo {

    static final String EXPECTED = "a regex of two groups, the script name from the path's start, then the PATH_INFO"
            + " starting with \"/\" to the end, such as \"^(.+?\\\\.phtml)(/.*)$\"";

    /** nginx's classic split and edge's default as written: both are edge's default (null), which needs no regex. */
    private static final Set<String> DEFAULT = Set.of("^(.+?\\.php)(/.*)$", "^(.+?\\.php)(/.*)?$");

    /** Inline flags alone, {@code (?i)}, before the first group. */
    private static final Pattern FLAGS = Pattern.compile("\\(\\?[a-zA-Z]*(?:-[a-zA-Z]*)?\\)");

    private SplitPathInfo() {
    }

    /**
     * {@code text} compiled; null for edge's default (nginx's classic {@code ^(.+?\.php)(/.*)$} is that).
     *
     * @throws IllegalArgumentException saying what is wrong with it
     */
    static Pattern parse(String text) {
        if (DEFAULT.contains(text.strip())) {
            return null;
        }
        Pattern split = LocationMatch.compile(text.strip(), 0);
        int groups = split.matcher("").groupCount();
        if (groups != 2) {
            throw new IllegalArgumentException("has " + groups + " capturing group" + (groups == 1 ? "" : "s")
                    + " (nginx's fastcgi_split_path_info takes 2)");
        }
        String java = split.pattern();
        int at = java.startsWith("^") ? 1 : 0;
        Matcher flags = FLAGS.matcher(java);
        while (flags.region(at, java.length()).lookingAt()) {
            at = flags.end();
        }
        int script = groupBody(java, at);
        if (script < 0) {
            throw new IllegalArgumentException("does not start with the script name's group: SCRIPT_NAME would not"
                    + " start with the path's \"/\"");
        }
        int scriptEnd = groupEnd(java, script);
        int pathInfo = groupBody(java, scriptEnd + 1);
        if (pathInfo < 0) {
            throw new IllegalArgumentException("has something between the script name's group and the PATH_INFO's:"
                    + " that part of the path would be neither");
        }
        if (!java.startsWith("/", pathInfo) && !java.startsWith("\\/", pathInfo)) {
            throw new IllegalArgumentException("has a PATH_INFO group that does not start with \"/\": it could split"
                    + " /a.phpx into /a.php and \"x\"");
        }
        int end = groupEnd(java, pathInfo) + 1;
        end += java.startsWith("?", end) ? 1 : 0;
        end += java.startsWith("$", end) ? 1 : 0;
        if (end != java.length()) {
            throw new IllegalArgumentException("has something after the PATH_INFO's group: that part of the path would"
                    + " be neither");
        }
        return split;
    }

    /** Where the body of a capturing group opened at {@code at} starts, or -1: no capturing group opens there. */
    private static int groupBody(String java, int at) {
        if (!java.startsWith("(", at)) {
            return -1;
        }
        if (!java.startsWith("(?", at)) {
            return at + 1;
        }
        if (java.startsWith("(?<", at) && !java.startsWith("(?<=", at) && !java.startsWith("(?<!", at)) {
            int close = java.indexOf('>', at);
            return close < 0 ? -1 : close + 1;
        }
        return -1;
    }

    /** The index of the ')' that closes the group whose body starts at {@code body} (the pattern compiled). */
    private static int groupEnd(String java, int body) {
        int depth = 1;
        boolean inClass = false;
        int i = body;
        while (i < java.length()) {
            char c = java.charAt(i);
            if (c == '\\' && java.startsWith("\\Q", i)) {
                int quoteEnd = java.indexOf("\\E", i + 2);
                i = quoteEnd < 0 ? java.length() : quoteEnd + 2;
                continue;
            }
            if (c == '\\') {
                i += 2;
                continue;
            }
            if (inClass) {
                inClass = c != ']';
            } else if (c == '[') {
                inClass = true; // a ] first, literal to PCRE, PcreClasses wrote escaped
            } else if (c == '(') {
                depth++;
            } else if (c == ')' && --depth == 0) {
                return i;
            }
            i++;
        }
        return java.length(); // it compiled: not reached
    }
}
