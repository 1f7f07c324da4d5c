/**
 * Ends TLS on the listeners marked ssl: certificates by SNI, OCSP stapling, the handshake's failures, files read for
 * the cipher.
 */
package io.edge.core.tls;
