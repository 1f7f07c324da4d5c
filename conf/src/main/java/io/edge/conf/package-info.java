/** HOCON configuration mapped onto immutable settings records. */
package io.edge.conf;
