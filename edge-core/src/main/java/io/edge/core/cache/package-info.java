/** Glue between the HTTP core and the cache module: the response cache before backends, PURGE, cached static files. */
package io.edge.core.cache;
