/** Server bootstrap and command line. */
package io.edge.core;
