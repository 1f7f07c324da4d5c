/** Per-client limits, nginx's limit_req and limit_conn: a table per zone, keyed by client address or IPv6 prefix. */
package io.edge.core.limit;
