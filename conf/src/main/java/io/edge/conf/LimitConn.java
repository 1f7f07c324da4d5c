package io.edge.conf;

/**
 * A location's {@code limit-conn}, nginx's {@code limit_conn}: each client (its address) may have at most {@code max}
 * requests of this location in progress at a time (a download being sent, a script running); one more gets
 * {@code status}.
 *
 * @param zone   the name of its table of clients, as messages say it: {@code zone downloads} for a zone the
 *               configuration names, which locations naming it share (nginx's {@code limit_conn_zone}); {@code location
 *               <its key>} for a location's own
 * @param max    requests a client may have in progress here, at least 1 (nginx's {@code limit_conn <zone> <number>})
 * @param status the answer to one more (nginx's {@code limit_conn_status}), from 400 to 599
 * @param ipv6Prefix the leading bits of an IPv6 client's address that name it, from 1 to 128 (64: a subscriber's /64
 *               is one client); an IPv4 client is named by its whole address
 * @param key    what the zone counts requests by instead of the client, nginx's {@code limit_conn_zone} key, as
 *               {@link LimitReq#key}: a request whose key comes out empty is not counted; null: the client
 * @param mode   how it logs what it refuses, and whether it refuses (a dry run); nginx's {@code limit_conn_log_level}
 *               and {@code limit_conn_dry_run}
 */
public record LimitConn(String zone, int max, int status, int ipv6Prefix, VariableText key, LimitMode mode) {

    /** A limit counting each client. */
    public LimitConn(String zone, int max, int status, int ipv6Prefix) {
        this(zone, max, status, ipv6Prefix, null);
    }

    /** A limit logging as nginx's by default. */
    public LimitConn(String zone, int max, int status, int ipv6Prefix, VariableText key) {
        this(zone, max, status, ipv6Prefix, key, LimitMode.DEFAULT);
    }

    /** The zone's name as nginx's line says it ({@code by zone "downloads"}), as {@link LimitReq#zoneName()}. */
    public String zoneName() {
        return zone.startsWith("zone ") ? zone.substring("zone ".length()) : zone;
    }
}
