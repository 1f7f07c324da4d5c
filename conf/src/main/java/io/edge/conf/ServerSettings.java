package io.edge.conf;

import io.netty.util.NetUtil;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Listener, connection limits and timeouts of the HTTP server.
 *
 * @param listen          addresses to bind
 * @param ioThreads       event loops; 0 means one per core
 * @param maxConnections  open client connections beyond which new ones are closed at once
 * @param limits          request size limits
 * @param timeouts        request-head, body, keep-alive, write, drain and lingering timeouts
 * @param accessLog       access log file, or {@code null} for standard output
 * @param runDir          directory for runtime files (sockets and configs of spawned backends)
 * @param accessLogEnabled whether requests are logged at all ({@code access-log = "off"} turns it off)
 * @param runDirTemporary whether {@code runDir} is the temporary directory the loader made for this server
 *                        ({@code run-dir = ""} with a spawned backend): the server deletes it when it stops,
 *                        a configured one never
 * @param listenWrittenAt where each of {@code listen} was written, for a failure to bind it
 * @param tcpNotsentLowat TCP_NOTSENT_LOWAT of every client connection, bytes: the most a response may have queued
 *                        in the kernel and not yet sent; 0 leaves the system's {@code net.ipv4.tcp_notsent_lowat}
 * @param realIp          whom a client's address is taken from when a proxy in front tells it ({@link RealIp#OFF}: nobody)
 * @param pidFile         the file the running server writes its process id to ({@code edge -s reload} reads it), or
 *                        {@code null} for none
 * @param accessLogFormat the access log's line (nginx's {@code log_format}), or {@code null} for edge's own: the
 *                        combined format, the request time and the backend's times
 * @param tls             which of {@code listen} end TLS, and how ({@link Tls#NONE}: none)
 * @param clientBodyTempPath where request bodies too large for memory are spooled (nginx's {@code
 *                        client_body_temp_path}), or {@code null} for edge's default: the run directory, else
 *                        {@code java.io.tmpdir}
 * @param serverTokens    whether the Server field every answer carries names edge's version (nginx's {@code
 *                        server_tokens}), or only "edge"
 */
public record ServerSettings(
        List<InetSocketAddress> listen,
        int ioThreads,
        int maxConnections,
        HttpLimits limits,
        HttpTimeouts timeouts,
        Path accessLog,
        Path runDir,
        boolean accessLogEnabled,
        boolean runDirTemporary,
        Map<InetSocketAddress, WrittenAt> listenWrittenAt,
        int tcpNotsentLowat,
        RealIp realIp,
        Path pidFile,
        LogFormat accessLogFormat,
        Tls tls,
        Path clientBodyTempPath,
        ImageWorkers imageWorkers,
        boolean serverTokens) {

    /** {@code tcp-notsent-lowat} when it is not set: see reference.conf. */
    public static final int DEFAULT_TCP_NOTSENT_LOWAT = 128 * 1024;

    public ServerSettings {
        if (imageWorkers == null) {
            imageWorkers = ImageWorkers.DEFAULT;
        }
        listen = List.copyOf(listen);
        listenWrittenAt = Map.copyOf(listenWrittenAt);
    }

    /** Settings whose answers' Server field names edge's version (server-tokens on, the default). */
    public ServerSettings(List<InetSocketAddress> listen, int ioThreads, int maxConnections, HttpLimits limits,
                          HttpTimeouts timeouts, Path accessLog, Path runDir, boolean accessLogEnabled,
                          boolean runDirTemporary, Map<InetSocketAddress, WrittenAt> listenWrittenAt,
                          int tcpNotsentLowat, RealIp realIp, Path pidFile, LogFormat accessLogFormat, Tls tls,
                          Path clientBodyTempPath, ImageWorkers imageWorkers) {
        this(listen, ioThreads, maxConnections, limits, timeouts, accessLog, runDir, accessLogEnabled, runDirTemporary,
                listenWrittenAt, tcpNotsentLowat, realIp, pidFile, accessLogFormat, tls, clientBodyTempPath,
                imageWorkers, true);
    }

    /** Settings whose images (a location's image-filter) are made by edge's default workers. */
    public ServerSettings(List<InetSocketAddress> listen, int ioThreads, int maxConnections, HttpLimits limits,
                          HttpTimeouts timeouts, Path accessLog, Path runDir, boolean accessLogEnabled,
                          boolean runDirTemporary, Map<InetSocketAddress, WrittenAt> listenWrittenAt,
                          int tcpNotsentLowat, RealIp realIp, Path pidFile, LogFormat accessLogFormat, Tls tls,
                          Path clientBodyTempPath) {
        this(listen, ioThreads, maxConnections, limits, timeouts, accessLog, runDir, accessLogEnabled, runDirTemporary,
                listenWrittenAt, tcpNotsentLowat, realIp, pidFile, accessLogFormat, tls, clientBodyTempPath, null);
    }

    /**
     * The threads that decode, scale and encode the images of locations' image-filter, never an event loop's (nginx
     * does it in its worker, which serves no other request meanwhile).
     *
     * @param workers   threads at most; 0: one per processor
     * @param queue     images waiting for a thread at most; one more is answered 503
     * @param maxPixels the most pixels an image may say it has to be decoded (width times height, read from its head
     *                  before any decoding): more is 415, as a decompression bomb would hold that many in memory
     * @param timeout   how long a worker may make one image: given up then (415), as a crafted image (a JPEG of
     *                  thousands of progressive scans) would hold it for minutes
     */
    public record ImageWorkers(int workers, int queue, long maxPixels, Duration timeout) {

        /** reference.conf's. */
        public static final ImageWorkers DEFAULT = new ImageWorkers(0, 64, 40_000_000, Duration.ofSeconds(10));

        /** The most {@code timeout} may be: a deadline of nanoseconds computed from it never overflows. */
        public static final Duration MAX_TIMEOUT = Duration.ofDays(1);

        /** The threads there are at most: {@link #workers}, or the processors' count for 0. */
        public int threads() {
            return workers > 0 ? workers : Runtime.getRuntime().availableProcessors();
        }
    }

    /** Settings whose request bodies are spooled where edge's default puts them. */
    public ServerSettings(List<InetSocketAddress> listen, int ioThreads, int maxConnections, HttpLimits limits,
                          HttpTimeouts timeouts, Path accessLog, Path runDir, boolean accessLogEnabled,
                          boolean runDirTemporary, Map<InetSocketAddress, WrittenAt> listenWrittenAt,
                          int tcpNotsentLowat, RealIp realIp, Path pidFile, LogFormat accessLogFormat, Tls tls) {
        this(listen, ioThreads, maxConnections, limits, timeouts, accessLog, runDir, accessLogEnabled, runDirTemporary,
                listenWrittenAt, tcpNotsentLowat, realIp, pidFile, accessLogFormat, tls, null);
    }

    /** Settings without TLS. */
    public ServerSettings(List<InetSocketAddress> listen, int ioThreads, int maxConnections, HttpLimits limits,
                          HttpTimeouts timeouts, Path accessLog, Path runDir, boolean accessLogEnabled,
                          boolean runDirTemporary, Map<InetSocketAddress, WrittenAt> listenWrittenAt,
                          int tcpNotsentLowat, RealIp realIp, Path pidFile, LogFormat accessLogFormat) {
        this(listen, ioThreads, maxConnections, limits, timeouts, accessLog, runDir, accessLogEnabled, runDirTemporary,
                listenWrittenAt, tcpNotsentLowat, realIp, pidFile, accessLogFormat, Tls.NONE);
    }

    /**
     * TLS of the listeners marked {@code ssl} (nginx's {@code listen 443 ssl} and {@code ssl_*} of the http block).
     *
     * @param listen         the addresses of server.listen that end TLS
     * @param protocols      the versions offered, nginx's names ("TLSv1.2", "TLSv1.3")
     * @param ciphers        the cipher suites offered (IANA names), in order; empty: the provider's own secure list
     * @param sessionTimeout how long a session may be resumed (nginx's ssl_session_timeout)
     * @param sessionCache   sessions kept for resumption; 0: none
     * @param ecdhCurves     the groups of key exchange offered, in order, by the names BoringSSL gives them ("X25519",
     *                       "P-256"), nginx's ssl_ecdh_curve; empty: the provider's own list ("auto")
     * @param sessionTickets whether sessions resume by tickets (nginx's ssl_session_tickets)
     * @param sessionTicketKeys the keys of tickets, nginx's ssl_session_ticket_key: 48 bytes each in nginx's layout (a
     *                       name, an AES-128 key, an HMAC-SHA256 key, 16 bytes each), the first encrypting, all
     *                       decrypting; empty: the provider's own, made with each context
     * @param preferServerCiphers whether the suite is the first of {@code ciphers} the client offers, not the first of
     *                       the client's that is among them (nginx's ssl_prefer_server_ciphers)
     * @param dhparam        nginx's ssl_dhparam file, checked and unused (the provider's DHE, if any, has its own
     *                       groups), or null
     * @param http3          the listeners that speak HTTP/3 over QUIC too ({@link Http3#NONE}: none)
     */
    public record Tls(java.util.Set<InetSocketAddress> listen, List<String> protocols, List<String> ciphers,
            Duration sessionTimeout, long sessionCache, Http2 http2, List<String> ecdhCurves, boolean sessionTickets,
            List<byte[]> sessionTicketKeys, boolean preferServerCiphers, java.nio.file.Path dhparam, Http3 http3) {

        /** No listener ends TLS. */
        public static final Tls NONE = new Tls(java.util.Set.of(), List.of("TLSv1.2", "TLSv1.3"), List.of(),
                Duration.ofMinutes(5), 20480, Http2.NONE, List.of(), true, List.of(), false, null, Http3.NONE);

        public Tls {
            listen = java.util.Set.copyOf(listen);
            protocols = List.copyOf(protocols);
            ciphers = List.copyOf(ciphers);
            ecdhCurves = List.copyOf(ecdhCurves);
            sessionTicketKeys = sessionTicketKeys.stream().map(byte[]::clone).toList();
        }

        /** Whether the listener of {@code address} (one of server.listen) ends TLS. */
        public boolean endsOn(InetSocketAddress address) {
            return address != null && listen.contains(address);
        }
    }

    /**
     * server.http2: the listeners marked http2: one marked ssl too offers h2 by ALPN before http/1.1, as nginx's
     * {@code listen 443 ssl http2}; a plain one serves HTTP/2 in the clear (h2c) to a client that begins with its
     * preface, HTTP/1.x to any other, as nginx's {@code listen 80 http2} since 1.25.1. {@code maxConcurrentStreams} is
     * nginx's http2_max_concurrent_streams.
     */
    public record Http2(java.util.Set<InetSocketAddress> listen, int maxConcurrentStreams) {

        /** No listener offers HTTP/2. */
        public static final Http2 NONE = new Http2(java.util.Set.of(), 128);

        public Http2 {
            listen = java.util.Set.copyOf(listen);
        }

        /** Whether the listener of {@code address} (one of server.listen) offers h2 (or h2c, where it is plain). */
        public boolean offeredOn(InetSocketAddress address) {
            return address != null && listen.contains(address);
        }
    }

    /**
     * server.http3: the listeners marked quic (each marked ssl too), which take HTTP/3 over QUIC on a UDP port as well,
     * as nginx's {@code listen 443 quic} beside {@code listen 443 ssl}, with the certificates of their sites.
     *
     * @param listen               each such listener's UDP port: 0 for its own port number (as bound, where it is 0),
     *                             else the port of {@code quic=PORT}
     * @param maxConcurrentStreams request streams a client may have open at once (nginx's
     *                             http3_max_concurrent_streams)
     * @param altSvc               whether the listener's answers over TCP carry {@code Alt-Svc: h3=":PORT"}, which
     *                             nginx users write with add_header
     * @param altSvcMaxAge         its {@code ma}: how long a client may remember it
     */
    public record Http3(Map<InetSocketAddress, Integer> listen, int maxConcurrentStreams, boolean altSvc,
            Duration altSvcMaxAge) {

        /** No listener speaks HTTP/3. */
        public static final Http3 NONE = new Http3(Map.of(), 128, true, Duration.ofDays(1));

        public Http3 {
            listen = Map.copyOf(listen);
        }

        /** Whether the listener of {@code address} (one of server.listen) speaks HTTP/3 too. */
        public boolean offeredOn(InetSocketAddress address) {
            return address != null && listen.containsKey(address);
        }

        /**
         * The UDP port of the listener of {@code address} ({@link #offeredOn}), bound on TCP port {@code boundPort}.
         */
        public int udpPort(InetSocketAddress address, int boundPort) {
            int port = listen.getOrDefault(address, 0);
            return port == 0 ? boundPort : port;
        }

        /** The {@code Alt-Svc} field of a listener whose QUIC is on UDP {@code udpPort}, or null: none is sent. */
        public String altSvcField(int udpPort) {
            return altSvc ? "h3=\":" + udpPort + "\"; ma=" + altSvcMaxAge.toSeconds() : null;
        }
    }

    /** Settings with edge's own access log line. */
    public ServerSettings(List<InetSocketAddress> listen, int ioThreads, int maxConnections, HttpLimits limits,
                          HttpTimeouts timeouts, Path accessLog, Path runDir, boolean accessLogEnabled,
                          boolean runDirTemporary, Map<InetSocketAddress, WrittenAt> listenWrittenAt,
                          int tcpNotsentLowat, RealIp realIp, Path pidFile) {
        this(listen, ioThreads, maxConnections, limits, timeouts, accessLog, runDir, accessLogEnabled, runDirTemporary,
                listenWrittenAt, tcpNotsentLowat, realIp, pidFile, null);
    }

    /** Settings that take the client's address from the connection alone ({@link RealIp#OFF}), without a pid file. */
    public ServerSettings(List<InetSocketAddress> listen, int ioThreads, int maxConnections, HttpLimits limits,
                          HttpTimeouts timeouts, Path accessLog, Path runDir, boolean accessLogEnabled,
                          boolean runDirTemporary, Map<InetSocketAddress, WrittenAt> listenWrittenAt,
                          int tcpNotsentLowat) {
        this(listen, ioThreads, maxConnections, limits, timeouts, accessLog, runDir, accessLogEnabled, runDirTemporary,
                listenWrittenAt, tcpNotsentLowat, RealIp.OFF, null);
    }

    /** Settings whose listen addresses were written nowhere known, with the default TCP_NOTSENT_LOWAT. */
    public ServerSettings(List<InetSocketAddress> listen, int ioThreads, int maxConnections, HttpLimits limits,
                          HttpTimeouts timeouts, Path accessLog, Path runDir, boolean accessLogEnabled,
                          boolean runDirTemporary) {
        this(listen, ioThreads, maxConnections, limits, timeouts, accessLog, runDir, accessLogEnabled, runDirTemporary,
                Map.of(), DEFAULT_TCP_NOTSENT_LOWAT);
    }

    /** These settings with {@code maxConnections} instead (held under the descriptor limit). */
    public ServerSettings withMaxConnections(int maxConnections) {
        return new ServerSettings(listen, ioThreads, maxConnections, limits, timeouts, accessLog, runDir,
                accessLogEnabled, runDirTemporary, listenWrittenAt, tcpNotsentLowat, realIp, pidFile, accessLogFormat,
                tls, clientBodyTempPath, imageWorkers, serverTokens);
    }

    /**
     * These settings, a reload's, as they run: with the io-threads and run-dir of {@code inForce} (they apply only
     * on a restart) and the access log of {@code accessLogs} (these settings' own, or {@code inForce}'s where the
     * log is not switched).
     */
    public ServerSettings reloadedOver(ServerSettings inForce, ServerSettings accessLogs) {
        return new ServerSettings(listen, inForce.ioThreads, maxConnections, limits, timeouts, accessLogs.accessLog,
                inForce.runDir, accessLogs.accessLogEnabled, inForce.runDirTemporary, listenWrittenAt, tcpNotsentLowat,
                realIp, pidFile, accessLogFormat, tls, clientBodyTempPath, imageWorkers, serverTokens);
    }

    /**
     * {@code address} of {@link #listen} as the configuration writes it: "*:8080" for a wildcard (whether written "*",
     * "0.0.0.0" or "[::]": one dual-stack listener), "[::1]:8080", "127.0.0.1:8080". Messages about an address use it,
     * so a problem and a warning name one listener alike.
     */
    public static String written(InetSocketAddress address) {
        if (address.getAddress().isAnyLocalAddress()) {
            return "*:" + address.getPort();
        }
        String host = NetUtil.toAddressString(address.getAddress());
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + address.getPort();
    }

    /** Where {@code address} of {@link #listen} was written; the key alone when that is not known. */
    public WrittenAt writtenAt(InetSocketAddress address) {
        return listenWrittenAt.getOrDefault(address, WrittenAt.key("edge.server.listen"));
    }

    /** Settings with the access log enabled (to {@code accessLog}, or standard output when it is null). */
    public ServerSettings(List<InetSocketAddress> listen, int ioThreads, int maxConnections, HttpLimits limits,
                          HttpTimeouts timeouts, Path accessLog, Path runDir) {
        this(listen, ioThreads, maxConnections, limits, timeouts, accessLog, runDir, true, false);
    }

    /**
     * Sizes beyond which a request is refused (414, 431, 413) and the connection closed, and how many requests one
     * connection carries.
     *
     * @param requestLine       longest request line, bytes
     * @param headerBlock       largest header block, bytes
     * @param headerCount       most header fields
     * @param body              largest request body, bytes ({@code Long.MAX_VALUE}: no limit)
     * @param keepAliveRequests most requests answered on one connection, the last with {@code Connection: close}
     *                          (nginx's keepalive_requests); 0: no limit
     */
    public record HttpLimits(int requestLine, int headerBlock, int headerCount, long body, int keepAliveRequests) {

        /** {@code keep-alive-requests} when it is not set: nginx's keepalive_requests. */
        public static final int DEFAULT_KEEP_ALIVE_REQUESTS = 1000;

        /** Limits with the default {@code keep-alive-requests}. */
        public HttpLimits(int requestLine, int headerBlock, int headerCount, long body) {
            this(requestLine, headerBlock, headerCount, body, DEFAULT_KEEP_ALIVE_REQUESTS);
        }

        /** Whether a connection that has carried {@code requests} requests may carry another. */
        public boolean carriesAnother(long requests) {
            return keepAliveRequests == 0 || requests < keepAliveRequests;
        }
    }

    /**
     * @param requestHead  time allowed to receive a whole request head (slowloris guard)
     * @param body         longest silence between two reads of an incomplete request body
     * @param keepAlive    how long an idle kept-alive connection is held
     * @param write        a response write that makes no progress for this long closes the connection
     * @param drain        on shutdown, how long in-flight responses may take before connections are closed
     * @param lingering    after a response that ends its connection, the longest silence while what the client still
     *                     sends is read and dropped before the close (zero: closed at once)
     * @param lingeringTime the longest that reading and dropping may last in all
     */
    public record HttpTimeouts(Duration requestHead, Duration body, Duration keepAlive, Duration write, Duration drain,
                               Duration lingering, Duration lingeringTime) {
    }

    /**
     * The client's address as trusted proxies in front tell it, nginx's realip module ({@code set_real_ip_from},
     * {@code real_ip_header}, {@code real_ip_recursive}): a request whose connection comes from one of {@code from}
     * is taken to come from the address {@code header} names last, or with {@code recursive} from the last one
     * there that is not itself in {@code from}.
     *
     * @param from          the proxies trusted; none: every client is its connection's address
     * @param header        the request header carrying the address ({@code X-Forwarded-For}, {@code X-Real-IP})
     * @param recursive     whether the trusted proxies listed in the header are passed over too
     * @param proxyProtocol whether connections from {@code from} begin with a PROXY protocol header instead, whose
     *                      source is the client of every request on them (then the header is not read), and whose
     *                      SSL field (v2's PP2_TYPE_SSL) says whether the client came over TLS
     * @param protoHeader   the request header in which {@code from} say whether their client came over TLS
     *                      ({@code X-Forwarded-Proto}: "https"); empty: none is read, and without the PROXY protocol
     *                      every request is plain http
     */
    public record RealIp(List<AddressRange> from, String header, boolean recursive, boolean proxyProtocol,
                         String protoHeader) {

        /** No proxy is trusted. */
        public static final RealIp OFF = new RealIp(List.of(), "X-Forwarded-For", false, false);

        public RealIp {
            from = List.copyOf(from);
        }

        /** Settings that read no scheme from a header. */
        public RealIp(List<AddressRange> from, String header, boolean recursive, boolean proxyProtocol) {
            this(from, header, recursive, proxyProtocol, "");
        }

        /** Whether any proxy is trusted: else the header is never read. */
        public boolean enabled() {
            return !from.isEmpty();
        }

        /** Whether {@code address} is one of the proxies trusted ({@link #from}). */
        public boolean trusts(InetAddress address) {
            return AddressRange.anyContains(from, address);
        }
    }
}
