/** The HTTP/1.1 proxy responder: nginx's proxy_pass to a backend group's pool, streaming both ways. */
package io.edge.core.proxy;
