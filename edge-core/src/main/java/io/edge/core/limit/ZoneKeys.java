package io.edge.core.limit;

import io.edge.conf.VariableText;
import io.edge.core.http.Exchange;
import io.edge.core.http.Variables;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The key a request is counted by in a limit's zone: its client ({@link ClientKeys}), or the value of the zone's key
 * text (nginx's {@code limit_req_zone $http_x_api_key}), which a client chooses: one longer than {@link #MAX_KEPT}
 * characters is kept as its SHA-256, so a full table ({@link RequestZone#MAX_CLIENTS} keys) holds a few tens of MB
 * however long the keys clients send.
 */
final class ZoneKeys {

    /** The longest key kept as it is. */
    static final int MAX_KEPT = 64;

    private ZoneKeys() {
    }

    /** {@code exchange}'s key in a zone keyed by {@code key} (null: the client, by {@code ipv6Prefix}); null: none. */
    static Object of(Exchange exchange, VariableText key, int ipv6Prefix) {
        if (key == null) {
            return ClientKeys.of(exchange.remoteAddress().getAddress(), ipv6Prefix);
        }
        return kept(Variables.field(exchange, key));
    }

    /** {@code value} as a table keeps it: itself, its digest when long; null (not counted) when empty, as nginx's. */
    static String kept(String value) {
        if (value.isEmpty()) {
            return null;
        }
        if (value.length() <= MAX_KEPT) {
            return value;
        }
        try {
            // longer than MAX_KEPT: never the same as a key kept as it is, which a client could send to pose as it
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(value.getBytes(StandardCharsets.UTF_8));
            return "#" + HexFormat.of().formatHex(digest) + "#" + value.length();
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError("every Java has SHA-256", e);
        }
    }
}
