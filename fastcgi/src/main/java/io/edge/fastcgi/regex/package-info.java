/** Regular expressions tried on what a client sent within a step budget, as PCRE's match limit bounds nginx's. */
package io.edge.fastcgi.regex;
