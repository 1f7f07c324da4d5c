package io.edge.core.http;

/**
 * What a {@code limit-req} or {@code limit-conn} made of a request, as nginx's {@code $limit_req_status} and
 * {@code $limit_conn_status} word it. A request no limit counted has none ("-" in the access log, as nginx's).
 */
public enum LimitStatus {
    /** Within the limit: it went on at once. */
    PASSED,
    /** Past the rate, within the burst: it waited (limit-req only). */
    DELAYED,
    /** Past the limit: answered with its status. */
    REJECTED,
    /** A dry run's request that would have waited: it went on at once (limit-req only). */
    DELAYED_DRY_RUN,
    /** A dry run's request that would have been refused: it went on, counted in no zone. */
    REJECTED_DRY_RUN
}
