package io.edge.core.http;

import io.edge.conf.LocationSettings;
import io.edge.conf.ServerSettings;
import io.edge.core.route.Router;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.group.ChannelGroup;
import java.util.ArrayDeque;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
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
    /** The listening channels, whose accepting pauses at {@code max-connections} ({@link #admitAccepted}). */
    private final List<Channel> listeners = new CopyOnWriteArrayList<>();
    /** Whether the listeners were paused last: a closing connection then asks to resume. */
    private volatile boolean acceptPaused;
    /**
     * Connections accepted and not closed yet: counted on the accept loop as each is accepted ({@link #admitAccepted}),
     * uncounted by {@link #releaseSlot} on its own loop as it closes.
     */
    private final AtomicInteger open = new AtomicInteger();
    /** Connections accepted by the accept loop's current read and not yet passed to {@link #admitAccepted}. */
    private int acceptedUnseen;
    /** Connections accepted at the limit all the same, oldest first, waiting for a slot (accept loop only). */
    private final ArrayDeque<HeldConnection> held = new ArrayDeque<>();
    /** A counted connection closed: its slot is free; accepting resumes if the limit had paused it. */
    private final ChannelFutureListener releaseSlot = closed -> {
        if (open.decrementAndGet() < settings.maxConnections() && acceptPaused) {
            updateAccepting();
        }
    };
    /** The idle kept-alive connections of each client loop, closed oldest first to make room at the limit. */
    private final Map<EventLoop, IdleConnections> idle = new ConcurrentHashMap<>();
    /** Paused at the limit with no idle connection to close: the next one to become idle is ({@link #closeIdle}). */
    private volatile boolean idleWanted;
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
     * Makes {@code bootstrap}'s listeners accept no connection beyond {@code max-connections} ({@link AcceptLimit}):
     * at the limit they stop accepting, as HAProxy's {@code maxconn} and nginx's {@code worker_connections} do, and new
     * clients wait in the listen backlog, not reset, until a connection closes. The limit is shared by every listener
     * {@link #addListener added}; all must be served by one accept loop.
     */
    public void limitAccepting(ServerBootstrap bootstrap) {
        bootstrap.option(ChannelOption.RECVBUF_ALLOCATOR, new AcceptLimit.Allocator(this))
                .handler(new AcceptLimit.Admission(this));
    }

    /** A listener's read begins (accept loop): none of its accepts is counted yet. */
    void acceptReadStarted() {
        acceptedUnseen = 0;
    }

    /** A listener's read accepted {@code count} connections, not yet passed to {@link #admitAccepted} (accept loop). */
    void acceptedInRead(int count) {
        acceptedUnseen += count;
    }

    /** Whether a listener's read may accept one more connection (accept loop). */
    boolean mayAcceptMore() {
        return open.get() + acceptedUnseen < settings.maxConnections() && !draining;
    }

    /**
     * Takes {@code clientChannel}, just accepted by {@code listener}, on to its loop, counted as open until it closes
     * (the connection that reaches the limit stops the listeners then and there, in the read that accepted it); or,
     * at the limit already, holds it until a slot frees; or closes it when the server drains. Runs on the accept loop.
     *
     * <p>At the limit a listener may still accept one: the accept loop handles every listener the kernel reported
     * ready in one wake-up, and Netty's read accepts before it asks whether to go on, so the other listeners of the
     * wake-up in which the limit was reached take one each (and a reload may lower the limit below the count). Such a
     * connection waits unregistered, as it would have in the backlog, and is the first to take a freed slot.
     */
    void admitAccepted(ChannelHandlerContext listener, Channel clientChannel) {
        acceptedUnseen = Math.max(0, acceptedUnseen - 1);
        if (draining) {
            refused.increment();
            clientChannel.unsafe().closeForcibly(); // not registered yet: as Netty's acceptor closes one it cannot register
        } else if (open.get() >= settings.maxConnections()) {
            held.add(new HeldConnection(listener, clientChannel));
            decideAccepting();
        } else {
            passOn(listener, clientChannel);
            if (open.get() >= settings.maxConnections()) {
                decideAccepting();
            }
        }
    }

    /** Counts {@code clientChannel} as open and passes it to Netty's acceptor, which registers it with its loop. */
    private void passOn(ChannelHandlerContext listener, Channel clientChannel) {
        open.incrementAndGet();
        accepted.increment();
        // A connection whose registration fails (its loop is shutting down) is closed without its close future:
        // it stays counted, which matters no more then.
        clientChannel.closeFuture().addListener(releaseSlot);
        listener.fireChannelRead(clientChannel);
    }

    /** A connection accepted at the limit, not registered, waiting for a slot ({@link #admitAccepted}). */
    private record HeldConnection(ChannelHandlerContext listener, Channel clientChannel) {
    }

    /**
     * Takes {@code clientChannel}, counted by {@link #admitAccepted}, as one of the server's connections (for the drain
     * at shutdown), or refuses it (false: the caller closes it) when the server began to drain since.
     */
    boolean admit(Channel clientChannel) {
        if (draining) {
            refused.increment();
            return false;
        }
        connections.add(clientChannel); // removed by the group when it closes
        return true;
    }

    /**
     * The server's listening channels: paused and resumed by the count of open connections (their accept loop
     * decides, one decision at a time, from the count then).
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

    /** Pauses or resumes every listener from the count of open connections, in a task on their accept loop. */
    private void updateAccepting() {
        if (listeners.isEmpty()) {
            return;
        }
        listeners.get(0).eventLoop().execute(this::decideAccepting);
    }

    /**
     * Pauses every listener at the limit, resumes them below it. Runs on their accept loop (EdgeServer gives every
     * listener the same one-thread group, so {@link #acceptPaused} is theirs). A listener paused from within its own
     * read stops there, and one resumed reports the connections waiting in its backlog at once (epoll is level
     * triggered). No lost wake-up: a pause first says so and then counts again, while a closing connection first
     * leaves the count and then looks at the flag, so one of them sees the other.
     */
    private void decideAccepting() {
        HeldConnection next;
        while ((open.get() < settings.maxConnections() || draining) && (next = held.poll()) != null) {
            if (draining || !next.listener().channel().isRegistered()) { // a reload closed its listener
                refused.increment();
                next.clientChannel().unsafe().closeForcibly();
            } else {
                passOn(next.listener(), next.clientChannel());
            }
        }
        if (open.get() >= settings.maxConnections()) {
            boolean wasPaused = acceptPaused;
            if (!wasPaused) {
                pauses++; // only this loop writes it
            }
            acceptPaused = true;
            for (Channel listener : listeners) {
                if (listener.config().isAutoRead()) {
                    listener.config().setAutoRead(false);
                    logPause(listener);
                }
            }
            if (open.get() >= settings.maxConnections()) {
                if (!wasPaused || !held.isEmpty()) {
                    closeIdle(); // clients wait (or are likely to): make room
                }
                return;
            }
        }
        for (Channel listener : listeners) {
            if (!listener.config().isAutoRead()) {
                listener.config().setAutoRead(true);
            }
        }
        acceptPaused = false;
        idleWanted = false;
    }

    /** The idle connections of {@code loop}, linked and unlinked by their {@link RequestTimeouts}. */
    IdleConnections idleConnections(EventLoop loop) {
        return idle.computeIfAbsent(loop, l -> new IdleConnections(l, this));
    }

    /** Whether an idle connection is wanted to make room: paused at the limit, none was idle. Any thread. */
    boolean wantsIdle() {
        return idleWanted;
    }

    /** A connection became idle while {@link #wantsIdle}. Any thread. */
    void idleAppeared() {
        onAcceptLoop(() -> {
            if (idleWanted) {
                closeIdle();
            }
        });
    }

    /** The idle connection {@link #closeIdle} asked to close was no longer idle. Any thread. */
    void idleGone() {
        onAcceptLoop(this::closeIdle);
    }

    private void onAcceptLoop(Runnable task) {
        if (!listeners.isEmpty()) {
            listeners.get(0).eventLoop().execute(task);
        }
    }

    /**
     * At the limit, closes the kept-alive connection idle longest, on its own loop, to make room for a client waiting
     * in the backlog, as nginx closes its reusable connections when it runs out; one per pause of the listeners (the
     * connection the freed slot takes pauses them again, and so on while clients wait). With none idle, the next to
     * become idle is closed. A connection in the middle of a request or a response is never closed. Runs on the
     * accept loop. No lost wake-up: this says it wants one and then looks, while a connection becoming idle shows
     * itself and then looks whether one is wanted.
     */
    private void closeIdle() {
        if (!acceptPaused || draining) {
            idleWanted = false;
            return;
        }
        idleWanted = true;
        IdleConnections longest = null;
        long longestSince = 0;
        for (IdleConnections loopIdle : idle.values()) {
            long since = loopIdle.oldestIdleSince();
            if (since != IdleConnections.NONE && (longest == null || since - longestSince < 0)) {
                longest = loopIdle;
                longestSince = since;
            }
        }
        if (longest != null) {
            idleWanted = false;
            longest.loop().execute(longest::closeOldest);
        }
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
        return new ConnectionStats(open.get(), settings.maxConnections(), !acceptPaused && !draining,
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

    /**
     * From now on every response closes its connection, and connections held at the limit close; idle connections
     * are closed by the caller.
     */
    public void startDraining() {
        draining = true;
        updateAccepting();
    }
}
