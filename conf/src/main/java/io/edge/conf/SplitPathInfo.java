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
 * ({@code ^(.+\.php)(x.*)$}), or drop a part of the path between or after them. Inline flags may come before or after
 * the {@code ^} ({@code (?i)^(.+\.php)(/.+)$}), and a leading {@code ~*} (or {@code ~}), as "match" writes a regex,
 * makes it case-insensitive (or not).
 *
 * <p>nginx's documented {@code ^(.+\.php)(.*)$}, whose PATH_INFO group may start anywhere, is taken as {@code
 * ^(.+\.php)(/.*)?$}: the PATH_INFO is empty or starts with "/", and the script name ends at a segment's end. Where
 * nginx's split makes a PATH_INFO that starts with "/" or is empty, both split alike (the same greedy or lazy script
 * group finds the same {@code .php}); where nginx's would not (/a.php/b.phpx: /a.php/b.php and "x"), edge's script
 * name ends at a segment (/a.php and /b.phpx), rather than at a ".php" inside a name.
 */
final class SplitPathInfo {

    static final String EXPECTED = "a regex of two groups, the script name from the path's start, then the PATH_INFO"
            + " starting with \"/\" (or nginx's \"(.*)\") to the end, such as \"^(.+?\\\\.phtml)(/.*)$\"";

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
        String regex = text.strip();
        int caseFlag = 0;
        if (regex.startsWith("~*")) {
            regex = regex.substring(2).strip();
            caseFlag = Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE;
        } else if (regex.startsWith("~")) {
            regex = regex.substring(1).strip();
        }
        Pattern split = LocationMatch.compile(regex, caseFlag);
        int groups = split.matcher("").groupCount();
        if (groups != 2) {
            throw new IllegalArgumentException("has " + groups + " capturing group" + (groups == 1 ? "" : "s")
                    + " (nginx's fastcgi_split_path_info takes 2)");
        }
        String java = split.pattern();
        int at = skipFlags(java, 0);
        if (java.startsWith("^", at)) {
            at = skipFlags(java, at + 1);
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
        int pathInfoEnd = groupEnd(java, pathInfo);
        boolean anything = java.substring(pathInfo, pathInfoEnd).equals(".*");
        if (!anything && !java.startsWith("/", pathInfo) && !java.startsWith("\\/", pathInfo)) {
            throw new IllegalArgumentException("has a PATH_INFO group that does not start with \"/\" (nor is nginx's"
                    + " \"(.*)\"): it could split /a.phpx into /a.php and \"x\"");
        }
        int end = pathInfoEnd + 1;
        end += java.startsWith("?", end) ? 1 : 0;
        end += java.startsWith("$", end) ? 1 : 0;
        if (end != java.length()) {
            throw new IllegalArgumentException("has something after the PATH_INFO's group: that part of the path would"
                    + " be neither");
        }
        if (anything) {
            // nginx's "(.*)": "(/.*)?", so that the PATH_INFO is a path and the script name ends at a segment's end
            String optional = java.startsWith("?", pathInfoEnd + 1) ? "" : "?";
            return Pattern.compile(java.substring(0, pathInfo) + "/.*)" + optional + java.substring(pathInfoEnd + 1),
                    split.flags());
        }
        return split;
    }

    /** Past the inline flags alone ({@code (?i)}) written from {@code at} on. */
    private static int skipFlags(String java, int at) {
        Matcher flags = FLAGS.matcher(java);
        int past = at;
        while (flags.region(past, java.length()).lookingAt()) {
            past = flags.end();
        }
        return past;
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
