package io.edge.core.http;

import io.edge.conf.LocationSettings;
import io.edge.conf.ServerSettings;
import io.edge.core.route.Router;
import io.netty.channel.Channel;
import io.netty.channel.group.ChannelGroup;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What every connection of one server shares: routing, responders, limits, the access log and the
 * draining flag. Thread-safe. The routing and responders are replaced as a whole by a configuration reload
 * ({@link #replaceRoutes}): an exchange runs on those it started with.
 */
public final class HttpServerContext {

    private static final Logger LOG = LoggerFactory.getLogger(HttpServerContext.class);
    private static final long PAUSE_LOG_INTERVAL_NANOS = 10_000_000_000L;

    private volatile Routes routes;
    private volatile ServerSettings settings;
    private volatile AccessLog accessLog;
    private final ChannelGroup connections;
    private volatile boolean draining;
    /** The listening channels, whose accepting {@link #admit} pauses at {@code max-connections}. */
    private final List<Channel> listeners = new CopyOnWriteArrayList<>();
    /** Whether the listeners were paused last: a closing connection then asks to resume. */
    private volatile boolean acceptPaused;
    private final LongAdder accepted = new LongAdder();
    private final LongAdder refused = new LongAdder();
    /** Times the listeners were paused at max-connections (on the accept loop). */
    private volatile long pauses;
    /** When a pause was last logged (on the accept loop). */
    private long lastPauseLogged = System.nanoTime() - PAUSE_LOG_INTERVAL_NANOS - 1;

    public HttpServerContext(Router router, Function<LocationSettings, Responder> responders, ServerSettings settings,
                             AccessLog accessLog, ChannelGroup connections) {
        this.routes = new Routes(router, responders);
        this.settings = settings;
        this.accessLog = accessLog;
        this.connections = connections;
    }

    /**
     * The routes a new exchange runs on, counted as in use until {@link Routes#exit}: routes replaced meanwhile are
     * never entered.
     */
    Routes enterRoutes() {
        while (true) {
            Routes now = routes;
            if (now.tryEnter()) {
                return now;
            }
        }
    }

    /**
     * Exchanges that start from now on are routed by {@code router} to {@code responders}; those running go on with
     * what they started with. The future completes once none of them runs any more (their last write ended, or
     * their connection closed).
     */
    public CompletableFuture<Void> replaceRoutes(Router router, Function<LocationSettings, Responder> responders) {
        Routes old = routes;
        routes = new Routes(router, responders);
        return old.replaced();
    }

    ServerSettings settings() {
        return settings;
    }

    /**
     * Limits, timeouts and {@code max-connections} from a reload: requests read from now on are checked against them,
     * connections accepted from now on are set up with them, and the listeners pause or resume by the new limit.
     */
    public void updateSettings(ServerSettings next) {
        settings = next;
        updateAccepting();
    }

    AccessLog accessLog() {
        return accessLog;
    }

    public ChannelGroup connections() {
        return connections;
    }

    /**
     * Takes {@code clientChannel} as one of the server's connections, or refuses it (false: the caller closes it)
     * when {@code max-connections} are open already or the server drains. At the limit the listeners stop
     * accepting, as HAProxy's {@code maxconn} and nginx's {@code worker_connections} do: new clients wait in the
     * listen backlog, not reset, until a connection closes. One accepted meanwhile (up to a read's worth of
     * accepts) is still refused.
     */
    boolean admit(Channel clientChannel) {
        if (connections.size() >= settings.maxConnections() || draining) {
            refused.increment();
            return false;
        }
        accepted.increment();
        connections.add(clientChannel); // removed by the group when it closes, before the listener below runs
        if (connections.size() >= settings.maxConnections()) {
            updateAccepting();
        }
        clientChannel.closeFuture().addListener(closed -> {
            if (acceptPaused) {
                updateAccepting();
            }
        });
        return true;
    }

    /**
     * The server's listening channels: paused and resumed by {@link #admit} (their accept loop decides, one
     * decision at a time, from the count then).
     */
    public void addListener(Channel listener) {
        listeners.add(listener);
    }

    /** The access log as a reload pointed it: exchanges that end from now on write to it (or not). */
    public void updateAccessLog(AccessLog next) {
        accessLog = next;
    }

    /** A listener closed by a reload: no longer paused or resumed. */
    public void removeListener(Channel listener) {
        listeners.remove(listener);
    }

    /** The listening channels added so far, in order. */
    public List<Channel> listeners() {
        return Collections.unmodifiableList(listeners);
    }

    /**
     * Pauses or resumes every listener from the count of connections, in one task on their accept loop (EdgeServer
     * gives every listener the same one-thread group, so {@link #acceptPaused} is theirs). No lost wake-up: a pause
     * first says so and then counts again, while a closing connection first leaves the group and then looks at the
     * flag, so one of them sees the other.
     */
    private void updateAccepting() {
        if (listeners.isEmpty()) {
            return;
        }
        listeners.get(0).eventLoop().execute(() -> {
            if (connections.size() >= settings.maxConnections()) {
                if (!acceptPaused) {
                    pauses++; // only this loop writes it
                }
                acceptPaused = true;
                for (Channel listener : listeners) {
                    if (listener.config().isAutoRead()) {
                        listener.config().setAutoRead(false);
                        logPause(listener);
                    }
                }
                if (connections.size() >= settings.maxConnections()) {
                    return;
                }
            }
            for (Channel listener : listeners) {
                if (!listener.config().isAutoRead()) {
                    listener.config().setAutoRead(true);
                }
            }
            acceptPaused = false;
        });
    }

    /**
     * The status page's line, as nginx's {@code stub_status} gives it: connections open now and the limit, whether
     * the listeners accept, and since start the connections taken, those closed at once (over the limit, or
     * draining) and the pauses at the limit.
     */
    public String connectionsLine() {
        ConnectionStats stats = connectionStats();
        return "open=" + stats.open() + " max=" + stats.max() + " accepting=" + (stats.accepting() ? "yes" : "no")
                + " accepted=" + stats.accepted() + " refused=" + stats.refused() + " pauses=" + stats.pauses();
    }

    /**
     * Client connections now: open, the limit, whether the listeners accept, and since start those accepted, those
     * refused (closed at once: over the limit, or draining) and the times accepting paused at the limit.
     */
    public record ConnectionStats(int open, int max, boolean accepting, long accepted, long refused, long pauses) {
    }

    public ConnectionStats connectionStats() {
        return new ConnectionStats(connections.size(), settings.maxConnections(), !acceptPaused && !draining,
                accepted.sum(), refused.sum(), pauses);
    }

    private void logPause(Channel listener) {
        long now = System.nanoTime();
        if (now - lastPauseLogged > PAUSE_LOG_INTERVAL_NANOS) { // at the limit it pauses with every connection
            lastPauseLogged = now;
            LOG.warn("max-connections {} reached: {} accepts no more connections until one closes (they wait in "
                    + "its listen backlog; logged at most every 10 s)", settings.maxConnections(), listener.localAddress());
        }
    }

    public boolean isDraining() {
        return draining;
    }

    /** From now on every response closes its connection; idle connections are closed by the caller. */
    public void startDraining() {
        draining = true;
    }
}
