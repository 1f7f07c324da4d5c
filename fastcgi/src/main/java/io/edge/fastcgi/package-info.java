/** FastCGI backends: settings shared by the codec, the client and the pool. */
package io.edge.fastcgi;
