package io.edge.fastcgi.cgi;

import io.edge.fastcgi.codec.FcgiNameValues;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Builds the FastCGI PARAMS of one request (RFC 3875 meta-variables plus what PHP expects). Pure: no I/O.
 *
 * <p>Values are byte strings, one char per byte, ready for {@code FcgiNameValues}: header values pass
 * through unchanged (Netty already holds them that way), and Unicode values (paths, the document root) are
 * written as their UTF-8 bytes.
 */
public final class CgiParams {

    /** The standard params, in the order they are sent (see {@link #standardValues}). */
    private static final String[] NAMES = {"GATEWAY_INTERFACE", "SERVER_SOFTWARE", "SCRIPT_FILENAME", "SCRIPT_NAME",
        "PATH_INFO", "PATH_TRANSLATED", "REQUEST_URI", "DOCUMENT_URI", "DOCUMENT_ROOT", "QUERY_STRING",
        "REQUEST_METHOD", "CONTENT_TYPE", "CONTENT_LENGTH", "SERVER_PROTOCOL", "SERVER_NAME", "SERVER_PORT",
        "SERVER_ADDR", "REMOTE_ADDR", "REMOTE_PORT", "REMOTE_USER", "AUTH_TYPE", "REQUEST_SCHEME", "HTTPS",
        "REDIRECT_STATUS"};
    private static final byte[][] NAME_BYTES = new byte[NAMES.length][];
    private static final byte[] HTTP_PREFIX = "HTTP_".getBytes(StandardCharsets.US_ASCII);

    static {
        for (int i = 0; i < NAMES.length; i++) {
            NAME_BYTES[i] = NAMES[i].getBytes(StandardCharsets.US_ASCII);
        }
    }

    private CgiParams() {
    }


    public static List<Map.Entry<String, String>> build(CgiRequest request, ScriptResolver.Script script,
            CgiOptions options) {
        Map<String, String> p = new LinkedHashMap<>();
        String[] values = standardValues(request, script);
        for (int i = 0; i < NAMES.length; i++) {
            if (values[i] != null) {
                p.put(NAMES[i], values[i]);
            }
        }
        addHeaders(p, request.headers(), options.allowUnderscoresInHeaders());
        for (Map.Entry<String, String> e : options.extraParams()) {
            p.put(e.getKey(), utf8Bytes(e.getValue())); // the names are ASCII (edge's configuration checks them)
        }
        List<Map.Entry<String, String>> out = new ArrayList<>(p.size());
        p.forEach((k, v) -> out.add(Map.entry(k, v)));
        return out;
    }

    /**
     * The params of {@link #build}, encoded as FastCGI name-value pairs into a new buffer owned by the caller.
     * The common case (no extra params, no header name twice) is written straight from the request, without
     * building the list.
     */
    public static ByteBuf encode(ByteBufAllocator alloc, CgiRequest request, ScriptResolver.Script script,
            CgiOptions options) {
        List<Map.Entry<String, String>> headers = request.headers();
        if (!options.extraParams().isEmpty() || options.allowUnderscoresInHeaders() || hasRepeatedHeader(headers)) {
            return FcgiNameValues.encode(alloc, build(request, script, options)); // joins and replaces
        }
        String[] values = standardValues(request, script);
        int size = 0;
        for (int i = 0; i < NAMES.length; i++) {
            if (values[i] != null) {
                size += FcgiNameValues.encodedLength(NAME_BYTES[i].length, values[i]);
            }
        }
        int longestName = 0;
        for (Map.Entry<String, String> h : headers) {
            String name = h.getKey();
            if (passes(name, false)) {
                size += FcgiNameValues.encodedLength(HTTP_PREFIX.length + name.length(), h.getValue());
                longestName = Math.max(longestName, name.length());
            }
        }
        ByteBuf out = alloc.buffer(size);
        for (int i = 0; i < NAMES.length; i++) {
            if (values[i] != null) {
                FcgiNameValues.encode(out, NAME_BYTES[i], NAME_BYTES[i].length, values[i]);
            }
        }
        byte[] key = Arrays.copyOf(HTTP_PREFIX, HTTP_PREFIX.length + longestName);
        for (Map.Entry<String, String> h : headers) {
            String name = h.getKey();
            if (passes(name, false)) {
                int length = HTTP_PREFIX.length;
                for (int i = 0; i < name.length(); i++) {
                    char c = name.charAt(i);
                    key[length++] = (byte) (c == '-' ? '_' : c >= 'a' && c <= 'z' ? c - ('a' - 'A') : c);
                }
                FcgiNameValues.encode(out, key, length, h.getValue());
            }
        }
        return out;
    }

    /**
     * What PHP sees as SERVER_SOFTWARE. It names nginx, as the servers that read nginx's configuration idioms do (OpenResty
     * and Angie send "nginx/..." from the same fastcgi_params): applications decide by it whether URLs are rewritten
     * without .htaccess. WordPress's got_url_rewrite() is true only for Apache, LiteSpeed, nginx, Caddy and IIS: with
     * "edge" its permalink settings, saved once, put /index.php/ into every post's URL (the CGI differential against
     * nginx). A location's fastcgi-params may set another.
     */
    static final String SERVER_SOFTWARE = "edge (nginx-compatible)";

    /** The values of {@link #NAMES}, index for index; {@code null} for a param this request does not have. */
    private static String[] standardValues(CgiRequest request, ScriptResolver.Script script) {
        String root = utf8Bytes(script.documentRoot().toString());
        String pathInfo = utf8Bytes(script.pathInfo());
        return new String[] {
            "CGI/1.1",
            SERVER_SOFTWARE,
            utf8Bytes(script.scriptFilename().toString()),
            utf8Bytes(script.scriptName()),
            pathInfo,
            pathInfo.isEmpty() ? null : root + pathInfo,
            request.rawUri(),
            utf8Bytes(script.documentUri()),
            root,
            script.query(),
            request.method(),
            request.contentType() == null ? "" : request.contentType(),
            request.contentLength() < 0 ? "" : Long.toString(request.contentLength()),
            request.protocol(),
            request.serverName(),
            Integer.toString(request.serverPort()),
            request.serverAddr(),
            request.remoteAddr(),
            // 0: real-ip took an address written without a port; nginx's $remote_port is then empty
            request.remotePort() > 0 ? Integer.toString(request.remotePort()) : "",
            request.remoteUser(), // nginx's $remote_user, sent only once a password was checked (Debian's fastcgi_params)
            request.remoteUser() == null ? null : "Basic",
            request.https() ? "https" : "http", // nginx's fastcgi_params and Apache set it; some apps build URLs from it
            request.https() ? "on" : null,
            "200"};
    }

    /**
     * Whether request header {@code name} becomes an HTTP_ param. Never {@code Proxy} (httpoxy: PHP libraries read
     * HTTP_PROXY as their outgoing proxy), nor {@code Content-Type}/{@code Content-Length} (they go in CONTENT_*);
     * only a name of letters, digits and '-', as nginx's {@code ignore_invalid_headers} passes: PHP makes '.' and ' '
     * in a param's name '_' too, so {@code X.Forwarded.For} would pose as {@code X-Forwarded-For}; a name with '_' only
     * if underscores are allowed, and then it is compared as the '-' it would become.
     */
    private static boolean passes(String name, boolean allowUnderscores) {
        if (!isValidHeaderName(name, allowUnderscores)) {
            return false;
        }
        if (name.indexOf('_') >= 0) {
            name = name.replace('_', '-');
        }
        return !name.equalsIgnoreCase("Proxy") && !name.equalsIgnoreCase("Content-Type")
                && !name.equalsIgnoreCase("Content-Length");
    }

    /**
     * Whether a request header's name is one nginx takes ({@code ignore_invalid_headers on}): letters, digits and
     * '-', and '_' only where {@code allowUnderscores} ({@code underscores_in_headers}); nginx passes no other on, to
     * a FastCGI server or a proxied backend.
     */
    public static boolean isValidHeaderName(CharSequence name, boolean allowUnderscores) {
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            boolean plain = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-';
            if (!plain && !(c == '_' && allowUnderscores)) {
                return false;
            }
        }
        return true;
    }

    /** Two passing headers whose names differ at most in case, which {@link #build} joins into one param. */
    private static boolean hasRepeatedHeader(List<Map.Entry<String, String>> headers) {
        for (int i = 1; i < headers.size(); i++) {
            String name = headers.get(i).getKey();
            for (int j = 0; j < i; j++) {
                if (name.equalsIgnoreCase(headers.get(j).getKey()) && passes(name, false)) {
                    return true;
                }
            }
        }
        return false;
    }

    private static void addHeaders(Map<String, String> params, List<Map.Entry<String, String>> headers,
            boolean allowUnderscores) {
        Map<String, String> joined = new LinkedHashMap<>();
        for (Map.Entry<String, String> h : headers) {
            String name = h.getKey();
            if (!passes(name, allowUnderscores)) {
                continue;
            }
            String key = "HTTP_" + name.toUpperCase(Locale.ROOT).replace('-', '_');
            String separator = key.equals("HTTP_COOKIE") ? "; " : ", ";
            // an empty field adds no element: "Cookie: a=1" and "Cookie: " are a=1, not "a=1; "
            joined.merge(key, h.getValue(), (a, b) -> a.isEmpty() ? b : b.isEmpty() ? a : a + separator + b);
        }
        params.putAll(joined);
    }

    /**
     * The UTF-8 bytes of a Unicode string, one char per byte; a lone U+DC80 to U+DCFF is the byte it stands for
     * (a request path's byte that was not UTF-8, kept by the path's decoding as Python's {@code surrogateescape}
     * keeps it), so PATH_INFO carries a legacy Latin-1 path's bytes as nginx passes them.
     */
    public static String utf8Bytes(String unicode) {
        for (int i = 0; i < unicode.length(); i++) {
            if (unicode.charAt(i) >= 0x80) {
                return utf8BytesFrom(unicode, i);
            }
        }
        return unicode;
    }

    private static String utf8BytesFrom(String unicode, int firstNonAscii) {
        StringBuilder bytes = new StringBuilder(unicode.length() + 16).append(unicode, 0, firstNonAscii);
        int i = firstNonAscii;
        while (i < unicode.length()) {
            int c = unicode.codePointAt(i);
            int width = Character.charCount(c);
            if (c < 0x80) {
                bytes.append((char) c);
            } else if (c >= 0xDC80 && c <= 0xDCFF) {
                bytes.append((char) (c & 0xFF)); // unpaired: codePointAt took a pair whole
            } else {
                for (byte b : unicode.substring(i, i + width).getBytes(StandardCharsets.UTF_8)) {
                    bytes.append((char) (b & 0xFF));
                }
            }
            i += width;
        }
        return bytes.toString();
    }
}
