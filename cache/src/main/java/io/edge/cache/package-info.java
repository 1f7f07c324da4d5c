/** Settings of the Caffeine caches for file contents ({@code content}) and backend responses ({@code http}). */
package io.edge.cache;
