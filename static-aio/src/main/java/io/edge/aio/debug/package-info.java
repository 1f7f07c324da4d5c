/** Debugging aids for the static path's buffers: released read buffers poisoned and quarantined. */
package io.edge.aio.debug;
