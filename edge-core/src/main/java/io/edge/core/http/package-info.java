/** HTTP/1.1 exchange handling shared by every responder. */
package io.edge.core.http;
