package io.edge.conf;

import io.edge.fastcgi.regex.BoundedMatch;
import java.util.List;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An alias in a regex location, nginx's {@code location ~ ^/users/(.+\.png)$ { alias /data/images/$1; }}: the file of a
 * request path the location's regex matches is what its captures make of the alias. {@link LocationSettings#root()}
 * holds the alias's fixed directory (the text before its first capture, cut at its last "/": {@code /data/images}),
 * which the file never leaves; {@code below} is the rest, written below it ({@code $1}).
 *
 * <p>The alias of an exact location or of a prefix one whose match does not end in "/" is one too, the regex made of
 * the match ({@code location /robots.txt { alias /data/robots.txt; }}: the file's name and what follows the match).
 *
 * @param regex  the location's regex, whose captures the alias takes
 * @param below  the path below the fixed directory: literal parts and captures ($1 to $9, named groups) in order
 * @param name   for an exact or slash-less prefix location's alias (and the locations nested in it, which take it), the
 *               alias's own path below the directory: its file's name, "" where the alias is the directory (nginx's
 *               {@code $document_root} there is the alias's text); null for a regex location's alias
 * @param asFile for a slash-less prefix location's alias written without its "/" (taken as the directory it names,
 *               there or to come), the alias while it is found to be a file (there at load, made since, or put in the
 *               directory's place: nginx's alias is a text, looked up per request): its name and what follows the
 *               match, below the directory's parent, but nothing past the match from "/" (below a file); for an
 *               exact location's alias that is a directory at load, the alias while it is found to be a file since
 *               (its name, below the parent); null for any other
 */
public record AliasCaptures(Pattern regex, List<Return.Part> below, String name, AliasCaptures asFile) {

    public AliasCaptures {
        Objects.requireNonNull(regex, "regex");
        below = List.copyOf(below);
    }

    /** A regex location's alias. */
    public AliasCaptures(Pattern regex, List<Return.Part> below) {
        this(regex, below, null, null);
    }

    /**
     * The path below the fixed directory that the captures of {@code path} (a request's path, decoded and normalised)
     * make, not yet normalised (a capture may hold "/", or be ".." in an odd regex): the resolver normalises it and
     * holds it below the directory. Null where the regex does not match {@code path}, or gives up on it (the
     * budget the router's search has, {@link BoundedMatch#PATH_STEPS}). A group that took no part is "", as nginx's.
     */
    public String below(String path) {
        Matcher captures = BoundedMatch.first(regex, path, BoundedMatch.PATH_STEPS);
        if (captures == null) {
            return null;
        }
        StringBuilder out = new StringBuilder(64);
        for (Return.Part part : below) {
            if (part.literal() != null) {
                out.append(part.literal());
            } else {
                String value = part.captured(captures);
                out.append(value == null ? "" : value);
            }
        }
        return out.toString();
    }
}
