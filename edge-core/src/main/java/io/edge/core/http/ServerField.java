package io.edge.core.http;

import io.edge.conf.ServerSettings;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/**
 * The {@code Server} field of every answer, as nginx's header filter adds it by {@code server_tokens}: "edge/" and
 * the version, or "edge" alone with {@code server.server-tokens = off}.
 */
public final class ServerField {

    /**
     * edge's version, as {@code edge --version}, the Server field and edge's own pages say it: the project's Maven
     * version, which the build writes into {@code io/edge/core/edge-version.properties} (from the classes directory as
     * from the jar; a jar's manifest would say nothing to tests run on the classes).
     */
    public static final String VERSION = projectVersion();

    private static final String NAME = "edge";
    private static final String NAME_AND_VERSION = NAME + "/" + VERSION;

    private ServerField() {
    }

    private static String projectVersion() {
        Properties properties = new Properties();
        try (InputStream in = ServerField.class.getResourceAsStream("/io/edge/core/edge-version.properties")) {
            if (in == null) {
                throw new IllegalStateException("io/edge/core/edge-version.properties is not on the class path");
            }
            properties.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException("io/edge/core/edge-version.properties cannot be read", e);
        }
        String version = properties.getProperty("version", "");
        if (version.isBlank() || version.contains("${")) {
            // the build did not filter the file (an IDE copying resources as they are)
            throw new IllegalStateException("io/edge/core/edge-version.properties says no version: \"" + version + "\"");
        }
        return version;
    }

    /**
     * Adds the Server field {@code settings} call for to {@code headers}, unless they have one: a script's own goes to
     * the client in its place, as nginx's FastCGI module passes it on and its header filter then adds none (a proxied
     * backend's was hidden before, as by nginx's proxy_hide_header defaults).
     */
    static void add(HttpHeaders headers, ServerSettings settings) {
        if (!headers.contains(HttpHeaderNames.SERVER)) {
            headers.set(HttpHeaderNames.SERVER, value(settings.serverTokens()));
        }
    }

    /** What edge calls itself: "edge/" and the version with {@code serverTokens}, else "edge" alone. */
    public static String value(boolean serverTokens) {
        return serverTokens ? NAME_AND_VERSION : NAME;
    }
}
