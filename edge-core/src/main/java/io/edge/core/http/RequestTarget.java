package io.edge.core.http;

import io.edge.aio.path.MalformedPathException;
import io.edge.aio.path.PathResolver;
import io.netty.handler.codec.http.HttpResponseStatus;

/**
 * The authority, path and query of a request target. The path is decoded and normalised once, by
 * {@link PathResolver#normalize} (the same rules the static path applies); what it refuses is a 400.
 *
 * @param authority   the host and port of an absolute-form target ({@code http://host:port/p}), else
 *                    {@code null}; RFC 9112 3.2.2: it replaces the request's {@code Host}
 * @param path        normalised, decoded path; a trailing '/' is kept
 * @param query       the raw query without '?', or ""
 * @param originForm  the target as sent without scheme and authority: raw path and query, starting with '/'
 */
public record RequestTarget(String authority, String path, String query, String originForm) {

    /** Parses an origin-form or absolute-form request target. */
    public static RequestTarget parse(String uri) {
        String target = uri;
        String authority = null;
        if (!target.startsWith("/")) {
            int scheme = target.indexOf("://");
            if (scheme <= 0) {
                throw bad("request target is not a path");
            }
            int start = scheme + 3;
            int end = start;
            while (end < target.length() && "/?#".indexOf(target.charAt(end)) < 0) {
                end++;
            }
            authority = target.substring(start, end);
            if (authority.isEmpty() || authority.indexOf('@') >= 0) {
                throw bad("request target's authority is empty or has user information: " + authority);
            }
            target = end < target.length() && target.charAt(end) == '/' ? target.substring(end) : "/" + target.substring(end);
        }
        int hash = target.indexOf('#');
        if (hash >= 0) {
            target = target.substring(0, hash);
        }
        int q = target.indexOf('?');
        String rawPath = q < 0 ? target : target.substring(0, q);
        String query = q < 0 ? "" : target.substring(q + 1);
        try {
            return new RequestTarget(authority, PathResolver.normalize(rawPath), query, target);
        } catch (MalformedPathException e) {
            throw bad(e.getMessage());
        }
    }

    private static HttpStatusException bad(String reason) {
        return new HttpStatusException(HttpResponseStatus.BAD_REQUEST, reason);
    }
}
