package io.edge.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.conf.ServerSettings;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What a reload names as needing a restart ({@link Edge#changedServerKeys}), and what it runs with. */
class ServerChangesTest {

    private static final ServerSettings.HttpLimits LIMITS = new ServerSettings.HttpLimits(8192, 16384, 100, 1 << 20);
    private static final ServerSettings.HttpTimeouts TIMEOUTS = new ServerSettings.HttpTimeouts(Duration.ofSeconds(10),
            Duration.ofSeconds(10), Duration.ofSeconds(60), Duration.ofSeconds(60), Duration.ofSeconds(30), Duration.ofSeconds(5),
            Duration.ofSeconds(30));

    private static ServerSettings server(int port, int maxConnections, Path runDir, boolean temporary, boolean accessLog) {
        return new ServerSettings(List.of(new InetSocketAddress("127.0.0.1", port)), 2, maxConnections, LIMITS, TIMEOUTS,
                null, runDir, accessLog, temporary);
    }

    @Test
    void equalSettingsChangeNothing() {
        assertThat(Edge.changedServerKeys(server(8080, 100, Path.of("/run/edge"), false, true),
                server(8080, 100, Path.of("/run/edge"), false, true))).isEmpty();
    }

    @Test
    void changedSettingsAreNamedByTheirConfigurationKeysOnce() {
        assertThat(Edge.changedServerKeys(server(8080, 100, Path.of("/run/edge"), false, true),
                server(8081, 50, Path.of("/run/other"), false, false)))
                .containsExactly("listen", "max-connections", "run-dir", "access-log");
    }

    @Test
    void twoTemporaryRunDirectoriesAreTheSameSetting() {
        assertThat(Edge.changedServerKeys(server(8080, 100, Path.of("/tmp/edge-1"), true, true),
                server(8080, 100, Path.of("/tmp/edge-2"), true, true))).isEmpty();
        assertThat(Edge.changedServerKeys(server(8080, 100, Path.of("/tmp/edge-1"), true, true),
                server(8080, 100, Path.of("/run/edge"), false, true))).containsExactly("run-dir");
    }

    @Test
    void aReloadRunsWithTheStartsIoThreadsAndRunDirAndTheAccessLogItIsGiven() {
        ServerSettings inForce = new ServerSettings(List.of(new InetSocketAddress("127.0.0.1", 8080)), 2, 100, LIMITS,
                TIMEOUTS, Path.of("/var/log/edge/a.log"), Path.of("/run/edge"), true, false);
        ServerSettings.HttpLimits otherLimits = new ServerSettings.HttpLimits(4096, 8192, 50, 1 << 10);
        ServerSettings next = new ServerSettings(List.of(new InetSocketAddress("127.0.0.1", 8081)), 4, 50, otherLimits,
                TIMEOUTS, Path.of("/var/log/edge/b.log"), Path.of("/tmp/edge-9"), false, true);

        ServerSettings logKept = next.reloadedOver(inForce, inForce);
        assertThat(logKept).isEqualTo(new ServerSettings(next.listen(), 2, 50, otherLimits, TIMEOUTS,
                Path.of("/var/log/edge/a.log"), Path.of("/run/edge"), true, false));
        ServerSettings logSwitched = next.reloadedOver(inForce, next);
        assertThat(logSwitched).isEqualTo(new ServerSettings(next.listen(), 2, 50, otherLimits, TIMEOUTS,
                Path.of("/var/log/edge/b.log"), Path.of("/run/edge"), false, false));
        assertThat(next.withMaxConnections(10)).isEqualTo(new ServerSettings(next.listen(), 4, 10, otherLimits, TIMEOUTS,
                Path.of("/var/log/edge/b.log"), Path.of("/tmp/edge-9"), false, true));
    }

    /** What applies at once on a reload, server-tokens and the image workers, is the reload's, kept by both copies. */
    @Test
    void serverTokensAndImageWorkersGoThroughAReloadAndAHeldMaxConnections() {
        ServerSettings inForce = new ServerSettings(List.of(new InetSocketAddress("127.0.0.1", 8080)), 2, 100, LIMITS,
                TIMEOUTS, Path.of("/var/log/edge/a.log"), Path.of("/run/edge"), true, false);
        ServerSettings.ImageWorkers workers = new ServerSettings.ImageWorkers(3, 5, 1000, Duration.ofSeconds(7));
        ServerSettings next = new ServerSettings(inForce.listen(), 2, 100, LIMITS, TIMEOUTS, inForce.accessLog(),
                inForce.runDir(), true, false, Map.of(), ServerSettings.DEFAULT_TCP_NOTSENT_LOWAT,
                ServerSettings.RealIp.OFF, null, null, ServerSettings.Tls.NONE, null, workers, false);

        for (ServerSettings running : List.of(next.reloadedOver(inForce, inForce), next.withMaxConnections(10))) {
            assertThat(running.serverTokens()).isFalse();
            assertThat(running.imageWorkers()).isEqualTo(workers);
        }
    }
}
