/** Glue between the HTTP core and the cache module: the response cache in front of FastCGI, PURGE, and cached static files. */
package io.edge.core.cache;
