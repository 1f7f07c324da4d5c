/** Open, stat and read files for the static path without blocking an event loop. */
package io.edge.aio;
