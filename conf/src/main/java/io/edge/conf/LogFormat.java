package io.edge.conf;

import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * The access log's line, nginx's {@code log_format}: literal text and nginx's variables, each value escaped as
 * nginx's {@code escape=default} does ({@code "} and bytes outside printable ASCII as {@code \xHH}, a value not found
 * as {@code -}) or as {@code escape=json} does (a JSON string's escapes, a value not found as nothing).
 *
 * @param parts the line, as literal and variable parts in order
 * @param json  values escaped for a JSON string rather than nginx's default
 */
public record LogFormat(List<Return.Part> parts, boolean json) {

    /** The variables a line may name, besides {@code http_<header>} and {@code sent_http_<header>}. */
    public static final Set<String> VARIABLES = Set.of("remote_addr", "remote_user", "time_local", "time_iso8601",
            "msec", "request", "request_method", "request_uri", "uri", "document_uri", "args", "query_string",
            "is_args", "server_protocol", "status", "body_bytes_sent", "request_time", "upstream_response_time",
            "upstream_connect_time", "upstream_queue_time", "host", "server_name", "server_port", "server_addr",
            "scheme", "pid", "remote_port", "bytes_sent", "request_length", "request_completion", "connection",
            "connection_requests", "upstream_addr", "upstream_status", "upstream_cache_status", "request_id",
            "secure_link", "secure_link_expires", "https", "ssl_protocol", "ssl_cipher", "ssl_server_name", "http2",
            "ssl_client_verify", "ssl_client_s_dn", "ssl_client_i_dn", "ssl_client_serial", "ssl_client_fingerprint",
            "ssl_client_cert", "ssl_client_raw_cert", "ssl_client_escaped_cert", "ssl_client_v_start",
            "ssl_client_v_end", "ssl_client_v_remain", "limit_req_status", "limit_conn_status");

    /**
     * A request's field ({@code $http_user_agent}), the answer's ({@code $sent_http_content_type}), a query argument
     * ({@code $arg_page}), a cookie ({@code $cookie_sid}).
     */
    private static final List<String> HEADER_PREFIXES = List.of("http_", "sent_http_", "arg_", "cookie_");

    /** What a format is written as, for a message. */
    static final String EXPECTED = "text with nginx's variables, such as \"$remote_addr [$time_local] \\\"$request\\\""
            + " $status $body_bytes_sent $request_time\"";

    public LogFormat {
        parts = List.copyOf(parts);
    }

    /**
     * A format as written.
     *
     * @throws IllegalArgumentException saying what is wrong with {@code written}
     */
    static LogFormat parse(String written, boolean json) {
        return parse(written, json, VariableMaps.NONE);
    }

    /** As {@link #parse(String, boolean)}, the line naming {@code maps} as well. */
    static LogFormat parse(String written, boolean json, VariableMaps maps) {
        if (written.isBlank()) {
            throw new IllegalArgumentException("is empty");
        }
        if (written.chars().anyMatch(c -> c < 0x20 && c != '\t' || c == 0x7f)) {
            throw new IllegalArgumentException("has a line break or a control character: a line is one line");
        }
        return new LogFormat(maps.bind(Return.parts(written, maps.orMap(LogFormat::variableFault)), Set.of()), json);
    }

    private static String variableFault(String name) {
        if (VARIABLES.contains(name)) {
            return null;
        }
        for (String prefix : HEADER_PREFIXES) {
            if (name.startsWith(prefix) && name.length() > prefix.length()) {
                return null;
            }
        }
        return "has unknown variable $" + name + " (known: $" + String.join(", $", new TreeSet<>(VARIABLES))
                + ", $http_<header>, $sent_http_<header>, $arg_<name>, $cookie_<name>)";
    }
}
