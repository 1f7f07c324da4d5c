/** Runs one FastCGI exchange (BEGIN_REQUEST, PARAMS, STDIN out; STDOUT, STDERR, END_REQUEST in) on a leased connection. */
package io.edge.fastcgi.client;
