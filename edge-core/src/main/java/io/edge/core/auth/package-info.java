/** HTTP Basic authentication against htpasswd files, nginx's auth_basic. */
package io.edge.core.auth;
