package io.edge.core.proxy;

import io.edge.conf.LocationSettings;
import io.edge.core.http.RequestTarget;

/**
 * The request target a proxied request goes out with, nginx's rules for {@code proxy_pass}:
 * <ul>
 * <li>without a URI part ({@code proxy-uri} unset, {@code proxy_pass http://api;}): the URI as the client sent it
 *     (in origin form); after a rewrite changed the path, the changed path, encoded, with the query;</li>
 * <li>with one ({@code proxy-uri = "/v2/"}, {@code proxy_pass http://api/v2/;}): the location's prefix at the start
 *     of the (decoded, normalised) path is replaced by it, the result encoded, the query kept: {@code /api/} with
 *     {@code /} sends {@code /api/users?id=1} as {@code /users?id=1}. A path that does not start with the prefix (a
 *     rewrite led here) goes whole, as without a URI part.</li>
 * </ul>
 */
final class ProxyTarget {

    private ProxyTarget() {
    }

    /**
     * @param sent     the request's target as the client sent it
     * @param path     the decoded, normalised path being answered (nginx's {@code $uri})
     * @param query    the query, without its "?"
     * @param location the proxy location: its kind, its pattern (the prefix) and its proxy-uri
     */
    static String of(String sent, String path, String query, LocationSettings location) {
        return of(sent, path, query, location.kind(), location.pattern(), location.proxy().uri());
    }

    static String of(String sent, String path, String query, LocationSettings.Kind kind, String prefix, String uri) {
        if (uri != null && kind != LocationSettings.Kind.REGEX && path.startsWith(prefix)) {
            return withQuery(RequestTarget.encodePath(uri + path.substring(prefix.length())), query);
        }
        RequestTarget target = RequestTarget.parse(sent);
        if (target.path().equals(path)) {
            return target.originForm();
        }
        return withQuery(RequestTarget.encodePath(path), query);
    }

    private static String withQuery(String path, String query) {
        return query.isEmpty() ? path : path + "?" + query;
    }
}
