/** FastCGI 1.0 wire format: record types, messages, the record encoder/decoder and name-value pairs. */
package io.edge.fastcgi.codec;
