package io.edge.core;

import io.edge.aio.file.FileEngine;
import io.edge.conf.EdgeSettings;
import io.edge.conf.LocationSettings;
import io.edge.conf.ServerSettings;
import io.edge.conf.WrittenAt;
import io.edge.core.http.AccessLog;
import io.edge.core.http.HttpChannelInitializer;
import io.edge.core.http.HttpServerContext;
import io.edge.core.http.Responder;
import io.edge.core.http.ServerField;
import io.edge.core.route.Router;
import io.edge.core.tls.TlsContexts;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.quic.Quic;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.netty.util.NetUtil;
import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.UnsupportedAddressTypeException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One running server: event loops, listeners and the shared HTTP context.
 *
 * <pre>
 *   new -> start() -> RUNNING -> shutdown() -> DRAINING (listeners closed, idle connections closed,
 *          busy ones close after their exchange) -> STOPPED (after the drain timeout at the latest)
 * </pre>
 */
public final class EdgeServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(EdgeServer.class);

    /** {@link #stopDraining} was called: the drain ends now. */
    private volatile boolean drainStopped;
    private final EdgeSettings settings;
    /** The server settings in force: the start's, then a reload's ({@link #applyServer}). */
    private volatile ServerSettings server;
    /**
     * The first configuration's responders, until {@link #start} hands them to the context: held on, they would keep
     * that configuration's caches, engine and pools, and through each cache's successor every one made since.
     */
    private Function<LocationSettings, Responder> responders;
    /** The first configuration's file engine, which its rewrites' file tests ask, until {@link #start} hands it on. */
    private FileEngine files;
    private final Supplier<DescriptorLimit> descriptors;
    /** The limit {@code max-connections} is held under, taken at the start. */
    private DescriptorLimit descriptorLimit = DescriptorLimit.UNKNOWN;
    /** The configured {@code max-connections} last said to be lowered, so that a reload keeping it says it once. */
    private int loweredFrom;
    /** The configured max-connections and what the heap last held it to (said once per pair). */
    private long heapLoweredFrom;
    private EventLoopGroup acceptGroup;
    private EventLoopGroup ioGroup;
    private HttpServerContext context;
    private ServerBootstrap bootstrap;
    private boolean epoll;
    /** The listening channels by the address configured for them (port 0 included), in the order bound. */
    private final Map<InetSocketAddress, Channel> bound = new LinkedHashMap<>();
    /** The UDP sockets of the listeners marked quic, by the address configured for the listener. */
    private final Map<InetSocketAddress, Channel> quicBound = new LinkedHashMap<>();
    /** Those {@link #bindNew} made, until {@link #applyServer} puts them in force or {@link #closeUnused} closes them. */
    private final Map<InetSocketAddress, Channel> quicAdded = new LinkedHashMap<>();
    /** Whether the QUIC library loaded: asked once, at the first listener marked quic. */
    private Boolean quic;

    public EdgeServer(EdgeSettings settings, Function<LocationSettings, Responder> responders) {
        this(settings, responders, (FileEngine) null);
    }

    /** As above, the rewrites' file tests ({@code if (!-e $request_filename)}) asking {@code files} (null: none). */
    public EdgeServer(EdgeSettings settings, Function<LocationSettings, Responder> responders, FileEngine files) {
        this(settings, responders, () -> DescriptorLimit.ofThisProcess(settings.staticIo().engine()));
        this.files = files;
    }

    /**
     * @param descriptors the descriptor limit {@code max-connections} is held under ({@link DescriptorLimit}), asked
     *                    once the event loops are up, before any listener is bound
     */
    public EdgeServer(EdgeSettings settings, Function<LocationSettings, Responder> responders,
            Supplier<DescriptorLimit> descriptors) {
        this.settings = settings;
        this.server = settings.server();
        this.responders = responders;
        this.descriptors = descriptors;
    }

    /** Binds every listen address; returns once all are bound. */
    public void start() throws InterruptedException, IOException {
        TlsContexts tls = TlsContexts.of(settings); // a certificate the provider refuses fails the start before a bind
        // the version is read from the class path here, not by the first answer on an event loop
        LOG.debug("edge {} starting", ServerField.VERSION);
        epoll = Epoll.isAvailable();
        if (!epoll) {
            LOG.warn("native epoll transport unavailable, using NIO: {}", Epoll.unavailabilityCause().toString());
        }
        IoHandlerFactory ioHandler = epoll ? ReaddingEpollIoHandler.newFactory() : NioIoHandler.newFactory();
        acceptGroup = new MultiThreadIoEventLoopGroup(1, ioHandler);
        // io-threads = 0 means one loop per core, as reference.conf says (Netty's own default is two per core,
        // which halves the chance that a kept-alive backend connection is on the client's loop).
        int loops = settings.server().ioThreads() > 0 ? settings.server().ioThreads() : Runtime.getRuntime().availableProcessors();
        ioGroup = new MultiThreadIoEventLoopGroup(loops, ioHandler);
        ChannelGroup connections = new DefaultChannelGroup("edge-connections", GlobalEventExecutor.INSTANCE);
        descriptorLimit = descriptors.get();
        context = new HttpServerContext(router(settings), responders, files, settings.alwaysHeaders(),
                withinLimits(settings.server()),
                new AccessLog(settings.server().accessLogEnabled(), settings.server().accessLogFormat()), connections);
        responders = null; // the context's now, which a reload replaces
        files = null;
        context.replaceTls(tls);
        Class<? extends ServerChannel> channelType = epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
        bootstrap = new ServerBootstrap()
                .group(acceptGroup, ioGroup)
                .channel(channelType)
                .option(ChannelOption.SO_BACKLOG, 4096)
                .option(ChannelOption.SO_REUSEADDR, true)
                // A listener accepts once it is the server's: HttpServerContext.updateAccepting turns reading on (a
                // reload's new one takes no connection for the old configuration, nor one past max-connections).
                .option(ChannelOption.AUTO_READ, false)
                .childOption(ChannelOption.TCP_NODELAY, true)
                // A client's FIN does not close its connection: what it asked before is answered (HttpConnectionHandler)
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .childHandler(new HttpChannelInitializer(context));
        context.limitAccepting(bootstrap); // the allocator and first handler of every listener
        try {
            applyServer(server, bindNew(server));
        } catch (InterruptedException | IOException | RuntimeException e) {
            close();
            throw e;
        }
    }

    /**
     * Binds the addresses of {@code next}'s listen that are not bound yet, and returns their listeners, not accepting
     * until {@link #applyServer} adds them (or {@link #closeUnused} closes them). If some cannot be bound, those bound
     * here are closed again and the first failure ({@link #bindFailure}) is thrown, every other one suppressed by it:
     * each address to fix is named at once, as each problem of a configuration is.
     */
    public synchronized Map<InetSocketAddress, Channel> bindNew(ServerSettings next)
            throws InterruptedException, IOException {
        Map<InetSocketAddress, Channel> added = new LinkedHashMap<>();
        ChannelFuture binding = null;
        BindException failed = null;
        try {
            for (InetSocketAddress address : next.listen()) {
                if (bound.containsKey(address) || added.containsKey(address)) {
                    continue;
                }
                binding = bootstrap.bind(address);
                binding.await();
                if (!binding.isSuccess()) {
                    failed = withSuppressed(failed, bindFailure(address, next.writtenAt(address), binding.cause()));
                    continue;
                }
                added.put(address, binding.channel());
            }
            for (InetSocketAddress address : next.listen()) {
                Channel listener = added.containsKey(address) ? added.get(address) : bound.get(address);
                if (listener != null && next.tls().http3().offeredOn(address) && !quicBound.containsKey(address)
                        && !quicAdded.containsKey(address) && quicAvailable()) {
                    InetSocketAddress udp = new InetSocketAddress(address.getAddress(), next.tls().http3()
                            .udpPort(address, ((InetSocketAddress) listener.localAddress()).getPort()));
                    Bootstrap quicSocket = new Bootstrap().group(ioGroup)
                            .channel(epoll ? EpollDatagramChannel.class : NioDatagramChannel.class)
                            .handler(context.quicCodec(address, next));
                    if (epoll && udp.getAddress().isAnyLocalAddress()) {
                        // each IPv4 datagram then names the address it was sent to: a QUIC connection's local
                        // address, $server_addr, is that one (as nginx's, by IP_PKTINFO), not the wildcard bound; an
                        // IPv6 one names none (Netty reads no IPV6_ORIGDSTADDR): its $server_addr is the wildcard.
                        // Replies leave from the kernel's choice of source, not the address a datagram came to:
                        // Netty 4.2.18's epoll sends (sendto, sendmsg, sendmmsg) name the destination alone (a
                        // DatagramPacket's sender is not read; the one control message is UDP_SEGMENT), and its
                        // recvmsg reads only SOL_IP's IP_ORIGDSTADDR (and UDP_GRO): neither is there without native
                        // code of edge's own
                        quicSocket.option(EpollChannelOption.IP_RECVORIGDSTADDR, true);
                    }
                    binding = quicSocket.bind(udp);
                    binding.await();
                    if (!binding.isSuccess()) {
                        failed = withSuppressed(failed, bindFailure("UDP " + written(udp) + " (quic)",
                                next.writtenAt(address), binding.cause()));
                        continue;
                    }
                    quicAdded.put(address, binding.channel());
                }
            }
            if (failed != null) {
                binding = null;
                throw failed;
            }
        } catch (InterruptedException | IOException | RuntimeException | Error e) {
            if (binding != null) {
                binding.channel().close(); // one interrupted while binding
            }
            closeUnused(added);
            throw e;
        }
        return added;
    }

    /**
     * Fails as {@link #bindNew} would where an address of {@code server}'s listen cannot be bound now (in use, not this
     * machine's, a privileged port): tried with a socket of its own, closed at once. For a start, before anything else
     * starts: a second edge on the same configuration said its first's php-fpm was "another process" to stop, as it
     * spawned its own before it bound.
     */
    public static void probeListen(ServerSettings server) throws BindException {
        BindException failed = null;
        for (InetSocketAddress address : server.listen()) {
            try (ServerSocketChannel probe = ServerSocketChannel.open()) {
                probe.setOption(StandardSocketOptions.SO_REUSEADDR, true); // as the listener: TIME_WAIT is no use
                probe.bind(address);
            } catch (IOException | UnsupportedAddressTypeException e) { // the latter: IPv6 where the JVM has none
                failed = withSuppressed(failed, bindFailure(address, server.writtenAt(address), e));
            }
        }
        if (failed != null) {
            throw failed;
        }
    }

    /** Closes listeners {@link #bindNew} made that will not be used (the reload failed). */
    public synchronized void closeUnused(Map<InetSocketAddress, Channel> added) {
        for (Channel listener : added.values()) {
            listener.close().awaitUninterruptibly();
        }
        for (Channel udp : quicAdded.values()) {
            udp.close().awaitUninterruptibly();
        }
        quicAdded.clear();
    }

    /**
     * Whether HTTP/3 can be served: the QUIC library (quiche and BoringSSL, built for Linux x86-64) loaded; where it
     * did not, one line says so and the listeners marked quic serve TCP alone, without Alt-Svc.
     */
    private boolean quicAvailable() {
        if (quic == null) {
            quic = Quic.isAvailable();
            if (!quic) {
                LOG.warn("HTTP/3 off, listeners marked quic serve TCP alone: the QUIC library did not load ({})",
                        String.valueOf(Quic.unavailabilityCause()));
            }
        }
        return quic;
    }

    /**
     * Puts {@code next} in force (a reload's, or the start's): the listeners {@link #bindNew} made for it join, those
     * of addresses it no longer lists close (connections they accepted go on, unless sites are chosen by address:
     * {@link HttpServerContext#closeAccepted}), and its limits and timeouts apply to what is read and accepted from now
     * on. The event loops stay as started.
     */
    public synchronized void applyServer(ServerSettings next, Map<InetSocketAddress, Channel> added) {
        added.forEach((address, listener) -> {
            bound.put(address, listener);
            context.addListener(listener, address);
            LOG.info("listening on {} ({})", written((InetSocketAddress) listener.localAddress()),
                    epoll ? "epoll" : "nio");
        });
        quicAdded.forEach((address, udp) -> {
            quicBound.put(address, udp);
            context.addQuicListener(udp, bound.get(address));
            LOG.info("listening for HTTP/3 on UDP {}", written((InetSocketAddress) udp.localAddress()));
        });
        quicAdded.clear();
        for (var entry : List.copyOf(quicBound.entrySet())) {
            if (!next.tls().http3().offeredOn(entry.getKey())) {
                // its connections end with it: QUIC's state is the socket's (nginx's old workers keep theirs)
                quicBound.remove(entry.getKey());
                LOG.info("no longer listening for HTTP/3 on UDP {}",
                        written((InetSocketAddress) entry.getValue().localAddress()));
                entry.getValue().close().awaitUninterruptibly();
            }
        }
        bound.forEach((address, listener) -> {
            Channel udp = quicBound.get(address);
            HttpServerContext.advertise(listener, udp == null ? null
                    : next.tls().http3().altSvcField(((InetSocketAddress) udp.localAddress()).getPort()));
        });
        for (var entry : List.copyOf(bound.entrySet())) {
            if (!next.listen().contains(entry.getKey())) {
                bound.remove(entry.getKey());
                context.removeListener(entry.getValue());
                LOG.info("no longer listening on {}", written((InetSocketAddress) entry.getValue().localAddress()));
                entry.getValue().close().awaitUninterruptibly();
                context.closeAccepted(entry.getValue()); // once it accepts no more: none it takes after is missed
            }
        }
        server = next;
        context.updateSettings(withinLimits(next));
        context.updateAccessLog(new AccessLog(next.accessLogEnabled(), next.accessLogFormat()));
    }

    /** {@code next} with {@code max-connections} held to what the descriptor limit and the heap leave room for. */
    private ServerSettings withinLimits(ServerSettings next) {
        return withinHeap(withinDescriptorLimit(next), next.maxConnections());
    }

    /** Heap a client connection holds besides its request head: its channel, pipeline and exchange. */
    static final int HEAP_PER_CONNECTION = 8 * 1024;

    /**
     * Client connections the heap ({@code maxHeap}, -Xmx) leaves room for when each holds a whole request head of
     * {@code headerBlock} bytes not yet answered: about twice that as Netty decodes it (the bytes, then its lines and
     * fields), and the connection's own objects, in half the heap (the rest is the caches' and the requests'). Past
     * it the heap filled, the collector ran back to back and nothing was answered, a SIGTERM neither (-Xmx256m, 7 000
     * clients each sending a 16 KiB head slowly). The default heap, a quarter of the memory, keeps the default 10000
     * from 4 GiB on.
     */
    static int heapRoomFor(long maxHeap, int headerBlock) {
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, maxHeap / 2 / (2L * headerBlock + HEAP_PER_CONNECTION)));
    }

    /** {@code next} with {@code max-connections} held to {@link #heapRoomFor}; a line says so once per value and cap. */
    private ServerSettings withinHeap(ServerSettings next, int configured) {
        long maxHeap = Runtime.getRuntime().maxMemory();
        int cap = heapRoomFor(maxHeap, next.limits().headerBlock());
        if (next.maxConnections() <= cap) {
            return next;
        }
        long said = (long) configured << 32 | cap; // a reload that changes header-block alone moves the cap too
        if (heapLoweredFrom != said) {
            heapLoweredFrom = said;
            // said as the content cache's hold to the direct memory limit is: a default (10000) the JVM's own
            // default heap on a small machine (a quarter of 1 GiB) cannot carry, not a setting to mend
            LOG.info("edge.server.max-connections {} lowered to {}: each connection may hold a request head of up to "
                    + "limits.header-block {} bytes, about twice that in the heap, and half of the heap (of {} MiB) is "
                    + "theirs; raise it (EDGE_JAVA_OPTS=-Xmx...) to keep {}, or lower limits.header-block", configured,
                    cap, next.limits().headerBlock(), maxHeap >> 20, configured);
        }
        return next.withMaxConnections(cap);
    }

    /**
     * {@code next} with {@code max-connections} held to what the descriptor limit leaves room for
     * ({@link DescriptorLimit}); a warning says so once per configured value.
     */
    private ServerSettings withinDescriptorLimit(ServerSettings next) {
        int cap = descriptorLimit.maxConnections();
        if (next.maxConnections() <= cap) {
            return next;
        }
        if (loweredFrom != next.maxConnections()) {
            loweredFrom = next.maxConnections();
            LOG.warn("edge.server.max-connections {} lowered to {}: the descriptor limit (ulimit -n) is {} with {} open "
                    + "at the start, and a quarter of the rest stays for the files connections are answered from{}; "
                    + "raise the limit to {} "
                    + "(LimitNOFILE= in a systemd unit), or set max-connections to {} or less", next.maxConnections(), cap,
                    descriptorLimit.limit(), descriptorLimit.openAtStart(), descriptorLimit.descriptorsPerFile() > 1
                            ? " (each holding " + descriptorLimit.descriptorsPerFile() + " descriptors)" : "",
                    descriptorLimit.limitFor(next.maxConnections()), cap);
        }
        return next.withMaxConnections(cap);
    }

    /**
     * {@code edge.conf:4: edge.server.listen[0]: 127.0.0.1:8080: address already in use}: where the setting was
     * written (as a configuration problem names it), the address to fix, and the system's reason without the
     * transport's wording ({@code bind(..) failed with error(-98): ...}).
     */
    static BindException bindFailure(InetSocketAddress address, WrittenAt writtenAt, Throwable cause) {
        return bindFailure(written(address), writtenAt, cause);
    }

    /** As above, of {@code what}: an address as written, or a listener's UDP one ("UDP 127.0.0.1:443 (quic)"). */
    private static BindException bindFailure(String what, WrittenAt writtenAt, Throwable cause) {
        String reason = cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
        int end = reason.lastIndexOf("): ");
        reason = end >= 0 ? reason.substring(end + 3) : reason;
        reason = reason.isEmpty() ? reason : Character.toLowerCase(reason.charAt(0)) + reason.substring(1);
        BindException failure = new BindException(writtenAt.problem(what + ": " + reason).toString());
        failure.initCause(cause);
        return failure;
    }

    /** {@code failure} joined to {@code failed} (null for none yet): the first thrown, every other suppressed by it. */
    private static BindException withSuppressed(BindException failed, BindException failure) {
        if (failed == null) {
            return failure;
        }
        failed.addSuppressed(failure);
        return failed;
    }

    /**
     * {@code address} as the configuration writes one: RFC 5952 text in brackets for IPv6 ([::1]:8080, not Java's
     * /0:0:0:0:0:0:0:1:8080), a name not resolved as written.
     */
    private static String written(InetSocketAddress address) {
        String host = address.isUnresolved() ? address.getHostString() : NetUtil.toAddressString(address.getAddress());
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + address.getPort();
    }

    /**
     * Routes exchanges that start from now on by {@code next}'s sites to {@code responders} (a reload); the future
     * completes once no exchange that started before runs any more. Listeners and connections stay, but those of
     * addresses {@code next} no longer lists are marked first, before its routes are in force, where sites listen apart
     * ({@link HttpServerContext#replaceRoutes}): {@link #applyServer} closes them next.
     */
    public synchronized CompletableFuture<Void> replaceRoutes(EdgeSettings next,
            Function<LocationSettings, Responder> responders) throws IOException {
        return replaceRoutes(next, TlsContexts.of(next), responders);
    }

    /**
     * As {@link #replaceRoutes(EdgeSettings, Function)}, connections accepted from now on ending TLS by {@code tls}
     * (made of {@code next} before anything of it was put in force, so that a certificate refused refuses the reload).
     */
    public synchronized CompletableFuture<Void> replaceRoutes(EdgeSettings next, TlsContexts tls,
            Function<LocationSettings, Responder> responders) {
        return replaceRoutes(next, tls, responders, null);
    }

    /** As above, the new routes' file tests asking {@code files}, the new configuration's engine (null: none). */
    public synchronized CompletableFuture<Void> replaceRoutes(EdgeSettings next, TlsContexts tls,
            Function<LocationSettings, Responder> responders, FileEngine files) {
        context.replaceTls(tls);
        List<Channel> dropped = bound.entrySet().stream()
                .filter(entry -> !next.server().listen().contains(entry.getKey())).map(Map.Entry::getValue).toList();
        return context.replaceRoutes(router(next), responders, files, next.server().limits().body(),
                next.alwaysHeaders(), dropped);
    }

    /** The router of {@code settings}' sites; a warning for each of their conflicting server names, as nginx's. */
    private static Router router(EdgeSettings settings) {
        Router router = new Router(settings.sites(), settings.defaultSite());
        router.conflicts().forEach(conflict -> LOG.warn("{}", conflict));
        return router;
    }

    /** The status page's connections line ({@link HttpServerContext#connectionsLine}); "" before the start. */
    public String connectionsLine() {
        HttpServerContext started = context;
        return started == null ? "" : started.connectionsLine();
    }

    /** The figures of {@link #connectionsLine}; all zero before the start. */
    public HttpServerContext.ConnectionStats connectionStats() {
        HttpServerContext started = context;
        return started == null ? new HttpServerContext.ConnectionStats(0, 0, false, 0, 0, 0, 0) : started.connectionStats();
    }

    /** The image filter's figures ({@link HttpServerContext#imageStats}); all zero before the start. */
    public HttpServerContext.ImageStats imageStats() {
        HttpServerContext started = context;
        return started == null ? new HttpServerContext.ImageStats(0, 0) : started.imageStats();
    }

    /** The bound addresses, in the order they were bound (configuration order at the start; useful when a port was 0). */
    public List<InetSocketAddress> boundAddresses() {
        return listeners().stream().map(c -> (InetSocketAddress) c.localAddress()).toList();
    }

    /** The listening channels, bound in configuration order; none before the start. */
    public List<Channel> listeners() {
        HttpServerContext started = context;
        return started == null ? List.of() : started.listeners();
    }

    /**
     * Ends a drain in progress (or the next one) at once, an operator's second SIGTERM: {@link #shutdown} closes the
     * connections still open instead of waiting for them. Returns how many are open now.
     */
    public int stopDraining() {
        drainStopped = true;
        return context == null ? 0 : context.connections().size();
    }

    /**
     * Stops accepting, lets in-flight responses finish for up to the drain timeout, then closes whatever is
     * left and stops the event loops. Returns true if every connection finished within the timeout.
     */
    public boolean shutdown() throws InterruptedException {
        return shutdown((deadlineNanos, giveUp) -> {
        });
    }

    /**
     * As {@link #shutdown()}; once the connections are gone, and before the event loops stop, {@code afterDrain}
     * waits for what still runs on them, within what is left of the drain timeout.
     */
    public boolean shutdown(AfterDrain afterDrain) throws InterruptedException {
        Duration drain = server.timeouts().drain();
        long deadline = System.nanoTime() + drain.toNanos();
        for (Channel listener : listeners()) {
            listener.close().await();
        }
        boolean clean = true;
        if (context != null) {
            context.startDraining();
            context.connections().forEach(HttpChannelInitializer::drain);
            while (!context.connections().isEmpty() && System.nanoTime() - deadline < 0 // overflow-safe
                    && !drainStopped) {
                Thread.sleep(20);
            }
            clean = context.connections().isEmpty();
            if (!clean) {
                if (!drainStopped) {
                    LOG.warn("drain timeout {} passed with {} connections open; closing them", Edge.readable(drain),
                            context.connections().size());
                }
                context.connections().close().await(5, TimeUnit.SECONDS);
            }
        }
        afterDrain.await(deadline, () -> drainStopped);
        // after the drain: a UDP socket closed before it would cut its QUIC connections' streams in flight
        quicBound.values().forEach(udp -> udp.close().awaitUninterruptibly());
        close();
        return clean;
    }

    /** What a {@link #shutdown(AfterDrain)} waits for after its connections, while the event loops still run. */
    @FunctionalInterface
    public interface AfterDrain {
        /**
         * Waits until {@code deadlineNanos} ({@link System#nanoTime}) at most, or until {@code giveUp} says so (an
         * operator's second signal ended the drain).
         */
        void await(long deadlineNanos, BooleanSupplier giveUp) throws InterruptedException;
    }

    @Override
    public void close() {
        if (context != null) {
            context.replaceTls(TlsContexts.NONE); // no more OCSP fetches
        }
        if (ioGroup != null) {
            ioGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        }
        if (acceptGroup != null) {
            acceptGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }
}
