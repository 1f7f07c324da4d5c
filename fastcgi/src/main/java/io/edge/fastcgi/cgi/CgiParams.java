package io.edge.fastcgi.cgi;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
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

    private CgiParams() {
    }

    public static List<Map.Entry<String, String>> build(CgiRequest request, ScriptResolver.Script script,
            CgiOptions options) {
        Map<String, String> p = new LinkedHashMap<>();
        String root = utf8Bytes(script.documentRoot().toString());
        p.put("GATEWAY_INTERFACE", "CGI/1.1");
        p.put("SERVER_SOFTWARE", "edge");
        p.put("SCRIPT_FILENAME", utf8Bytes(script.scriptFilename().toString()));
        p.put("SCRIPT_NAME", utf8Bytes(script.scriptName()));
        p.put("PATH_INFO", utf8Bytes(script.pathInfo()));
        if (!script.pathInfo().isEmpty()) {
            p.put("PATH_TRANSLATED", root + utf8Bytes(script.pathInfo()));
        }
        p.put("REQUEST_URI", request.rawUri());
        p.put("DOCUMENT_URI", utf8Bytes(script.documentUri()));
        p.put("DOCUMENT_ROOT", root);
        p.put("QUERY_STRING", script.query());
        p.put("REQUEST_METHOD", request.method());
        p.put("CONTENT_TYPE", request.contentType() == null ? "" : request.contentType());
        p.put("CONTENT_LENGTH", request.contentLength() < 0 ? "" : Long.toString(request.contentLength()));
        p.put("SERVER_PROTOCOL", request.protocol());
        p.put("SERVER_NAME", request.serverName());
        p.put("SERVER_PORT", Integer.toString(request.serverPort()));
        p.put("SERVER_ADDR", request.serverAddr());
        p.put("REMOTE_ADDR", request.remoteAddr());
        p.put("REMOTE_PORT", Integer.toString(request.remotePort()));
        if (request.https()) {
            p.put("HTTPS", "on");
        }
        p.put("REDIRECT_STATUS", "200");
        addHeaders(p, request.headers(), options.allowUnderscoresInHeaders());
        for (Map.Entry<String, String> e : options.extraParams()) {
            p.put(e.getKey(), e.getValue());
        }
        List<Map.Entry<String, String>> out = new ArrayList<>(p.size());
        p.forEach((k, v) -> out.add(Map.entry(k, v)));
        return out;
    }

    private static void addHeaders(Map<String, String> params, List<Map.Entry<String, String>> headers,
            boolean allowUnderscores) {
        Map<String, String> joined = new LinkedHashMap<>();
        for (Map.Entry<String, String> h : headers) {
            String name = h.getKey();
            if (!allowUnderscores && name.indexOf('_') >= 0) {
                continue;
            }
            String key = "HTTP_" + name.toUpperCase(Locale.ROOT).replace('-', '_');
            // httpoxy: PHP libraries read HTTP_PROXY as their outgoing proxy. Content-* go in CONTENT_*.
            if (key.equals("HTTP_PROXY") || key.equals("HTTP_CONTENT_TYPE") || key.equals("HTTP_CONTENT_LENGTH")) {
                continue;
            }
            String separator = key.equals("HTTP_COOKIE") ? "; " : ", ";
            joined.merge(key, h.getValue(), (a, b) -> a + separator + b);
        }
        params.putAll(joined);
    }

    /** The UTF-8 bytes of a Unicode string, one char per byte. */
    static String utf8Bytes(String unicode) {
        for (int i = 0; i < unicode.length(); i++) {
            if (unicode.charAt(i) >= 0x80) {
                return new String(unicode.getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1);
            }
        }
        return unicode;
    }
}
