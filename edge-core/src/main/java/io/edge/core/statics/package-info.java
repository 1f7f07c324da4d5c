/** HTTP semantics of static responses (ranges, preconditions, media types, multipart) and the static responder. */
package io.edge.core.statics;
