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
 */
public record LimitConn(String zone, int max, int status, int ipv6Prefix, VariableText key) {

    /** A limit counting each client. */
    public LimitConn(String zone, int max, int status, int ipv6Prefix) {
        this(zone, max, status, ipv6Prefix, null);
    }
}
