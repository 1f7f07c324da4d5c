/**
 * Per-client limits, nginx's limit_req and limit_conn: a table per zone, keyed by client address or IPv6 prefix, or
 * by a text of the request's variables; several in one location, every one applying; and
 * the pace of one answer's body, nginx's limit_rate.
 */
package io.edge.core.limit;
