/** RFC 9111 shared cache for backend responses: storability, freshness, variants, coalescing, stale answers, purge. */
package io.edge.cache.http;
