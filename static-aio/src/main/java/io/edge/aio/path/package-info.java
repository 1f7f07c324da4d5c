/** Maps raw request paths onto files under a site root: decoding, normalisation, traversal, dotfile and symlink policy. */
package io.edge.aio.path;
