package io.edge.conf;

/**
 * A location's regex gave up on a path ({@link LocationSearch#find}): past its budget of steps, or deeper than the
 * stack, as PCRE's match limit stops nginx's. The message names the location and the path's length.
 */
public final class RegexGaveUpException extends RuntimeException {

    public RegexGaveUpException(String message) {
        super(message, null, false, false);
    }
}
