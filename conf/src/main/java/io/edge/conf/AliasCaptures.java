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
 * @param regex the location's regex, whose captures the alias takes
 * @param below the path below the fixed directory: literal parts and captures ($1 to $9, named groups) in order
 */
public record AliasCaptures(Pattern regex, List<Return.Part> below) {

    public AliasCaptures {
        Objects.requireNonNull(regex, "regex");
        below = List.copyOf(below);
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
