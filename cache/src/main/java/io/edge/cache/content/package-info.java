/** Small static files held in memory as ready-to-send direct buffers, revalidated against size and mtime. */
package io.edge.cache.content;
