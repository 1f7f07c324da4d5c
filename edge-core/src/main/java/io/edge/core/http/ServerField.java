package io.edge.core.http;

import io.edge.conf.ServerSettings;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;

/**
 * The {@code Server} field of every answer, as nginx's header filter adds it by {@code server_tokens}: "edge/" and
 * the version, or "edge" alone with {@code server.server-tokens = off}.
 */
public final class ServerField {

    /** edge's version, as {@code edge --version} and the Server field say it. */
    public static final String VERSION = "0.1.0";

    private static final String NAME = "edge";
    private static final String NAME_AND_VERSION = NAME + "/" + VERSION;

    private ServerField() {
    }

    /**
     * Adds the Server field {@code settings} call for to {@code headers}, unless they have one: a script's own goes to
     * the client in its place, as nginx's FastCGI module passes it on and its header filter then adds none (a proxied
     * backend's was hidden before, as by nginx's proxy_hide_header defaults).
     */
    static void add(HttpHeaders headers, ServerSettings settings) {
        if (!headers.contains(HttpHeaderNames.SERVER)) {
            headers.set(HttpHeaderNames.SERVER, settings.serverTokens() ? NAME_AND_VERSION : NAME);
        }
    }
}
