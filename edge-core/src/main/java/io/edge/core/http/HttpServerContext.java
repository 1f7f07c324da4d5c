package io.edge.core.http;

import io.edge.aio.file.FileEngine;
import io.edge.conf.LocationSettings;
import io.edge.conf.ServerSettings;
import io.edge.conf.SiteSettings;
import io.edge.conf.VariableText;
import io.edge.core.image.ImageWorkers;
import io.edge.core.route.Router;
import io.edge.core.tls.TlsContexts;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.group.ChannelGroup;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.util.AttributeKey;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
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

    /** The address of server.listen, as configured (port 0 included), a listener was bound for. */
    private static final AttributeKey<InetSocketAddress> LISTEN_ADDRESS = AttributeKey.valueOf("edge.listen-address");
    /** Whether a reload dropped the listener ({@link ListenerDrop}), set with {@link #LISTEN_ADDRESS}. */
    private static final AttributeKey<ListenerDrop> LISTENER_DROP = AttributeKey.valueOf("edge.listener-drop");
    /** The Alt-Svc field of a listener's answers over TCP, set where its HTTP/3 is up ({@link #advertise}). */
    private static final AttributeKey<String> ALT_SVC = AttributeKey.valueOf("edge.alt-svc");

    private static final Logger LOG = LoggerFactory.getLogger(HttpServerContext.class);
    private static final long PAUSE_LOG_INTERVAL_NANOS = 10_000_000_000L;

    private volatile Routes routes;
    private volatile ServerSettings settings;
    /** The TLS of the listeners marked ssl, for connections accepted from now on ({@link #replaceTls}). */
    private volatile TlsContexts tls = TlsContexts.NONE;
    private volatile AccessLog accessLog;
    private final ChannelGroup connections;
    /** server.image-filter's threads, resized by a reload. */
    private final ImageWorkers images;
    private volatile boolean draining;
    /** The listening channels, whose accepting pauses at {@code max-connections} ({@link #admitAccepted}). */
    private final List<Channel> listeners = new CopyOnWriteArrayList<>();
    /**
     * At {@code max-connections}, as the accept loop last counted: a new client is not served at once, and a closing
     * connection asks the accept loop to count again ({@link #decideAccepting}).
     */
    private volatile boolean atLimit;
    /**
     * Connections accepted and not closed yet: counted on the accept loop as each is accepted ({@link #admitAccepted}),
     * uncounted by {@link #releaseSlot} on its own loop as it closes.
     */
    private final AtomicInteger open = new AtomicInteger();
    /** Connections accepted by the accept loop's current read and not yet passed to {@link #admitAccepted}. */
    private int acceptedUnseen;
    /**
     * Clients accepted at the limit, oldest first, unregistered until a slot frees ({@link #admitAccepted}): one at a
     * time, or one per listener read in the wake-up that took the first (accept loop only).
     */
    private final ArrayDeque<HeldConnection> held = new ArrayDeque<>();
    /** An accept failed a moment ago: the listeners rest ({@link #acceptFailed}; accept loop only). */
    private boolean acceptResting;
    /** Accepts that failed since start, and when one was last logged (accept loop only). */
    private long acceptFailures;
    private long acceptFailureLoggedNanos;
    /** Whether {@link #held} has a client, for the client loops ({@link IdleConnections#closeOldest}). */
    private volatile boolean clientHeld;
    /** A counted connection closed: its slot is free; a held client takes it, or accepting resumes. */
    private final ChannelFutureListener releaseSlot = closed -> {
        if (open.decrementAndGet() < settings.maxConnections() && atLimit) {
            updateAccepting();
        }
    };
    /** The idle kept-alive connections of each client loop, closed oldest first to make room at the limit. */
    private final Map<EventLoop, IdleConnections> idle = new ConcurrentHashMap<>();
    /** A client is held and none was idle: the next connection to become idle is closed ({@link #closeIdle}). */
    private volatile boolean idleWanted;
    /** An idle connection was asked to close and has not answered yet ({@link #idleAnswered}; accept loop only). */
    private boolean idleCloseAsked;
    /** A QUIC connection was taken over the limit, an idle connection being closed for it ({@link #makeRoomFor}). */
    private final AtomicBoolean quicOverLimit = new AtomicBoolean();
    private final LongAdder accepted = new LongAdder();
    private final LongAdder refused = new LongAdder();
    /** Request heads read, well-formed or not (nginx's stub_status "requests"). */
    private final LongAdder requests = new LongAdder();
    /** Times the open count reached max-connections (on the accept loop). */
    private volatile long pauses;
    /** When a pause was last logged (on the accept loop). */
    private long lastPauseLogged = System.nanoTime() - PAUSE_LOG_INTERVAL_NANOS - 1;
    /**
     * 413s, logged (by the connections' logger) as nginx logs "client intended to send too large body" at its error
     * log's default level: an upload refused for a limit set too low is otherwise only a 413 in the access log.
     * Throttled: a client retrying in a loop writes one line every few seconds.
     */
    private final ThrottledWarnings tooLarge =
            new ThrottledWarnings(LoggerFactory.getLogger(HttpConnectionHandler.class), System::nanoTime);
    /**
     * HTTP/2 header blocks refused before a stream was opened for them (malformed, or past {@code limits.header-block}),
     * logged (by {@link Http2Connection}'s logger) as nginx logs "client sent invalid header name" and "client sent too
     * large header"; throttled as {@link #tooLarge}: any client can send them at will.
     */
    private final ThrottledWarnings refusedHeaders =
            new ThrottledWarnings(LoggerFactory.getLogger(Http2Connection.class), System::nanoTime);

    /**
     * @param unroutedHeaders added to the answers given before a location is chosen ({@code location-defaults}'
     *                        always-headers)
     */
    public HttpServerContext(Router router, Function<LocationSettings, Responder> responders,
                             Map<String, VariableText> unroutedHeaders, ServerSettings settings, AccessLog accessLog,
                             ChannelGroup connections) {
        this(router, responders, null, unroutedHeaders, settings, accessLog, connections);
    }

    /** @param files the file engine of the same configuration, which rewrites' file tests ask (null: none) */
    public HttpServerContext(Router router, Function<LocationSettings, Responder> responders, FileEngine files,
                             Map<String, VariableText> unroutedHeaders, ServerSettings settings, AccessLog accessLog,
                             ChannelGroup connections) {
        this.routes = new Routes(router, responders, settings.limits().body(), unroutedHeaders, files);
        this.settings = settings;
        this.images = new ImageWorkers(settings.imageWorkers());
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
     * Exchanges that start from now on are routed by {@code router} to {@code responders}, their bodies held to
     * {@code serverBodyLimit} where their location sets none, those refused before routing answered with
     * {@code unroutedHeaders}; those running go on with what they started with. The future completes once none of them
     * runs any more (their last write ended, or their connection closed).
     * <p>
     * {@code dropped}, listeners the reload closes next ({@link #closeAccepted}), are marked dropped first where the
     * routes replaced or the new ones choose sites by address ({@link Router#routesByAddress}): their connections' sites
     * were their address's, or the new ones never were theirs (an admin port's among them), so a request read on one
     * from then on is closed unanswered ({@link ListenerDrop}), never routed by these routes. Marked after the swap, one
     * read in between was: a client of a dropped public port answered by the admin site.
     */
    public CompletableFuture<Void> replaceRoutes(Router router, Function<LocationSettings, Responder> responders,
            long serverBodyLimit, Map<String, VariableText> unroutedHeaders, Collection<Channel> dropped) {
        return replaceRoutes(router, responders, null, serverBodyLimit, unroutedHeaders, dropped);
    }

    /** As above, the rewrites' file tests asking {@code files} (null: none). */
    public CompletableFuture<Void> replaceRoutes(Router router, Function<LocationSettings, Responder> responders,
            FileEngine files, long serverBodyLimit, Map<String, VariableText> unroutedHeaders,
            Collection<Channel> dropped) {
        Routes old = routes;
        if (old.router().routesByAddress() || router.routesByAddress()) {
            dropped.forEach(listener -> listener.attr(LISTENER_DROP).get().mark());
        }
        routes = new Routes(router, responders, serverBodyLimit, unroutedHeaders, files);
        return old.replaced();
    }

    ServerSettings settings() {
        return settings;
    }

    /**
     * Connections accepted from now on end TLS by {@code next} (a reload's certificates, or listeners marked ssl or no
     * longer); those open keep the context they began with. The OCSP responses of {@code next}'s certificates are
     * fetched from now on, those of the ones it replaces no more.
     */
    public void replaceTls(TlsContexts next) {
        TlsContexts previous = tls;
        tls = next;
        next.startStapling();
        if (previous != next) {
            previous.stopStapling();
        }
    }

    TlsContexts tls() {
        return tls;
    }

    /** Where 413s are logged. */
    ThrottledWarnings tooLarge() {
        return tooLarge;
    }

    /** Where refused HTTP/2 header blocks are logged. */
    ThrottledWarnings refusedHeaders() {
        return refusedHeaders;
    }

    /**
     * The largest request body any location of the current routes takes: what a body is held to before its request
     * is routed (the decoder's chunk sizes, requests read while another runs). Once routed, its location's own limit.
     */
    long largestBodyLimit() {
        Routes now = routes;
        return now.router().largestBodyLimit(now.serverBodyLimit());
    }

    /** The current routes' headers for an answer to a request that was never routed ({@link Routes#unroutedHeaders}). */
    Map<String, VariableText> unroutedHeaders() {
        return routes.unroutedHeaders();
    }

    /**
     * The current default site of {@code listenAddress} ({@link #listenAddress}), whose error page answers a request
     * that was never routed; or null: none, or the address of a listener a reload closed ({@link Router#serves}).
     */
    SiteSettings defaultSite(InetSocketAddress listenAddress) {
        Router router = routes.router();
        if (!router.serves(listenAddress)) {
            return null; // a listener a reload closed: no site of its own, and another address's is not its
        }
        return router.route(listenAddress, null, "/").site();
    }

    /**
     * Limits, timeouts and {@code max-connections} from a reload: requests read from now on are checked against them,
     * connections accepted from now on are set up with them, and the listeners pause or resume by the new limit.
     */
    public void updateSettings(ServerSettings next) {
        settings = next;
        images.update(next.imageWorkers());
        updateAccepting();
    }

    AccessLog accessLog() {
        return accessLog;
    }

    /** The threads that make the images of locations' image-filter. */
    ImageWorkers images() {
        return images;
    }

    /**
     * The status page's image figures: image-filter jobs waiting or running now, and since start those abandoned, their
     * client gone before a worker came to them ({@link ImageWorkers#abandoned}).
     */
    public record ImageStats(int jobs, long abandoned) {

        /** As the status page's image line says them. */
        public String line() {
            return "jobs=" + jobs + " abandoned=" + abandoned;
        }
    }

    public ImageStats imageStats() {
        return new ImageStats(images.admitted(), images.abandoned());
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

    /**
     * An accept of {@code listener} failed (EMFILE, ENFILE at the descriptor limit; ENOBUFS): logged, at most every
     * 10 s with the count, and the listeners rest for a second, as nginx disables accept for a while, before
     * {@link #decideAccepting} lets them read again: the client still in the backlog would fail every accept at once
     * again (epoll is level triggered). Netty's own acceptor would rest only this listener and then turn reading on
     * whatever edge had decided meanwhile (max-connections, a drain). Runs on the accept loop.
     */
    void acceptFailed(Channel listener, Throwable cause) {
        acceptFailures++;
        long now = System.nanoTime();
        if (acceptFailures == 1 || now - acceptFailureLoggedNanos >= PAUSE_LOG_INTERVAL_NANOS) {
            acceptFailureLoggedNanos = now;
            LOG.warn("accepting a connection on {} failed: {} ({} since start); the listeners rest for 1 s (the "
                    + "descriptor limit? raise ulimit -n, LimitNOFILE= in a systemd unit)", listener.localAddress(),
                    cause.getMessage(), acceptFailures);
        }
        if (!acceptResting) {
            acceptResting = true;
            decideAccepting();
            listener.eventLoop().schedule(() -> {
                acceptResting = false;
                decideAccepting();
            }, 1, TimeUnit.SECONDS);
        }
    }

    /** A listener's read begins (accept loop): none of its accepts is counted yet. */
    void acceptReadStarted() {
        acceptedUnseen = 0;
    }

    /** A listener's read accepted {@code count} connections, not yet passed to {@link #admitAccepted} (accept loop). */
    void acceptedInRead(int count) {
        acceptedUnseen += count;
    }

    /**
     * Whether a listener's read may accept one more connection (accept loop): up to the limit, and then one client
     * more, to hold ({@link #admitAccepted}).
     */
    boolean mayAcceptMore() {
        return open.get() + held.size() + acceptedUnseen <= settings.maxConnections() && !draining;
    }

    /**
     * Takes {@code clientChannel}, just accepted by {@code listener}, on to its loop, counted as open until it closes;
     * or, at the limit, holds it until a slot frees; or closes it when the server drains. Runs on the accept loop.
     *
     * <p>At the limit the listeners still read, to learn whether a client waits, as nginx accepts and then drains
     * ({@code ngx_drain_connections}, at the cost of one descriptor over {@code worker_connections}): the first client
     * accepted at the limit is held, unregistered, and stops the listeners then and there, in the read that accepted
     * it; for it an idle kept-alive connection is closed ({@link #closeIdle}), and it is the first to take a freed
     * slot. The accept loop handles every listener the kernel reported ready in one wake-up, and Netty's read accepts
     * before it asks whether to go on, so the other listeners of that wake-up take one each: at most one held per
     * listener. No client waiting, no idle connection is closed.
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
     * at shutdown), or refuses it (false: the caller closes it) when the server began to drain since, or a reload
     * dropped its listener ({@link #closeAccepted}).
     */
    boolean admit(Channel clientChannel) {
        if (draining) {
            refused.increment();
            return false;
        }
        connections.add(clientChannel); // removed by the group when it closes
        // Read after the add: closeAccepted, which looks once the listener is marked, sees the connection, or this sees
        // the mark (one accepted before the listener closed and registered after that look).
        return !listenerDrop(clientChannel).dropped();
    }

    /**
     * Takes {@code quic}, a QUIC connection its UDP socket just made, as {@link #admit} takes an accepted one, and
     * counts it against {@code max-connections} until it closes, as nginx's {@code worker_connections} counts its
     * QUIC connections; false (the caller closes it) where {@link #admit} refuses it, or at the limit with no idle
     * connection to close for it ({@link #makeRoomFor}): nothing can wait on a UDP socket, which carries every other
     * QUIC connection too. TCP clients that come while QUIC ones fill the count wait as at any limit (the listeners
     * see the count). On the connection's loop.
     */
    boolean admitQuic(Channel quic) {
        if (!admit(quic)) {
            return false;
        }
        int now;
        do {
            now = open.get();
            if (now >= settings.maxConnections()) {
                if (makeRoomFor(quic)) {
                    return true;
                }
                refused.increment();
                return false;
            }
        } while (!open.compareAndSet(now, now + 1));
        countQuic(quic);
        return true;
    }

    private void countQuic(Channel quic) {
        accepted.increment();
        quic.closeFuture().addListener(releaseSlot);
    }

    /**
     * At the limit, takes {@code quic} one over it where a loop has an idle connection, and closes the one idle longest
     * there for it, as for a TCP client held ({@link #closeIdle}): its slot, once closed, is the QUIC connection's.
     * One QUIC connection at a time is so taken ({@link #quicOverLimit}), which bounds the count at one over the limit
     * for QUIC, as one held client per listener bounds it for TCP. Where that loop has none idle by the time it looks
     * (its list read stale, or the connection busy again, or closed for a held TCP client), the QUIC connection is
     * refused then (CONNECTION_REFUSED), as it would have been at once. False: none idle, or one so taken already.
     */
    private boolean makeRoomFor(Channel quic) {
        IdleConnections longest = longestIdle();
        if (longest == null || draining || !quicOverLimit.compareAndSet(false, true)) {
            return false;
        }
        open.incrementAndGet();
        countQuic(quic);
        longest.loop().execute(() -> longest.closeOldestFor(closed -> {
            quicOverLimit.set(false);
            if (!closed) {
                refused.increment();
                quic.eventLoop().execute(() -> Http3Connection.refuse(quic));
            }
        }));
        return true;
    }

    /**
     * The server's listening channels: paused and resumed by the count of open connections (their accept loop
     * decides, one decision at a time, from the count then); {@code configured} is the address of server.listen it
     * was bound for, whose sites its connections are routed among.
     */
    public void addListener(Channel listener, InetSocketAddress configured) {
        listener.attr(LISTEN_ADDRESS).set(configured);
        listener.attr(LISTENER_DROP).set(new ListenerDrop());
        listeners.add(listener);
    }

    /**
     * Makes {@code udpChannel}, which takes QUIC for the listener {@code listener}, its twin: its connections are
     * routed as the listener's, and a reload that drops the listener marks them too. Not among {@link #listeners}: a
     * UDP socket that stopped reading at {@code max-connections} would stall every QUIC connection it carries.
     */
    public void addQuicListener(Channel udpChannel, Channel listener) {
        udpChannel.attr(LISTEN_ADDRESS).set(listener.attr(LISTEN_ADDRESS).get());
        udpChannel.attr(LISTENER_DROP).set(listener.attr(LISTENER_DROP).get());
    }

    /**
     * The handler of the UDP socket that takes QUIC for the listener of {@code listenAddress} (an address of
     * server.listen marked quic): HTTP/3 connections served as this context's ({@link Http3Connection}), with the
     * transport parameters of {@code settings} (those the socket is bound for: a reload's before it is in force).
     */
    public io.netty.channel.ChannelHandler quicCodec(InetSocketAddress listenAddress, ServerSettings settings) {
        return Http3Connection.quicCodec(this, listenAddress, settings);
    }

    /**
     * Connections {@code listener} accepts from now on answer with {@code altSvc} (Alt-Svc: its HTTP/3; null: none);
     * those open keep what they began with.
     */
    public static void advertise(Channel listener, String altSvc) {
        if (altSvc != null || listener.hasAttr(ALT_SVC)) {
            listener.attr(ALT_SVC).set(altSvc);
        }
    }

    /** The Alt-Svc field of {@code clientChannel}'s listener ({@link #advertise}), or null. */
    static String altSvc(Channel clientChannel) {
        Channel listener = clientChannel.parent();
        return listener == null || !listener.hasAttr(ALT_SVC) ? null : listener.attr(ALT_SVC).get();
    }

    /**
     * The address of server.listen, as configured, that {@code clientChannel} was accepted on: the sites to route among
     * ({@link io.edge.core.route.Router#route(InetSocketAddress, String, String)}); null for a channel of no listener
     * (a test's). Not the connection's own local address: a wildcard's connections each have one of the machine's.
     */
    static InetSocketAddress listenAddress(Channel clientChannel) {
        Channel listener = clientChannel.parent();
        return listener == null ? null : listener.attr(LISTEN_ADDRESS).get();
    }

    /**
     * Whether a reload dropped the listener {@code clientChannel} was accepted on, to read at each of its requests
     * ({@link ListenerDrop#NEVER} for a channel of no listener, a test's).
     */
    static ListenerDrop listenerDrop(Channel clientChannel) {
        Channel listener = clientChannel.parent();
        ListenerDrop drop = listener == null ? null : listener.attr(LISTENER_DROP).get();
        return drop == null ? ListenerDrop.NEVER : drop;
    }

    /**
     * Set once, before the routes of the reload that drops a listener are in force, where its connections must not be
     * routed by them ({@link #replaceRoutes}); a connection reads it at each request, one volatile read, nothing looked
     * up. Never unset: the listener is closed.
     */
    static final class ListenerDrop {

        /** Of the channels of no listener: never marked. */
        static final ListenerDrop NEVER = new ListenerDrop();

        private volatile boolean dropped;

        boolean dropped() {
            return dropped;
        }

        private void mark() {
            dropped = true;
        }
    }

    /** The access log as a reload pointed it: exchanges that end from now on write to it (or not). */
    public void updateAccessLog(AccessLog next) {
        accessLog = next;
    }

    /** A listener closed by a reload: no longer paused or resumed. */
    public void removeListener(Channel listener) {
        listeners.remove(listener);
    }

    /**
     * Closes the connections {@code listener}, which a reload closed, accepted (an idle one now, a busy one after its
     * exchange, as a drain) where {@link #replaceRoutes} marked it dropped: their address has no sites any more, and
     * routed among every site a client of a public port would be answered another port's default; or it had sites of
     * its own, and the new sites, on every address that remains, were never its (an admin port's among them). nginx's
     * old workers close their idle keep-alive connections at a reload too. Called once the listener is closed: one it
     * accepted before is here, or is refused as it registers ({@link #admit}).
     */
    public void closeAccepted(Channel listener) {
        if (listener.attr(LISTENER_DROP).get().dropped()) {
            connections.stream().filter(clientChannel -> clientChannel.parent() == listener)
                    .forEach(HttpChannelInitializer::drain);
        }
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
     * Passes held clients on while there is room; then lets the listeners read while no client is held (below the
     * limit to serve, at it to hold the next one), and pauses them while one is; asks for an idle connection to be
     * closed for a held client. Runs on their accept loop (EdgeServer gives every listener the same one-thread group,
     * so {@link #held} is theirs). A listener paused from within its own read stops there, and one resumed reports
     * the connections waiting in its backlog at once (epoll is level triggered). No lost wake-up: at the limit this
     * first says so and then counts again, while a closing connection first leaves the count and then looks at the
     * flag, so one of them sees the other.
     */
    private void decideAccepting() {
        while (true) {
            HeldConnection next;
            while ((open.get() < settings.maxConnections() || draining) && (next = held.poll()) != null) {
                if (draining || !next.listener().channel().isRegistered()) { // a reload closed its listener
                    refused.increment();
                    next.clientChannel().unsafe().closeForcibly();
                } else {
                    passOn(next.listener(), next.clientChannel());
                }
            }
            if (draining || open.get() < settings.maxConnections()) {
                atLimit = false;
                break;
            }
            if (!atLimit) {
                atLimit = true;
                pauses++; // only this loop writes it
                logLimit();
            }
            if (open.get() >= settings.maxConnections()) { // counted again after saying so
                break;
            }
        }
        boolean read = held.isEmpty() && !draining && !acceptResting;
        for (Channel listener : listeners) {
            if (listener.config().isAutoRead() != read) {
                listener.config().setAutoRead(read);
            }
        }
        clientHeld = !held.isEmpty();
        if (held.isEmpty()) {
            idleWanted = false;
        } else if (!idleCloseAsked) {
            closeIdle(); // a client waits: make room
        }
    }

    /**
     * The idle connections of {@code loop}, linked and unlinked by their {@link RequestTimeouts}. A loop's first call
     * registers them under {@link #idle}'s lock, which {@link #closeIdle} holds as it asks every loop registered to
     * look at its own ({@link IdleConnections#add} says why).
     */
    IdleConnections idleConnections(EventLoop loop) {
        IdleConnections loopIdle = idle.get(loop);
        if (loopIdle != null) {
            return loopIdle;
        }
        synchronized (idle) {
            return idle.computeIfAbsent(loop, l -> new IdleConnections(l, this));
        }
    }

    /** Whether an idle connection is wanted to make room: a client is held, none was idle. Any thread. */
    boolean wantsIdle() {
        return idleWanted;
    }

    /** Whether a client is held at the limit, waiting for a slot. Any thread. */
    boolean clientHeld() {
        return clientHeld;
    }

    /** A connection became idle while {@link #wantsIdle}. Any thread. */
    void idleAppeared() {
        onAcceptLoop(() -> {
            if (idleWanted && !idleCloseAsked) {
                closeIdle();
            }
        });
    }

    /**
     * The loop that {@link #closeIdle} asked to close its oldest idle connection did so (after that connection's slot
     * was released), or found none idle, or no client held any more. Any thread.
     */
    void idleAnswered() {
        onAcceptLoop(() -> {
            idleCloseAsked = false;
            closeIdle(); // for a client still held, if any
        });
    }

    private void onAcceptLoop(Runnable task) {
        if (!listeners.isEmpty()) {
            listeners.get(0).eventLoop().execute(task);
        }
    }

    /**
     * For a held client, closes the kept-alive connection idle longest, on its own loop, to make room, as nginx closes
     * its reusable connections when it runs out; one at a time ({@link #idleCloseAsked} until the loop answers), so
     * one per held client (the client the freed slot takes lets the listeners hold the next one, and so on while
     * clients wait). With none idle, the next to become idle is closed, while a client is still held. A connection in
     * the middle of a request or a response is never closed. Runs on the accept loop. The loops' oldest idle times
     * may be read stale (they are written with no fence); with none seen, the wish is set and each loop is asked to
     * look at its own list: then no wake-up is lost ({@link IdleConnections#add}).
     */
    private void closeIdle() {
        if (held.isEmpty() || draining) {
            idleWanted = false;
            return;
        }
        IdleConnections longest = longestIdle();
        if (longest != null) {
            idleWanted = false;
            idleCloseAsked = true;
            longest.loop().execute(longest::closeOldest);
        } else {
            idleWanted = true; // before the tasks: each, and what its loop does after it, sees this (or later)
            synchronized (idle) {
                for (IdleConnections loopIdle : idle.values()) {
                    loopIdle.loop().execute(loopIdle::reportIfIdle);
                }
            }
        }
    }

    /**
     * The loop whose oldest idle connection has waited longest, as the loops' lists were last seen (perhaps stale:
     * {@link IdleConnections}), or null where none was seen idle. Any thread.
     */
    private IdleConnections longestIdle() {
        IdleConnections longest = null;
        long longestSince = 0;
        for (IdleConnections loopIdle : idle.values()) {
            long since = loopIdle.oldestIdleSince();
            if (since != IdleConnections.NONE && (longest == null || since - longestSince < 0)) {
                longest = loopIdle;
                longestSince = since;
            }
        }
        return longest;
    }

    /**
     * The status page's line, as nginx's {@code stub_status} gives it: connections open now and the limit, whether
     * a new client is served at once (no at the limit or draining), and since start the connections taken, those
     * closed at once (draining, or held when a reload closed their listener), the times the limit was reached and the
     * requests read. A client held at the limit is counted neither open nor accepted until a slot frees for it.
     */
    public String connectionsLine() {
        ConnectionStats stats = connectionStats();
        return "open=" + stats.open() + " max=" + stats.max() + " accepting=" + (stats.accepting() ? "yes" : "no")
                + " accepted=" + stats.accepted() + " refused=" + stats.refused() + " pauses=" + stats.pauses()
                + " requests=" + stats.requests();
    }

    /** A request head was read on one of this server's connections (any loop). */
    void requestRead() {
        requests.increment();
    }

    /**
     * Client connections now: open, the limit, whether a new client is served at once, and since start those
     * accepted, those refused (closed at once: draining, or held when a reload closed their listener) and the times
     * the limit was reached (see {@link #connectionsLine}), and the request heads read on them.
     */
    public record ConnectionStats(int open, int max, boolean accepting, long accepted, long refused, long pauses,
            long requests) {
    }

    public ConnectionStats connectionStats() {
        return new ConnectionStats(open.get(), settings.maxConnections(), !atLimit && !draining,
                accepted.sum(), refused.sum(), pauses, requests.sum());
    }

    private void logLimit() {
        long now = System.nanoTime();
        if (now - lastPauseLogged > PAUSE_LOG_INTERVAL_NANOS) { // at the limit it is reached with every connection
            lastPauseLogged = now;
            LOG.warn("max-connections {} reached: new clients are served once a connection closes (the first is "
                    + "accepted and held, an idle kept-alive connection closed for it; the others wait in the listen "
                    + "backlog; logged at most every 10 s)", settings.maxConnections());
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
