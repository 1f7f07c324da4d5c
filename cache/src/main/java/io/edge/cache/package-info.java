/** Caffeine caches for file contents and HTTP responses. */
package io.edge.cache;
