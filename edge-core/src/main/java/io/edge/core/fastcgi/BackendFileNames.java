package io.edge.core.fastcgi;

import io.edge.core.http.Exchange;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The file a backend names in {@code X-Sendfile} or {@code X-Accel-Redirect}, as it meant it. A header value comes
 * one char per byte sent (ISO-8859-1), while scripts send UTF-8 names (Symfony's BinaryFileResponse sends them raw),
 * and an {@code X-Accel-Redirect} URI may be percent-encoded ({@code file%20name.txt}), which nginx decodes.
 */
public final class BackendFileNames {

    /**
     * The backend's fields nginx keeps when it follows an {@code X-Accel-Redirect}, a FastCGI backend's or a proxied
     * one's: those of ngx_http_upstream_headers_in with {@code redirect} set, which it copies into the request's own
     * before the internal redirect; none of the others (Vary, Content-Language, ETag, Last-Modified, Link).
     */
    public static final List<String> ACCEL_REDIRECT_KEPT = List.of("Content-Type", "Content-Disposition", "Set-Cookie",
            "Cache-Control", "Expires", "Accept-Ranges");

    private BackendFileNames() {
    }

    /**
     * An {@code X-Sendfile} path: its bytes read as UTF-8 where they are UTF-8, else each byte as its Latin-1 char (so
     * a legacy Latin-1 name names the file of its UTF-8 spelling: file names go to the kernel in UTF-8); null if it
     * holds a NUL, which no file name has.
     */
    static String sendfilePath(String value) {
        return withoutNul(utf8OrAsSent(bytesOf(value, false)));
    }

    /**
     * The path of an {@code X-Accel-Redirect} URI (its query already taken off): {@code %XX} escapes decoded, then
     * read as UTF-8 where that is UTF-8, else a Latin-1 char per byte (as above); a {@code %} not followed by two hex
     * digits stays as it is. Null if it holds a NUL ({@code %00}), as nginx refuses such a URI.
     */
    static String accelPath(String uriPath) {
        return withoutNul(utf8OrAsSent(bytesOf(uriPath, true)));
    }

    /**
     * Whether a file's name ({@link #sendfilePath}, {@link #accelPath}) names a directory: it ends in "/" or in a "."
     * segment, where the kernel wants one (a file there: ENOTDIR), as a request's path "/a.jpg/" names no file.
     */
    static boolean namesDirectory(String name) {
        return name.endsWith("/") || name.endsWith("/.");
    }

    /**
     * Whether an {@code X-Accel-Redirect} URI (its query already taken off) is one nginx refuses as unsafe, with 404
     * (ngx_http_parse_unsafe_uri): no path from the root ({@code protected/x.pdf}, an empty one), a {@code ..} segment
     * as sent or once its {@code %XX} escapes are decoded ({@code /protected/%2e%2e/secret.txt}: a script passes on
     * what PHP decoded once), or a NUL. Normalized instead, such a URI let the usual download script, which puts a
     * client's file name after {@code /protected/}, hand out any file a location of the site serves, internal ones too.
     */
    public static boolean unsafeAccelUri(String uriPath) {
        if (!uriPath.startsWith("/")) {
            return true;
        }
        String decoded = new String(bytesOf(uriPath, true), StandardCharsets.ISO_8859_1);
        return hasDotDotSegment(uriPath) || hasDotDotSegment(decoded) || decoded.indexOf('\0') >= 0;
    }

    /**
     * Sends a request a backend's X-Accel-Redirect sends on with the body that backend had, as nginx sends the body it
     * kept to the location the redirect lands in: {@code body}, read whole, is kept by the exchange for it ({@link
     * Exchange#keepBody}, a share of it held until the exchange ends) and announced by its length (a chunked one's
     * too, as nginx sends a body it read whole). With none ({@code null}: the request had none, or streamed it to the
     * backend, and what is still to come is dropped), the announcement is taken off: announced still, the location it
     * lands in would wait for a body never to come again (a proxied or PHP one: its client hung to its timeout).
     */
    public static void passOnBody(Exchange exchange, SpooledBody body) {
        HttpRequest request = exchange.request();
        request.headers().remove(HttpHeaderNames.CONTENT_LENGTH).remove(HttpHeaderNames.TRANSFER_ENCODING);
        if (body != null) {
            exchange.keepBody(body, body.share());
            HttpUtil.setContentLength(request, body.length());
        }
    }

    /** {@code uri} without its query: all before its first '?'. */
    public static String withoutQuery(String uri) {
        int query = uri.indexOf('?');
        return query < 0 ? uri : uri.substring(0, query);
    }

    private static boolean hasDotDotSegment(String path) {
        int start = 0;
        while (start <= path.length()) {
            int end = path.indexOf('/', start);
            if (end < 0) {
                end = path.length();
            }
            if (end - start == 2 && path.startsWith("..", start)) {
                return true;
            }
            start = end + 1;
        }
        return false;
    }

    private static byte[] bytesOf(String value, boolean percentDecode) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(value.length());
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (percentDecode && c == '%' && i + 2 < value.length()) {
                int hi = Character.digit(value.charAt(i + 1), 16);
                int lo = Character.digit(value.charAt(i + 2), 16);
                if (hi >= 0 && lo >= 0) {
                    bytes.write(hi << 4 | lo);
                    i += 2;
                    continue;
                }
            }
            if (c > 0xFF) { // not from the wire: a value set as a string already
                byte[] utf8 = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
                bytes.write(utf8, 0, utf8.length);
            } else {
                bytes.write(c);
            }
        }
        return bytes.toByteArray();
    }

    private static String utf8OrAsSent(byte[] bytes) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException notUtf8) {
            return new String(bytes, StandardCharsets.ISO_8859_1);
        }
    }

    private static String withoutNul(String name) {
        return name.indexOf('\0') >= 0 ? null : name;
    }
}
