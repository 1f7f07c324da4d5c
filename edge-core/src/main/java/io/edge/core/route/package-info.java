/** Chooses the site by Host and the location by path, with nginx's precedence. */
package io.edge.core.route;
