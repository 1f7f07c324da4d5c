package io.edge.fastcgi;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * A named group of FastCGI backend addresses sharing one wait queue.
 *
 * @param name            the group's name, as referenced by locations
 * @param addresses       "unix:/path/to.sock" or "host:port"
 * @param balance         how a free address is chosen
 * @param maxConnections  connections per address, summed over all event loops (= php-fpm pm.max_children)
 * @param queue           the bounded wait queue used when every connection slot is busy
 * @param timeouts        connect, read and write timeouts
 * @param keepAlive       reuse of backend connections
 * @param health          passive health checking
 * @param spawn           a php-fpm that edge starts and supervises, or {@code null}
 */
public record BackendGroupSettings(
        String name,
        List<String> addresses,
        Balance balance,
        int maxConnections,
        Queue queue,
        Timeouts timeouts,
        KeepAlive keepAlive,
        Health health,
        Spawn spawn) {

    public BackendGroupSettings {
        Objects.requireNonNull(name, "name");
        addresses = List.copyOf(addresses);
    }

    /** Address selection among those with a free slot. */
    public enum Balance { LEAST_CONNECTIONS, ROUND_ROBIN }

    /**
     * @param maxWaiters requests that may wait at once; one more gets 503 at once
     * @param timeout    how long a request may wait for a slot before 503 + Retry-After
     */
    public record Queue(int maxWaiters, Duration timeout) {
    }

    /** @param connect connect timeout; @param read time without backend data; @param write time without write progress */
    public record Timeouts(Duration connect, Duration read, Duration write) {
    }

    /**
     * @param enabled     send FCGI_KEEP_CONN and reuse connections
     * @param idleTimeout an idle pooled connection is closed after this
     * @param maxRequests a connection is closed after this many exchanges (0 = no limit)
     */
    public record KeepAlive(boolean enabled, Duration idleTimeout, int maxRequests) {
    }

    /** @param maxFails consecutive failures that take an address out; @param failTimeout for how long */
    public record Health(int maxFails, Duration failTimeout) {
    }

    /**
     * A php-fpm started by edge, with a pool config it writes (socket in the run directory).
     *
     * @param command  the php-fpm binary
     * @param workers  pm.max_children (also the group's max-connections)
     * @param extraIni extra php.ini lines (php_admin_value style "key = value")
     * @param runDir   where the pool config, pid file and socket go
     */
    public record Spawn(Path command, int workers, List<String> extraIni, Path runDir) {
        public Spawn {
            extraIni = List.copyOf(extraIni);
        }
    }
}
