package io.edge.fastcgi.cgi;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What the CGI mapping needs to know about one HTTP request, in plain values.
 *
 * @param method        e.g. "GET"
 * @param rawUri        the request target as received, with its query ("/a%20b.php?x=1")
 * @param protocol      e.g. "HTTP/1.1"
 * @param path          the percent-decoded, normalised path ("/a b.php"), Unicode
 * @param query         the raw query without '?', "" when none
 * @param headers       request headers in arrival order, byte strings as Netty gives them
 * @param contentType   the body's Content-Type or null
 * @param contentLength the body's length, or -1 when there is no body
 * @param serverName    the virtual host's name
 * @param serverPort    the port the request came in on
 * @param serverAddr    the local address the request came in on
 * @param remoteAddr    the client's address
 * @param remotePort    the client's port
 * @param https         whether the client came over TLS (to a proxy in front that ended it: edge speaks plain HTTP)
 * @param remoteUser    the user whose password the server checked (auth-basic), bytes one char each; null for none
 */
public record CgiRequest(
        String method,
        String rawUri,
        String protocol,
        String path,
        String query,
        List<Map.Entry<String, String>> headers,
        String contentType,
        long contentLength,
        String serverName,
        int serverPort,
        String serverAddr,
        String remoteAddr,
        int remotePort,
        boolean https,
        String remoteUser) {

    public CgiRequest {
        Objects.requireNonNull(method, "method");
        Objects.requireNonNull(rawUri, "rawUri");
        Objects.requireNonNull(path, "path");
        query = query == null ? "" : query;
        headers = List.copyOf(headers);
    }

    /** A request no password was checked for. */
    public CgiRequest(String method, String rawUri, String protocol, String path, String query,
            List<Map.Entry<String, String>> headers, String contentType, long contentLength, String serverName,
            int serverPort, String serverAddr, String remoteAddr, int remotePort, boolean https) {
        this(method, rawUri, protocol, path, query, headers, contentType, contentLength, serverName, serverPort,
                serverAddr, remoteAddr, remotePort, https, null);
    }
}
