/** Backend connections: per-address slots counted across event loops, keep-alive reuse, and the bounded wait queue. */
package io.edge.fastcgi.pool;
