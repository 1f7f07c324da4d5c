package io.edge.core.http;

import io.edge.aio.path.MalformedPathException;
import io.edge.aio.path.PathResolver;
import io.netty.handler.codec.http.HttpResponseStatus;

/**
 * The path and query of a request target. The path is decoded and normalised once, by
 * {@link PathResolver#normalize} (the same rules the static path applies); what it refuses is a 400.
 *
 * @param path  normalised, decoded path; a trailing '/' is kept
 * @param query the raw query without '?', or ""
 */
public record RequestTarget(String path, String query) {

    /** Parses an origin-form or absolute-form request target. */
    public static RequestTarget parse(String uri) {
        String target = uri;
        if (!target.startsWith("/")) {
            int scheme = target.indexOf("://");
            if (scheme <= 0) {
                throw bad("request target is not a path");
            }
            int slash = target.indexOf('/', scheme + 3);
            target = slash < 0 ? "/" : target.substring(slash);
        }
        int hash = target.indexOf('#');
        if (hash >= 0) {
            target = target.substring(0, hash);
        }
        int q = target.indexOf('?');
        String rawPath = q < 0 ? target : target.substring(0, q);
        String query = q < 0 ? "" : target.substring(q + 1);
        try {
            return new RequestTarget(PathResolver.normalize(rawPath), query);
        } catch (MalformedPathException e) {
            throw bad(e.getMessage());
        }
    }

    private static HttpStatusException bad(String reason) {
        return new HttpStatusException(HttpResponseStatus.BAD_REQUEST, reason);
    }
}
