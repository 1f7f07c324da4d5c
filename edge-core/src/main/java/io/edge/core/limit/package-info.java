/**
 * Per-client limits, nginx's limit_req and limit_conn: a table per zone, keyed by client address or IPv6 prefix; and
 * the pace of one answer's body, nginx's limit_rate.
 */
package io.edge.core.limit;
