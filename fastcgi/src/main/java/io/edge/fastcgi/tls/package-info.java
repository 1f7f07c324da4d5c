/** X.509 material of a backend group's and a site's TLS checks that edge reads itself: CRLs held compactly. */
package io.edge.fastcgi.tls;
