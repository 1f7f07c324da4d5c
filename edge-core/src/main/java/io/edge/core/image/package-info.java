/** Images read, measured, scaled, cut, turned and written again (nginx's image filter), off the event loops. */
package io.edge.core.image;
