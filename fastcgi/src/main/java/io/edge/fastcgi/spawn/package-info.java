/** Starting, supervising and stopping a php-fpm that edge runs itself for a backend group. */
package io.edge.fastcgi.spawn;
