/** Request rate limits per client, nginx's limit_req: a leaky bucket per client address and zone. */
package io.edge.core.limit;
