/** The FastCGI responder: maps an exchange onto a backend group's pool and streams both ways. */
package io.edge.core.fastcgi;
