package io.edge.conf;

/**
 * A location's {@code limit-rate}, nginx's {@code limit_rate} and {@code limit_rate_after}: a file's body goes to each
 * request's client at most {@code bytesPerSecond} on average, after its first {@code after} bytes went at full speed.
 *
 * @param bytesPerSecond the rate, at least 1
 * @param after          bytes of the body sent before the rate holds
 */
public record LimitRate(long bytesPerSecond, long after) {
}
