package io.edge.fastcgi.pool;

import io.edge.fastcgi.BackendGroupSettings;
import io.netty.channel.Channel;
import java.time.Duration;
import java.util.List;

/** For tests of other packages: a one-connection pool whose only connection is a given channel. */
public final class TestLeases {

    private TestLeases() {
    }

    public record Leased(BackendPool pool, Lease lease) {
    }

    public static Leased lease(Channel backendChannel, boolean keepAlive) {
        BackendGroupSettings s = new BackendGroupSettings("test", List.of("unix:/fake.sock"),
                BackendGroupSettings.Balance.LEAST_CONNECTIONS, 1,
                new BackendGroupSettings.Queue(10, Duration.ofSeconds(1), Duration.ofSeconds(1)),
                new BackendGroupSettings.Timeouts(Duration.ofSeconds(1), Duration.ofSeconds(1), Duration.ofSeconds(1)),
                new BackendGroupSettings.KeepAlive(keepAlive, Duration.ofSeconds(60), 0),
                new BackendGroupSettings.Health(0, Duration.ofSeconds(1)), null,
                new BackendGroupSettings.ResponseBuffer(64 * 1024, 1L << 30));
        BackendPool pool = new BackendPool(s, (loop, address) -> loop.newSucceededFuture(backendChannel),
                Timers.SYSTEM);
        Lease lease = pool.acquire(backendChannel.eventLoop()).getNow();
        return new Leased(pool, lease);
    }
}
