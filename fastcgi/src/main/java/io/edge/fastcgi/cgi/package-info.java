/** CGI/1.1 (RFC 3875) over FastCGI: script resolution, the param list, and parsing of CGI response headers. */
package io.edge.fastcgi.cgi;
