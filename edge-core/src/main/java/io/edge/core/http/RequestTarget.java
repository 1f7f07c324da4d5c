package io.edge.core.http;

import io.edge.aio.path.MalformedPathException;
import io.edge.aio.path.PathResolver;
import io.edge.conf.HostSyntax;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.function.IntPredicate;

/**
 * The authority, path and query of a request target. The path is decoded and normalised once, by
 * {@link PathResolver#normalize} (the same rules the static path applies); what it refuses is a 400.
 *
 * @param authority   the host and port of an absolute-form target ({@code http://host:port/p}), else
 *                    {@code null}; RFC 9112 3.2.2: it replaces the request's {@code Host}
 * @param path        normalised, decoded path; a trailing '/' is kept; bytes that were not UTF-8 are kept as
 *                    escapes ({@link PathResolver#hasByteEscapes}): such a path routes but names no file
 * @param query       the raw query without '?', or ""
 * @param originForm  the target as sent without scheme and authority: raw path and query, starting with '/'
 */
public record RequestTarget(String authority, String path, String query, String originForm) {

    /**
     * Parses an origin-form or absolute-form request target. Blanks, control characters and DEL are refused
     * anywhere in it, query included (RFC 3986 has no place for them; nginx refuses them too): they would reach
     * CGI's REQUEST_URI raw. So is a fragment.
     */
    public static RequestTarget parse(String uri) {
        for (int i = 0; i < uri.length(); i++) {
            char c = uri.charAt(i);
            if (c <= ' ' || c == 0x7f) {
                throw bad(String.format(Locale.ROOT,
                        "request target: character 0x%02x at %d (expected: none below 0x21, nor 0x7f)", (int) c, i));
            }
            if (c == '#') {
                // RFC 9112 3.2: no form of request target has a fragment (clients keep it). Cut off for routing, one
                // went on to PHP in REQUEST_URI while the response cache, keyed without it, served the page built
                // for it to everyone; HAProxy refuses it too (CVE-2023-45539)
                throw bad("request target: a fragment ('#' at " + i + ") (expected: none, RFC 9112 3.2)");
            }
        }
        String target = uri;
        String authority = null;
        if (!target.startsWith("/")) {
            int scheme = target.indexOf("://");
            if (scheme <= 0) {
                throw bad("request target is not a path");
            }
            if (!isScheme(target, scheme)) {
                // "a/b://host/p", "x?y://host/p": no absolute form, yet its "authority" replaced Host, routed
                // elsewhere than a proxy in front that read the target as the path it is (nginx and HAProxy: 400)
                throw bad("request target's scheme: " + target.substring(0, scheme)
                        + " (expected: a letter, then letters, digits, '+', '-' or '.', RFC 3986 3.1)");
            }
            int start = scheme + 3;
            int end = start;
            while (end < target.length() && "/?".indexOf(target.charAt(end)) < 0) {
                end++;
            }
            authority = target.substring(start, end);
            if (authority.isEmpty() || authority.startsWith(":") || authority.indexOf('@') >= 0) {
                throw bad("request target's authority is empty or has user information: " + authority);
            }
            if (!isHostAndPort(authority)) {
                throw bad("request target's authority: " + authority + " (expected: uri-host [ \":\" port ])");
            }
            target = end < target.length() && target.charAt(end) == '/' ? target.substring(end) : "/" + target.substring(end);
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

    /** Whether {@code target}'s first {@code length} characters are a URI scheme (RFC 3986 3.1). */
    private static boolean isScheme(String target, int length) {
        for (int i = 0; i < length; i++) {
            char c = target.charAt(i);
            boolean letter = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z';
            if (!letter && (i == 0 || !isDigit(c) && c != '+' && c != '-' && c != '.')) {
                return false;
            }
        }
        return true;
    }

    /**
     * True when {@code value} is {@code uri-host [ ":" port ]} (RFC 9112 3.2, RFC 3986 3.2.2), the syntax of
     * {@code Host} and of an absolute-form target's authority: an IP literal ({@code [::1]},
     * {@code [v1.x]}) or a reg-name, which an IPv4 address also is, then optionally ':' and digits. A
     * reg-name is unreserved characters, %HH escapes and sub-delims less ',' ({@code Host: a, b} is a list
     * of two hosts). So '/', '\\', '@', blanks and control characters are refused: the host is routed on,
     * passed to CGI and made part of the response cache's key. Nor is a value that names no host: an empty one
     * (RFC 9112 3.2 has a client send it for a target URI without authority, which an {@code http} URI never is:
     * RFC 9110 4.2.1), a port without a name ({@code :80}), or {@code .}, which names nothing once its trailing dot
     * goes (as routing drops it); nginx refuses them all as an invalid host.
     */
    static boolean isHostAndPort(String value) {
        int hostEnd;
        if (value.startsWith("[")) {
            int close = value.indexOf(']');
            if (close < 0 || !HostSyntax.isIpLiteral(value.substring(1, close))) {
                return false;
            }
            hostEnd = close + 1;
        } else {
            int colon = value.indexOf(':');
            hostEnd = colon < 0 ? value.length() : colon;
            // two dots in a row name no host (nginx answers 400 too); looked for in the whole value, not in a copy of
            // its name: a port has digits only, so they are in the name where they are at all
            if (HostSyntax.invalidRegNameChar(value, 0, hostEnd) >= 0 || value.contains("..")) {
                return false;
            }
            if (hostEnd == 0 || hostEnd == 1 && value.charAt(0) == '.') {
                return false; // no name
            }
        }
        if (hostEnd == value.length()) {
            return true;
        }
        if (value.charAt(hostEnd) != ':') {
            return false;
        }
        for (int i = hostEnd + 1; i < value.length(); i++) {
            if (!isDigit(value.charAt(i))) {
                return false;
            }
        }
        return true;
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    /** {@code uri} {@link #parse parsed}, or null where it is no target: what is logged of a request refused. */
    static RequestTarget parsedOrNull(String uri) {
        try {
            return parse(uri);
        } catch (HttpStatusException unparsable) {
            return null;
        }
    }

    private static HttpStatusException bad(String reason) {
        return new HttpStatusException(HttpResponseStatus.BAD_REQUEST, reason);
    }

    /** Percent-encodes a decoded path for a {@code Location} header: only unreserved, sub-delims, ':', '@', '/' stay. */
    public static String encodePath(String path) {
        StringBuilder out = new StringBuilder(path.length() + 8);
        percentEncode(out, path.getBytes(StandardCharsets.UTF_8), RequestTarget::keptInPath);
        return out.toString();
    }

    /**
     * Percent-encodes {@code text}'s UTF-8 bytes but for letters, digits and {@code -._~} (RFC 3986's unreserved), as
     * nginx's ngx_escape_uri(NGX_ESCAPE_URI_COMPONENT): a URI component, a link's name, a value carried whole.
     */
    public static String encodeComponent(String text) {
        StringBuilder out = new StringBuilder(text.length() + 16);
        percentEncode(out, text.getBytes(StandardCharsets.UTF_8), c -> c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
                || c >= '0' && c <= '9' || "-._~".indexOf(c) >= 0);
        return out.toString();
    }

    /**
     * Whether byte {@code c} stands as it is in an encoded path: ASCII letters and digits, unreserved, sub-delims, ':',
     * '@', '/'.
     */
    static boolean keptInPath(int c) {
        return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
                || "-._~!$&'()*+,;=:@/".indexOf(c) >= 0;
    }

    /** Appends {@code bytes}, each one {@code kept} refuses as %HH (upper-case hex), the others as the char they are. */
    static void percentEncode(StringBuilder out, byte[] bytes, IntPredicate kept) {
        for (byte b : bytes) {
            int c = b & 0xFF;
            if (kept.test(c)) {
                out.append((char) c);
            } else {
                out.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 0xF, 16)));
            }
        }
    }

    /** nginx's {@code $arg_name}: the first {@code name=value} of {@code query} (name compared ignoring case), as sent. */
    public static String argument(String query, String name) {
        String found = argumentFound(query, name);
        return found == null ? "" : found;
    }

    /** As {@link #argument}, null where the query has no argument {@code name} ("" for {@code ?name=}). */
    static String argumentFound(String query, String name) {
        int start = 0;
        while (start <= query.length()) {
            int end = query.indexOf('&', start);
            if (end < 0) {
                end = query.length();
            }
            int equals = start + name.length(); // where this argument's '=' must be: no search past its end
            if (equals < end && query.charAt(equals) == '=' && !name.isEmpty()
                    && query.regionMatches(true, start, name, 0, name.length())) {
                return query.substring(equals + 1, end);
            }
            start = end + 1;
        }
        return null;
    }
}
