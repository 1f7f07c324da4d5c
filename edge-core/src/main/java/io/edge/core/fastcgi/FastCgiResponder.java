package io.edge.core.fastcgi;

import io.edge.aio.PathPolicy;
import io.edge.aio.linux.Syscalls;
import io.edge.aio.path.PathResolver;
import io.edge.cache.http.ResponseCache;
import io.edge.conf.AddressRange;
import io.edge.conf.AliasCaptures;
import io.edge.conf.LimitRate;
import io.edge.conf.LocationSettings;
import io.edge.conf.VariableText;
import io.edge.core.http.AccessCheck;
import io.edge.core.http.BackendGate;
import io.edge.core.http.BackendGate.ResponseTap;
import io.edge.core.http.ErrorResponses;
import io.edge.core.http.Exchange;
import io.edge.core.http.HttpStatusException;
import io.edge.core.http.LocationChecks;
import io.edge.core.http.Responder;
import io.edge.core.http.RewritePhase;
import io.edge.core.http.ThrottledWarnings;
import io.edge.core.http.Variables;
import io.edge.core.limit.BodyPace;
import io.edge.core.limit.ConnectionLimits;
import io.edge.core.limit.RequestLimits;
import io.edge.core.statics.StaticResponder;
import io.edge.fastcgi.BackendGroupSettings;
import io.edge.fastcgi.BackendOverloadedException;
import io.edge.fastcgi.BackendTimeoutException;
import io.edge.fastcgi.BackendUnavailableException;
import io.edge.fastcgi.FcgiProtocolException;
import io.edge.fastcgi.LogText;
import io.edge.fastcgi.QueueFullException;
import io.edge.fastcgi.cgi.CgiOptions;
import io.edge.fastcgi.cgi.CgiResponseParser;
import io.edge.fastcgi.cgi.CgiParams;
import io.edge.fastcgi.cgi.CgiRequest;
import io.edge.fastcgi.cgi.ScriptResolver;
import io.edge.fastcgi.client.FcgiExchange;
import io.edge.fastcgi.codec.FcgiNameValues;
import io.edge.fastcgi.pool.BackendPool;
import io.edge.fastcgi.pool.Lease;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.NetUtil;
import io.netty.util.concurrent.Future;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.file.FileSystemException;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers a FastCGI location: resolves the script (safe by default: it must be a regular file under the
 * root), reads the request body whole (in memory up to the location's client-body-buffer-size, beyond that in an
 * unlinked temporary file in server.client-body-temp-path: {@link SpooledBody}), waits for a connection slot in the
 * backend group's queue, then sends the body to the backend and streams the response back to the client. What the
 * client can't take yet is held in order (memory, then a spool file: {@link ResponseSpool}, nginx's fastcgi_buffering)
 * while the backend is read on, so its worker and connection are free at END_REQUEST however slowly the client
 * reads; only a full spool pauses the backend.
 *
 * <pre>
 *   RESOLVE (from what the probe remembers; a path it does not is looked at on a probe thread, then back on the loop)
 *   RESOLVE --script--> [BUFFER the body: memory, then a spool file] --> WAIT (queue) --lease--> EXCHANGE --end--> done
 *   RESOLVE --script, with a BackendGate (the response cache)--> the gate answers, or runs the script as above,
 *           possibly with a derived request and a ResponseTap that watches or takes over the response
 *   RESOLVE --directory/--> its first index file: a script runs as above, anything else (or none) goes to the static
 *           responder (as nginx's index, with or without a front controller)
 *   RESOLVE --directory without its slash--> static responder (301 to the name with the slash)
 *   RESOLVE --existing file (front controller)--> static responder
 *   RESOLVE --script, for a TRACE (let through only under a front controller)--> 405, nothing runs
 *   BUFFER --client gone (a close, a reset, or a FIN: from here on a FIN ends the request, and one that came while the
 *            script was looked up ends it now)--> the body and its spool file dropped: the request never queues
 *   WAIT --client gone--> waiter cancelled: the request never reaches PHP; with a tap that still wants the answer
 *            (the cache's leader, for its followers), the request stays until the tap gives it up
 *   WAIT --queue full / deadline--> 503 + Retry-After
 *   WAIT --a connect fails (refused, no socket file, timed out), group of several addresses, error (timeout) in the
 *            list--> the next address not tried yet, any method (nothing went), the try listed with its 502 (504 for a
 *            connect timeout); the last one left refusing is waited for as a restart (BackendPool's restart window)
 *   EXCHANGE --connection failed (error), read or write timeout (timeout) (an answer not FastCGI, or a head php-fpm
 *            sent that is none: invalid_header), before the answer's head, the condition in the list, group of several
 *            addresses--> WAIT for the next address not tried yet, for a request nginx passes on (not a POST, LOCK or
 *            PATCH, unless the list has non_idempotent), the try listed with its 502 or 504; none left: as below
 *   EXCHANGE --the script's head, of a status in the list (http_500, http_503, http_403, http_404, http_429), an
 *            address not tried yet up--> WAIT for it, as above, the answer dropped before anything of it went anywhere
 *            (its script left to end, its slot held until then: {@link FcgiExchange#dropAnswer}), the try listed with
 *            its status; none left (or the tries or time used up): the answer goes to the client as it is
 *   EXCHANGE --connection died before the answer: nothing sent (again at most 16 times: kept connections whose
 *            workers had ended; error in the list unless nothing at all went), or a bodiless GET/HEAD that brought
 *            back no record (once, error in the list)--> WAIT again; otherwise 502
 *   EXCHANGE --FCGI_OVERLOADED before any output--> WAIT again, for what is left of the queue timeout
 *   EXCHANGE --client gone--> the backend exchange drops the response until END_REQUEST, keeping its slot
 *            ({@link FcgiExchange#abort}); so does a tap that answered from the head and wants none of the rest
 *   EXCHANGE --client not writable--> body into the spool, drained in order as the client takes it; spool full:
 *            backend paused until it has room; END_REQUEST with the spool not empty: slot freed, the drain ends the
 *            response; spool file not writable, or an unbuffered answer (X-Accel-Buffering: no, or the group's
 *            response-buffer off): the rest held in memory, backend paused until the client drains it;
 *            client gone or spool file not readable: the spool (and its file) released
 * </pre>
 *
 * The next address is nginx's {@code fastcgi_next_upstream}, its conditions the location's (fastcgi-next-upstream,
 * error and timeout by default; none for off), bounded by {@code fastcgi_next_upstream_tries} and {@code
 * fastcgi_next_upstream_timeout} (fastcgi-next-upstream-tries and -timeout, 0 for none: the defaults): each address
 * at most once per request ({@link BackendPool#acquireNext}), every try in {@code $upstream_addr} and {@code
 * $upstream_status} ("unix:/run/a.sock, unix:/run/b.sock" and "503, 200"), each failure counted against its
 * address's health (a script's 403 or 404 passed on is none); a queue full or timed out (busy) is no failure.
 * A request's body is read whole before its first try and kept to the call's end ({@link SpooledBody}, as the proxy
 * path's), so a request that goes to the next address after it went (a PUT, a DELETE) goes
 * with it whole, as nginx's buffered body does; a POST, LOCK or PATCH goes again once it went only where the list has
 * non_idempotent.
 *
 * <p>Within one address (a group of one, or none left to pass on to): a request whose body was sent is not replayed
 * on a mere reset, and none that brought back any record (STDOUT, STDERR) is: its script ran. A connection reset
 * before any record is replayed for a bodiless GET/HEAD: php-fpm resets the connections in its backlog when it
 * stops, and a stop and start must fail no request; a worker killed
 * mid-script before it wrote anything looks the same (php-fpm leaves the request's last, empty STDIN record unread, so
 * its close is a reset too), and its GET runs once more: twice at most, each replay an INFO line. A kept connection
 * that ends quietly before any record (a worker's last request, pm.max_requests, over TCP) is not counted against
 * that one replay, as nginx does not count a retry on a cached connection ({@link FcgiExchange#keptConnectionEnded}).
 * Any request, a POST
 * with its body too, goes again to another connection when the backend certainly never took it
 * ({@link FcgiExchange#requestUnread}: a php-fpm worker that ended its last request, pm.max_requests, with the
 * connection kept).
 *
 * <p>The response head is held until the backend read that brought it is done: a response that ended in that
 * read goes out as one message with its {@code Content-Length} (one buffer, one write) if the connection takes it
 * at once (up to its write buffer's high-water mark); otherwise the head is written then, the body so far goes as
 * any later part of it (to the client while it takes it, else to the spool), and the rest streams (chunked when
 * the backend gave no length). An error before that point still reaches the client as an error status.
 */
public final class FastCgiResponder implements Responder {

    private static final Logger LOG = LoggerFactory.getLogger(FastCgiResponder.class);
    private static final AtomicLong REQUEST_IDS = new AtomicLong();
    /**
     * Replays of a bodiless GET/HEAD whose connection was reset before any record came: one. A stop reset it in
     * php-fpm's backlog, or a script killed its worker (a crash, request_terminate_timeout): more would run such a
     * script again each time and multiply the client's wait.
     */
    private static final int MAX_RETRIES = 1;
    /**
     * Kept connections a request may meet whose php-fpm worker had ended (pm.max_requests), one after another: each is
     * closed as it is met, so after as many as the group keeps idle the request gets a new one. 16 covers a group of
     * 16 connections whose workers all end at once; the bound only stops a backend that closes every connection.
     */
    private static final int MAX_UNREAD_RETRIES = 16;
    /**
     * Refusals of a request by overloaded backends (FCGI_OVERLOADED) it may meet: each is waited out in the queue,
     * within the queue timeout, which counts the refused tries' time too; the bound stops a backend that refuses this
     * request while it answers others (each answer ends its busy hold) from cycling it.
     */
    private static final int MAX_OVERLOADED_RETRIES = 16;
    /** Where request bodies go by default when they outgrow memory (the location's client-body-buffer-size). */
    public static final Path DEFAULT_SPOOL_DIR = Path.of(System.getProperty("java.io.tmpdir"));

    private final BackendPool pool;
    private final Path spoolDir;
    /** Where request bodies longer than {@link #bodyBufferSize} go (client-body-temp-path). */
    private final Path bodySpoolDir;
    /** The longest request body kept in memory (the location's client-body-buffer-size). */
    private final int bodyBufferSize;
    private final WaitStats waitStats;
    private final StaticResponder staticResponder;
    /** What a request meets entering a location: met where a script or the file it hands out lands in another. */
    private final LocationChecks locationChecks;
    /** The script every request runs (fastcgi-script), or null: the request's path names it. */
    private final String fixedScript;
    /** The clients that may run {@link #fixedScript}: status-allow, as for edge's own status page. */
    private final List<AddressRange> fixedScriptAllowed;
    /** Paths the site's link policy refuses here, said at most once every 10 s. */
    private final ThrottledWarnings refusals = new ThrottledWarnings(LOG, System::nanoTime);
    /** Requests that run without their client (runsWithoutClient) and failed, said at most once every 10 s. */
    private final ThrottledWarnings unattendedFailures = new ThrottledWarnings(LOG, System::nanoTime);
    /** The x-sendfile directories, as configured and as their real paths now. */
    private final List<PathResolver> sendfileRoots;
    /**
     * The site's document roots (its own and its locations'), as configured and as their real paths now: no script
     * (a .php path) below any of them is sent by X-Accel-Redirect or X-Sendfile; and without x-sendfile directories,
     * an X-Accel-Redirect takes its file from the one of the location its URI routes to, as nginx follows the header
     * to whatever location that is.
     */
    private final List<PathResolver> documentRoots;
    private final Path root;
    /** {@link #root} absolute: the URI of a file handed out is its path under it. */
    private final Path absoluteRoot;
    /** The site's root: an X-Accel-Redirect URI routed to a location without a root of its own is mapped under it. */
    private final Path siteRoot;
    private final BackendGroupSettings.Timeouts timeouts;
    private final BackendGroupSettings.ResponseBuffer responseBuffer;
    /** When a request goes on to the next address of a group of several (fastcgi-next-upstream, -tries, -timeout). */
    private final LocationSettings.NextUpstream nextUpstream;
    /**
     * The script's X-Accel-Expires, -Limit-Rate and -Buffering names (lower case) the location passes to its clients
     * (fastcgi-pass-headers, nginx's fastcgi_pass_header); the others are read and hidden.
     */
    private final List<String> passedAccelFields;
    /** Of the script's Status and X-Accel-Charset (lower case), those the location passes: their lines stay. */
    private final Set<String> passedScriptLines;
    /** Resolution through the probe itself: on the loop only where the probe never waits, else a probe thread. */
    private final Resolvers anywhere;
    /** The same resolution from what the probe remembers only, for the event loop; null: the probe never waits. */
    private final Resolvers onLoop;

    /**
     * Resolves under one root through one probe, splitting paths as the location says (split-path-info): with the
     * front controller, and scripts only (for index files).
     */
    private record Resolvers(ScriptResolver resolver, ScriptResolver scriptsOnly, ScriptResolver.FileProbe probe) {
        Resolvers(Path root, LocationSettings location, ScriptResolver.FileProbe probe) {
            this(new ScriptResolver(root, uriPrefix(location), location.scriptSplit(), location.frontController(),
                    location.frontControllerDirectories(), probe), new ScriptResolver(root, uriPrefix(location), location.scriptSplit(), null, probe), probe);
        }

        /** The request paths the location's root stands for: its alias's prefix, else all. */
        private static String uriPrefix(LocationSettings location) {
            return location.aliasPrefix() != null ? location.aliasPrefix() : "/";
        }
    }

    /** Requests whose script lookup waits for a probe thread at most; one more gets 503. */
    static final int PROBE_QUEUE = 4096;
    /**
     * Looks at scripts, index files and front-controller paths the probe does not remember: two daemon threads for
     * every FastCGI location of the process (a miss costs a {@code stat} or two, each a round trip on NFS).
     */
    private static final ThreadPoolExecutor PROBES = probeThreads();

    private static ThreadPoolExecutor probeThreads() {
        AtomicInteger n = new AtomicInteger();
        ThreadPoolExecutor threads = new ThreadPoolExecutor(2, 2, 30, TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(PROBE_QUEUE), task -> {
                    Thread thread = new Thread(task, "edge-script-probe-" + n.incrementAndGet());
                    thread.setDaemon(true);
                    return thread;
                });
        threads.allowCoreThreadTimeOut(true);
        return threads;
    }
    private final BackendGate gate;
    /** The location's fastcgi-params when they are constants, else null. */
    private final CgiOptions cgiOptions;
    /** The location's fastcgi-params when one of them names a variable, else null. */
    private final List<Map.Entry<String, VariableText>> variableParams;
    /** The location whose fastcgi-params those are: their captures are its regex's. */
    private final LocationSettings paramsLocation;

    /**
     * @param location        the FastCGI location (its root, else {@code siteRoot}; its front controller)
     * @param siteRoot        the site's document root
     * @param pool            the location's backend group
     * @param staticResponder answers existing files and directories when a front controller is configured
     * @param timeouts        the group's read timeout (backend silence once the request was sent) and write
     *                        timeout (backend not taking request body)
     * @param responseBuffer  how much of a response its client is slow to take is held ({@link ResponseSpool})
     * @param waitStats       where the group's queue waits are counted
     * @param probe           how scripts, index files and front-controller paths are looked at, under the root
     *                        and the site's dotfile and link policy (Edge gives a {@link CachedFileProbe} over a
     *                        {@link PolicyFileProbe})
     * @param gate            what requests for scripts pass through (the response cache), {@code null} for none
     */
    public FastCgiResponder(LocationSettings location, Path siteRoot, BackendPool pool, StaticResponder staticResponder,
                            BackendGroupSettings.Timeouts timeouts, BackendGroupSettings.ResponseBuffer responseBuffer,
                            WaitStats waitStats, ScriptResolver.FileProbe probe, BackendGate gate) {
        this(location, siteRoot, pool, staticResponder, timeouts, responseBuffer, waitStats, probe, gate,
                DEFAULT_SPOOL_DIR, DEFAULT_SPOOL_DIR,
                location.root() != null ? List.of(siteRoot, location.root()) : List.of(siteRoot),
                FastCgiResponder::checkedRoot, new LocationChecks(new RequestLimits(), new ConnectionLimits()));
    }

    /**
     * As above, spooling responses past the memory buffer to unlinked files in {@code spoolDir} (nginx's
     * fastcgi_temp_path), and request bodies longer than the location's client-body-buffer-size to ones in {@code
     * bodySpoolDir} (nginx's client_body_temp_path); {@code
     * siteRoots}, the site's document roots (its own and its locations'), are where an X-Accel-Redirect may take a file
     * from when the location names no x-sendfile directories; {@code checkedRoot} gives the check-only resolver of
     * such a directory or of an x-sendfile one ({@link #checkedRoot}: Edge shares one per directory among a
     * configuration's locations, each taking its real path again every second); {@code locationChecks}, the
     * configuration's, are met where a script found under another location's URI, or a file it hands out, lands in
     * another location.
     */
    public FastCgiResponder(LocationSettings location, Path siteRoot, BackendPool pool, StaticResponder staticResponder,
                            BackendGroupSettings.Timeouts timeouts, BackendGroupSettings.ResponseBuffer responseBuffer,
                            WaitStats waitStats, ScriptResolver.FileProbe probe, BackendGate gate, Path spoolDir,
                            Path bodySpoolDir, List<Path> siteRoots, Function<Path, PathResolver> checkedRoot,
                            LocationChecks locationChecks) {
        this.spoolDir = spoolDir;
        this.bodySpoolDir = bodySpoolDir;
        this.bodyBufferSize = location.clientBodyBufferSize();
        this.locationChecks = locationChecks;
        this.responseBuffer = responseBuffer;
        Path root = location.root() != null ? location.root() : siteRoot;
        this.pool = pool;
        this.waitStats = waitStats;
        this.staticResponder = staticResponder;
        // Their real paths are taken again every second off the loop (a deploy may switch a link on their way).
        this.sendfileRoots = checkedRoots(location.sendfileRoots(), checkedRoot);
        this.documentRoots = checkedRoots(siteRoots, checkedRoot);
        this.root = root;
        this.siteRoot = siteRoot;
        this.absoluteRoot = root.toAbsolutePath().normalize();
        this.timeouts = timeouts;
        this.nextUpstream = Objects.requireNonNullElse(location.fastcgiNextUpstream(),
                LocationSettings.NextUpstream.DEFAULT);
        this.passedAccelFields = ResponseCache.ACCEL_FIELDS.stream()
                .filter(name -> location.fastcgiPassHeaders().contains(name.toLowerCase(Locale.ROOT))).toList();
        this.passedScriptLines = CgiResponseParser.kept(location.fastcgiPassHeaders());
        this.anywhere = new Resolvers(root, location, probe);
        this.fixedScript = location.fastcgiScript();
        // a named location's script is the application's, for every client; php-fpm's status page is status-allow's
        this.fixedScriptAllowed = location.named() ? null : location.statusAllow();
        // null: a probe that does not wait (tests' FILESYSTEM on a local disk) resolves on the loop itself
        this.onLoop = probe instanceof CachedFileProbe cached
                ? new Resolvers(root, location, cached.cachedOnly()) : null;
        this.gate = gate;
        // built once where no value names a variable; else the values are expanded for each request (cgiOptions())
        this.variableParams = location.fastcgiParams().values().stream().allMatch(p -> p.constant() != null) ? null
                : List.copyOf(location.fastcgiParams().entrySet());
        this.paramsLocation = location;
        this.cgiOptions = location.fastcgiParams().isEmpty() ? CgiOptions.DEFAULT
                : variableParams != null ? null
                : new CgiOptions(false, location.fastcgiParams().entrySet().stream()
                        .map(p -> Map.entry(p.getKey(), p.getValue().constant())).toList());
    }

    /** {@code dirs}, distinct, each as configured and as its real path now ({@code checkedRoot}'s resolver of it). */
    private static List<PathResolver> checkedRoots(List<Path> dirs, Function<Path, PathResolver> checkedRoot) {
        return dirs.stream().map(p -> p.toAbsolutePath().normalize()).distinct().map(checkedRoot).toList();
    }

    /**
     * A new check-only resolver of the directory {@code dir} (absolute, normalised): as configured and as its real
     * path, taken again every second off the loop, and whether it is found to be a file. It depends on the path alone,
     * so one may serve every location that names the directory.
     */
    public static PathResolver checkedRoot(Path dir) {
        return PathResolver.forChecksOnly(dir, PathPolicy.DEFAULT, System::nanoTime, StaticResponder.DIRECTORY_TTL);
    }

    @Override
    public void respond(Exchange exchange) {
        if (fixedScript != null) {
            if (fixedScriptAllowed != null
                    && !AddressRange.anyContains(fixedScriptAllowed, exchange.remoteAddress().getAddress())) {
                exchange.sendError(HttpResponseStatus.FORBIDDEN); // php-fpm's status page, for monitoring only
                return;
            }
            // a named location's DOCUMENT_URI is the request's path, nginx's $uri there (its URI unchanged)
            dispatch(exchange, anywhere.resolver().fixed(fixedScript,
                    fixedScriptAllowed == null ? exchange.path() : fixedScript, exchange.query()));
            return;
        }
        if (onLoop == null) {
            dispatch(exchange, resolve(exchange, anywhere));
            return;
        }
        ScriptResolver.Resolution resolution;
        try {
            resolution = resolve(exchange, onLoop);
        } catch (CachedFileProbe.Miss miss) {
            resolveOffLoop(exchange);
            return;
        }
        dispatch(exchange, resolution);
    }

    /**
     * A path the probe does not remember: the script, index and front controller are looked at on a probe thread
     * (a {@code stat} may wait for the disk, or for an NFS server holding the code), which remembers them, and the
     * request goes on on its event loop. Meanwhile the request's body stays in the kernel ({@link Exchange#pauseBody}):
     * a lookup that waits long (a hung NFS mount) does not gather bodies in memory.
     */
    private void resolveOffLoop(Exchange exchange) {
        EventLoop loop = exchange.clientChannel().eventLoop();
        exchange.pauseBody(true); // undone when the lookup is back, or with the exchange's end
        try {
            PROBES.execute(() -> {
                ScriptResolver.Resolution resolution;
                try {
                    resolution = resolve(exchange, anywhere);
                } catch (RuntimeException e) {
                    onLoop(loop, () -> exchange.fail(e));
                    return;
                }
                onLoop(loop, () -> {
                    if (exchange.isEnded()) {
                        return;
                    }
                    exchange.pauseBody(false);
                    try {
                        dispatch(exchange, resolution);
                    } catch (RuntimeException e) {
                        // as the connection handler answers a responder that throws: a 500, never silence
                        exchange.fail(e);
                    }
                });
            });
        } catch (RejectedExecutionException full) {
            exchange.fail(new HttpStatusException(HttpResponseStatus.SERVICE_UNAVAILABLE,
                    "script lookups queued: " + PROBE_QUEUE));
        }
    }

    private static void onLoop(EventLoop loop, Runnable task) {
        try {
            loop.execute(task);
        } catch (RejectedExecutionException shuttingDown) {
            // the loop is gone, and the connection with it
        }
    }

    /**
     * What the request asks for: a script (an index's, under a directory named with its trailing slash), a static
     * file, or a refusal. A directory named without the slash is the static path's to answer: it redirects to the
     * name with the slash (301), as nginx does whatever the index, so the index page's relative links resolve
     * inside the directory.
     */
    private static ScriptResolver.Resolution resolve(Exchange exchange, Resolvers resolvers) {
        ScriptResolver.Resolution resolution = resolvers.resolver().resolve(exchange.path(), exchange.query());
        if (resolution instanceof ScriptResolver.StaticFile file && file.directory() && exchange.path().endsWith("/")) {
            resolution = indexOf(exchange, file.file(), resolvers);
        }
        return resolution;
    }

    private void dispatch(Exchange exchange, ScriptResolver.Resolution resolution) {
        if (resolution instanceof ScriptResolver.Script && HttpMethod.TRACE.equals(exchange.request().method())) {
            // Let through (HttpConnectionHandler.refusedHere) for a file the static path answers; a script never runs
            exchange.fail(new HttpStatusException(HttpResponseStatus.METHOD_NOT_ALLOWED, "method: TRACE"));
        } else if (resolution instanceof ScriptResolver.Script script) {
            Runnable run = () -> {
                if (gate == null) {
                    start(exchange, script, exchange.request(), null);
                } else {
                    gate.enter(exchange, (ex, backendRequest, tap) -> start(ex, script, backendRequest, tap));
                }
            };
            if (!heldElsewhere(exchange, script, run)) {
                run.run();
            }
        } else if (resolution instanceof ScriptResolver.StaticFile) {
            staticResponder.respond(exchange);
        } else if (resolution instanceof ScriptResolver.Rejected rejected) {
            exchange.fail(new HttpStatusException(HttpResponseStatus.BAD_REQUEST, rejected.reason()));
        } else if (resolution instanceof ScriptResolver.Forbidden forbidden) {
            if (PathResolver.hasDotSegment(exchange.path().substring(1))) {
                // what scanners ask for all day (.env, .git); decoded, it may hold any byte (%0a)
                LOG.debug("{}: {}", LogText.escapeControls(exchange.path()), forbidden.reason());
            } else {
                // a link (Laravel's storage:link, public/storage -> ../storage/app/public) or a permission: said, as
                // the static path says it, else the operator has a bare 403 in the access log and no clue
                refusals.warn(ScriptResolver.Forbidden.class, exchange.request().method() + " "
                        + LogText.escapeBytes(exchange.request().uri()) + " -> 403: "
                        + LogText.escapeControls(forbidden.reason())
                        + " (symlinks = within-root refuses a link that leads out of the root, deny any link; or edge's"
                        + " user may not search a directory on the way or read the file)");
            }
            exchange.sendError(HttpResponseStatus.FORBIDDEN);
        } else if (resolution instanceof ScriptResolver.SplitGaveUp gaveUp) {
            // the split's, not the client's: said (at most once every 10 s), as a location regex that gives up is
            refusals.warn(ScriptResolver.SplitGaveUp.class, exchange.request().method() + " "
                    + LogText.escapeBytes(exchange.request().uri()) + " -> 404: " + gaveUp.reason());
            exchange.sendError(HttpResponseStatus.NOT_FOUND);
        } else {
            exchange.sendError(HttpResponseStatus.NOT_FOUND);
        }
    }

    /**
     * For a script this location found under another URI than the request's (a directory's index, the front controller,
     * the script part of a path with PATH_INFO): where that URI is another location's, what nginx's internal redirect
     * there would meet first. A PHP location's body-limit holds the body from now (one declared over it: 413, answered
     * here). Its access rules refuse the client: 403, answered here. What refuses the client there answers as that
     * location ({@link Exchange#answerAs}: its always-headers go with it). It answers with a return or a rewrite: the
     * exchange goes there. Else its referers, limits and password this location did not have are met here ({@link
     * LocationChecks#enter}), and {@code run} runs the script here once they let it through (never a redirect, which
     * could land the script's URI in a location of files, as an {@code internal} one hiding the front controller is,
     * and send its source; PATH_INFO stays). True where the exchange was taken over (and {@code run} run, or due to
     * run); false, and nothing done, where the URI is this location's or none's. An index or front controller whose URI
     * rewrites are to meet ({@link #redirectedForRewrites}) goes there by the exchange's internal redirect instead.
     */
    private boolean heldElsewhere(Exchange exchange, ScriptResolver.Script script, Runnable run) {
        String uri = script.scriptName();
        if (uri.equals(exchange.path())) {
            return false;
        }
        LocationSettings owner;
        try {
            owner = exchange.locationOf(uri);
        } catch (HttpStatusException gaveUp) { // a location's regex on the script's path (Router.location)
            exchange.fail(gaveUp);
            return true;
        }
        if (redirectedForRewrites(exchange, script, owner)) {
            exchange.redirect(uri);
            return true;
        }
        if (owner == null || owner == exchange.location()) {
            return false;
        }
        // nginx's internal redirect there finds its client_max_body_size first: a PHP location's holds the body. One of
        // files (an internal one hiding the front controller) runs nothing: the script runs as this location's.
        if (owner.handler() == LocationSettings.Handler.FASTCGI && !exchange.holdBodyTo(owner)) {
            return true;
        }
        // What refuses the client there answers as that location (its always-headers), as nginx's answer there is; the
        // script it lets through runs as this one's
        LocationSettings here = exchange.location();
        exchange.answerAs(owner);
        if (AccessCheck.refuses(exchange, owner, "its script " + uri)) {
            return true;
        }
        if (owner.handler() == LocationSettings.Handler.RETURN || owner.handler() == LocationSettings.Handler.REWRITE) {
            exchange.redirect(uri);
            return true;
        }
        // nginx's internal redirect there meets its referers, limits and password too, after its ifs and rewrites
        Runnable checks = () -> locationChecks.enter(exchange, owner, uri, here, () -> {
            exchange.answerAs(here);
            run.run();
        });
        // its ifs and rewrites, which nginx's internal redirect there meets: an if guarding its scripts guards this one
        if (!RewritePhase.enter(exchange, owner, uri, checks)) {
            checks.run();
        }
        return true;
    }

    /**
     * Whether {@code script}, an index or the front controller (not the script part of a path with PATH_INFO, which
     * nginx finds without a redirect), goes to its URI by an internal redirect, as nginx's index and try_files do, for
     * rewrites to meet it there: the site's where it has some, or those of this location, its {@code owner}, for the
     * script's {@code $uri}. Only to a PHP location: one of files would send the script's source.
     */
    private static boolean redirectedForRewrites(Exchange exchange, ScriptResolver.Script script,
            LocationSettings owner) {
        if (owner == null || owner.handler() != LocationSettings.Handler.FASTCGI
                || script.documentUri().equals(exchange.path())) {
            return false;
        }
        return !exchange.site().rewrites().isEmpty() || owner == exchange.location() && !owner.rewrites().isEmpty();
    }

    /**
     * A directory, with a front controller or without: the first index file that exists decides; a script runs, any
     * other file (or none) goes to the static responder, which applies the same index list. An index file the
     * site's policy refuses is a 403, as the static path's index search answers it.
     */
    private static ScriptResolver.Resolution indexOf(Exchange exchange, Path directory, Resolvers resolvers) {
        String base = exchange.path();
        for (String index : exchange.site().index()) {
            ScriptResolver.FileProbe.Kind kind = resolvers.probe().kind(directory.resolve(index));
            if (kind == ScriptResolver.FileProbe.Kind.FORBIDDEN) {
                return ScriptResolver.Forbidden.refused("index " + base + index);
            }
            if (kind == ScriptResolver.FileProbe.Kind.FILE) {
                ScriptResolver.Resolution candidate = resolvers.scriptsOnly().resolve(base + index, exchange.query());
                return candidate instanceof ScriptResolver.Script ? candidate : new ScriptResolver.StaticFile(directory, true);
            }
        }
        return new ScriptResolver.StaticFile(directory, true);
    }

    private void start(Exchange exchange, ScriptResolver.Script script, HttpRequest request, ResponseTap tap) {
        boolean chunked = HttpUtil.isTransferEncodingChunked(request);
        long contentLength = HttpUtil.getContentLength(request, -1L);
        // One that runs without its client keeps its configuration's backends open (a reload meanwhile retires them
        // only once it is over), taken while its client is surely still there: released by its call, or below.
        boolean unattended = runsWithoutClient(request);
        if (exchange.keptBody() instanceof SpooledBody kept) {
            // the body a backend's X-Accel-Redirect sent the request on with, read whole there: sent again from where it
            // is held, as nginx sends the body it kept to the location a redirect lands in; this call's hold on it
            // given back when it ends (a detached one's after the exchange's)
            new Call(exchange, script, request, tap, kept, kept.share(),
                    unattended ? exchange.holdBackends() : NOTHING_HELD).acquire();
            return;
        }
        if (!chunked && contentLength <= 0) {
            new Call(exchange, script, request, tap, null, NOTHING_HELD,
                    unattended ? exchange.holdBackends() : NOTHING_HELD).acquire();
            return;
        }
        // The body is read whole before a PHP worker is taken, as nginx buffers request bodies: a client trickling
        // an upload in holds no worker meanwhile; and a chunked body's CONTENT_LENGTH must be known before the
        // params go out. The connection handler caps it at the configured body limit. Owned here until the call
        // takes it; released here if it never completes (over the limit, malformed, the client gone) or cannot be
        // spooled (500).
        // From here the client's FIN ends the request as its call's will (nginx, fastcgi_ignore_client_abort off): while
        // its body comes in or goes to the spool file too, and at once if it came while the script was looked up. Not
        // a request that runs without its client (runsWithoutClient): its body, once whole, goes to the script anyway
        // (one cut short still ends it).
        exchange.endOnClientClose(!unattended);
        if (exchange.isEnded()) {
            return;
        }
        if (exchange.awaitsContinue()) {
            // Its client sends the body only when told to: a full queue is told now, not after an upload it would refuse
            // (nginx asks for the body first; the client then uploads it whole for a 503)
            QueueFullException full = pool.refusalIfFull();
            if (full != null) {
                if (tap == null || !tap.onError(full)) {
                    exchange.fail(full);
                }
                return;
            }
        }
        Runnable held = unattended ? exchange.holdBackends() : NOTHING_HELD;
        // A spool that takes nothing for the backend write timeout fails the body as a backend that takes nothing would.
        SpooledBody body = new SpooledBody(exchange.clientChannel(), exchange::pauseBody, bodyBufferSize,
                bodySpoolDir, timeouts.write(), error -> {
                    held.run();
                    // in bursts, as uploads come (a full disk, the descriptor limit): throttled as the 503s are
                    boolean noDescriptor = Syscalls.isOutOfDescriptors(error);
                    // each kind on its own: a burst of one does not hide the first of the other (a full disk)
                    unattendedFailures.warn(noDescriptor ? FileSystemException.class : SpooledBody.class,
                            "request body of " + request.method() + " " + LogText.escapeBytes(request.uri())
                                    + " could not be spooled to " + bodySpoolDir + ": " + error + (noDescriptor
                                    ? " (the descriptor limit: raise ulimit -n, or fs.file-max for the system's; or "
                                            + "lower server.max-connections)" : ""));
                    // out of descriptors for now, as a download refused for it is: 503 and Retry-After, not edge's fault
                    exchange.sendError(noDescriptor ? HttpResponseStatus.SERVICE_UNAVAILABLE
                            : HttpResponseStatus.INTERNAL_SERVER_ERROR);
                });
        exchange.readBody(content -> body.take(content, () -> {
            boolean clientLeft = !exchange.clientChannel().isActive();
            if (unattended ? exchange.isEnded() && !clientLeft : exchange.isEnded() || clientLeft) {
                body.release(); // answered already; or the client left while the last of it was spooled
                held.run();
                return;
            }
            body.logIfInFile(exchange.requestId(), request);
            new Call(exchange, script, request, tap, body, body::release, held).acquire();
        }), () -> {
            body.release();
            held.run();
            if (tap != null) {
                tap.onGivenUp(); // the cache's flight this request leads ends: nothing will be asked for it
            }
        });
    }

    /** What a request that holds no backends releases ({@link Exchange#holdBackends}). */
    private static final Runnable NOTHING_HELD = () -> { };

    /**
     * Whether a request whose client leaves before its answer still goes to the script, the answer dropped: one that
     * is not safe (RFC 9110 9.2.1: POST, PUT, DELETE, PATCH, ...), its body whole. Its client asked for a change, and
     * nginx has passed such a request on (or php-fpm's backlog holds it) by the time the client closes: WordPress's
     * cron spawn and other fire-and-forget calls post and hang up at once, and never ran. A safe one (GET, HEAD,
     * OPTIONS) is dropped, from the queue too: nobody reads its answer.
     */
    private static boolean runsWithoutClient(HttpRequest request) {
        HttpMethod method = request.method();
        return !(HttpMethod.GET.equals(method) || HttpMethod.HEAD.equals(method) || HttpMethod.OPTIONS.equals(method)
                || HttpMethod.TRACE.equals(method));
    }

    /** One request to the backend group, from waiting in the queue to the end of the response. */
    private final class Call implements FcgiExchange.Listener {
        private final Exchange exchange;
        private final ScriptResolver.Script script;
        private final HttpRequest request;
        private final ResponseTap tap;
        private final long contentLength;
        /** The request body, read whole before the call (or kept by the exchange: {@link Exchange#keptBody}); null for none. */
        private final SpooledBody body;
        /** Gives back the call's hold on {@link #body}: its release, or a {@link SpooledBody#share}'s; idempotent. */
        private final Runnable bodyRelease;
        private final Channel clientChannel;
        /** Taken while the client is connected: a detached call may reach the backend after it left. */
        private final InetSocketAddress localAddress;
        private final InetSocketAddress remoteAddress;
        /** Whether the client came over TLS to the proxy in front (PHP's HTTPS), taken with its address. */
        private final boolean https;
        private final String requestId = Long.toString(REQUEST_IDS.incrementAndGet(), 36);
        private Future<Lease> pending;
        private FcgiExchange backend;
        private boolean clientGone;
        /** The client went away and the tap goes on alone ({@link ResponseTap#onClientGone}): nothing is written. */
        private boolean detached;
        /**
         * The client went away and the request goes to the script without it (runsWithoutClient): at the script's first
         * output, the call ends as for a client that left ({@link #endWithClient}), so that its next output stops it,
         * as behind nginx (a streamed answer its user stopped ran to its end, a worker held for nobody); until then a
         * request a kept connection or an overloaded backend never took is sent again as any.
         */
        private boolean alone;
        private int retries;
        /** When the request goes on to the next address of a group of several (nginx's fastcgi_next_upstream). */
        private final LocationSettings.NextUpstream next = nextUpstream;
        /** When it first went to the group: the next-upstream timeout counts from here. */
        private final long startedNanos = System.nanoTime();
        /** Tries that failed, connects included: the next-upstream tries bound them. */
        private int failedTries;
        /** The keys of the addresses the request went out to, or whose connect failed for it: passed on to others. */
        private final Set<String> tried = new HashSet<>();
        /** The failure that passed the request on, answered if no other address takes it; null before one. */
        private Throwable passedOnFor;
        /** The address of the last connect that failed for the current acquire (listed for the log), or null. */
        private SocketAddress failedConnect;
        /** The current try's lease, from its grant on. */
        private Lease lease;
        /** What this call's earlier leases waited in the group's queue: a retry waits only the rest of its timeout. */
        private long queuedNanos;
        /** When the last {@link #acquire} asked for a connection ({@link System#nanoTime}). */
        private long acquiredAt;
        /** When the last lease was granted ({@link System#nanoTime}). */
        private long leasedAt;
        /** Connections met whose backend never took the request ({@link FcgiExchange#requestUnread}). */
        private int unreadRetries;
        /** Times a backend refused the request unread, busy (FCGI_OVERLOADED): each one waits in the queue again. */
        private int overloadedRetries;
        /**
         * Releases the configuration's backends held for a request that runs without its client (runsWithoutClient),
         * so that a reload retires them only once it is over; run once, at the call's end (releaseBackends).
         */
        private Runnable heldBackends;
        /** The backend's response head came ({@link #onHead}): from here the request is never sent again. */
        private boolean headReceived;
        /** The backend's X-Accel-Limit-Rate that paces its answer ({@link BodyPace#scriptRate}); null for none. */
        private String accelLimitRate;
        /**
         * The backend's head said X-Accel-Buffering: no (a stream: Server-Sent Events, a job's progress): what its
         * client can't take yet is held in memory alone ({@link #relay}), never in a spool file, as nginx reads an
         * unbuffered answer only as fast as its client takes it.
         */
        private boolean unbuffered;
        /**
         * The pace of the body to the client (the location's limit-rate, or the backend's X-Accel-Limit-Rate): then
         * every byte of it goes through {@link #spool} and out a piece at a time; null for none.
         */
        private BodyPace pace;
        private boolean redirected;
        private boolean takenOver;
        /** The head's status has no body (1xx, 204, 304): what the script wrote after it is dropped, not counted. */
        private boolean bodiless;
        /** The response head, not yet written while the response may still come whole in this read. */
        private HttpResponse heldHead;
        /** Body that came with {@link #heldHead}, in order; owned by the call until written or released. */
        private final ArrayDeque<ByteBuf> heldBody = new ArrayDeque<>();
        /** The body length the backend's head declared for the client, -1 for none (or no body to send). */
        private long declaredLength = -1;
        /**
         * Body bytes that came with {@link #heldHead} for a HEAD client whose backend was asked a GET (the
         * response cache's, as nginx's proxy_cache_convert_head): dropped, but counted for its Content-Length.
         */
        private long headBodyLength;
        /** Body bytes passed on to the client, never more than {@link #declaredLength}. */
        private long relayed;
        /** The backend sent more body than it declared; the excess was dropped. */
        private boolean overrun;
        /**
         * The client had (or has in the spool, to be drained) the whole body the head declared and its answer ended
         * or ends with that drain, while the script went on ({@link #answerIsWhole}); what the backend sends after is
         * for nobody but the tap.
         */
        private boolean answeredWhole;
        /** The client's answer was ended ({@link #completeResponse}). */
        private boolean responseEnded;
        /** The backend's answer ended ({@link #onEnd} ran): a failure told after it is edge's own. */
        private boolean backendEnded;
        /** What the client could not take yet, in order; null until some of the body had to wait. */
        private ResponseSpool spool;
        /** Writes {@link #spool} out as the client takes it; made with it. */
        private SpoolDrain drain;
        /** The backend's response ended with some of it still in {@link #spool}: the drain ends it. */
        private boolean endAfterSpool;

        Call(Exchange exchange, ScriptResolver.Script script, HttpRequest request, ResponseTap tap, SpooledBody body,
                Runnable bodyRelease, Runnable heldBackends) {
            this.heldBackends = heldBackends;
            this.bodyRelease = bodyRelease;
            this.exchange = exchange;
            exchange.tagLogLines("[" + requestId + "]"); // its 502 or 504 line, as the lines here, says which request
            this.script = script;
            this.request = request;
            this.tap = tap;
            this.body = body;
            // Without a body, a request's Content-Length: 0 is still CONTENT_LENGTH "0" (nginx's $content_length)
            this.contentLength = body != null ? body.length() : HttpUtil.getContentLength(request, -1L);
            this.clientChannel = exchange.clientChannel();
            this.localAddress = exchange.localAddress();
            this.remoteAddress = exchange.remoteAddress();
            this.https = exchange.https();
            if (exchange.isEnded()) {
                // a request that runs without its client (runsWithoutClient), whose client left already
                if (tap == null) {
                    goAlone();
                } else {
                    detach();
                }
            } else {
                exchange.onClientGone(this::clientGone);
                exchange.endOnClientClose(true);
            }
        }

        void acquire() {
            if (clientGone) {
                return; // a retry queued before the client left: no queue slot, no lease for nobody
            }
            long waited = (tap == null ? 0 : tap.waitedNanos()) + queuedNanos;
            acquiredAt = System.nanoTime();
            boolean again = retries + unreadRetries + overloadedRetries != 0 || passedOnFor != null;
            failedConnect = null;
            pending = pool.acquireNext(clientChannel.eventLoop(), waited, again,
                    tap != null && tap.answersWithoutBackend(), tried, this::connectFailed,
                    cause -> mayPassOn(cause instanceof ConnectTimeoutException
                            ? LocationSettings.Condition.TIMEOUT : LocationSettings.Condition.ERROR));
            pending.addListener(f -> leased());
        }

        /** A connect made for the request failed, and it goes on to the next address if any: a try of its own. */
        private void connectFailed(String key, BackendUnavailableException failure) {
            tried.add(key);
            failedTries++;
            if (!clientGone) {
                failedConnect = failure.triedAddress();
                exchange.upstreamFailed(failedConnect, failure);
            }
        }

        /**
         * Whether a try that failed for {@code condition} passes the request on (nginx's fastcgi_next_upstream): the
         * condition is in the list, and neither its tries (this one counted) nor its time are used up.
         */
        private boolean mayPassOn(LocationSettings.Condition condition) {
            return next.passesOn(condition, failedTries, System.nanoTime() - startedNanos);
        }

        /**
         * As {@link #mayPassOn}, for a request that went out to the backend and failed there before its answer's head:
         * not a POST, LOCK or PATCH (nginx's non-idempotent methods) unless the list has non_idempotent. Its body, read
         * whole before the try, is kept until the call ends ({@link SpooledBody}), so it goes again with it, as nginx's
         * buffered body does. Not a request whose client left (it runs {@link #alone}): its script got it, nobody waits
         * for an answer, and nginx, its client gone, tries no other address.
         */
        private boolean mayGoAgain(LocationSettings.Condition condition) {
            return !headReceived && !alone && next.resends(request.method()) && mayPassOn(condition);
        }

        /** The condition of nginx's fastcgi_next_upstream that {@code cause}, a try's failure, meets; null for none. */
        private static LocationSettings.Condition conditionOf(Throwable cause) {
            return cause instanceof BackendTimeoutException ? LocationSettings.Condition.TIMEOUT
                    : cause instanceof BackendUnavailableException ? LocationSettings.Condition.ERROR
                    : cause instanceof FcgiProtocolException ? LocationSettings.Condition.INVALID_HEADER : null;
        }

        /** What this call has waited in the group's queue, its earlier leases' waits and the current one's so far. */
        private long queuedSoFar() {
            return queuedNanos + System.nanoTime() - acquiredAt;
        }

        private void leased() {
            Future<Lease> f = pending;
            pending = null;
            if (f.isCancelled()) {
                releaseBackends();
                return;
            }
            if (!f.isSuccess()) {
                if (!(f.cause() instanceof QueueFullException)) {
                    // its wait ran out (503), or the group failed it after a wait (502): the log says how long it was
                    exchange.upstreamQueued(queuedSoFar());
                }
                SocketAddress last = BackendPool.triedAddress(f.cause());
                if (last != null && !last.equals(failedConnect)) { // (that one is listed: connectFailed)
                    // a connect made for it failed (refused, no socket, no permission): nginx's $upstream_addr names
                    // the address it tried and $upstream_status the status of that try, here what the client gets
                    exchange.upstreamFailed(last, f.cause());
                }
                if (body != null && !clientGone) {
                    // read whole, never sent: the error's page (503 = "/busy.php", "@busy") gets it, as nginx's
                    // error_page redirect sends on the body it read; the exchange holds a share till it ends
                    BackendFileNames.passOnBody(exchange, body);
                }
                releaseBody();
                // passed on with no address left to try: answered as the last try failed, as nginx does
                failed(passedOnFor != null && f.cause() instanceof BackendUnavailableException && last == null
                        ? passedOnFor : f.cause());
                return;
            }
            Lease lease = f.getNow();
            this.lease = lease;
            leasedAt = System.nanoTime();
            queuedNanos += lease.waitNanos();
            waitStats.record(lease.waitNanos());
            exchange.upstreamStarted(lease.waitNanos(), lease.connectNanos());
            SocketAddress peer = lease.channel().remoteAddress();
            exchange.upstreamAddress(peer != null ? peer : lease.address().address());
            if (clientGone) {
                lease.release(Lease.Outcome.CLOSE);
                return;
            }
            ByteBuf params = CgiParams.encode(clientChannel.alloc(), cgiRequest(), script, cgiOptions());
            String tooLong = FcgiNameValues.pairLongerThanARecord(params);
            if (tooLong != null) {
                // php-fpm cannot take it (it resets the connection); possible only with server.limits over 64 KiB.
                // The request's fault, not the backend's: nothing is sent, and the connection goes back unused.
                params.release();
                lease.release(Lease.Outcome.REUSABLE);
                releaseBody();
                failed(new HttpStatusException(tooLong.startsWith("HTTP_")
                        ? HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE : HttpResponseStatus.REQUEST_URI_TOO_LONG,
                        tooLong + " is longer than a FastCGI record (65535 bytes) takes"));
                return;
            }
            if (tap != null) {
                tap.onLeased();
            }
            FcgiExchange started = FcgiExchange.start(lease, params,
                    new FcgiExchange.Options(requestId, responseBuffer.headSize(), timeouts.read(), timeouts.write(),
                            "client " + NetUtil.toAddressString(remoteAddress.getAddress()) + ", request \""
                                    + exchange.request().method() + " "
                                    + LogText.escapeBytes(exchange.request().uri()) + "\"",
                            pool.awaitsWorker(), passedScriptLines), this);
            if (started.isDone()) {
                // Failed at once (onError ran inside start and decided); nothing was sent, so backend stays
                // null and a retry of a POST is still allowed.
                return;
            }
            backend = started;
            if (alone) {
                started.onFirstOutput(this::endWithClient);
            }
            sendBody();
        }

        private void sendBody() {
            if (body == null) {
                backend.endStdin();
            } else {
                body.sendTo(new SpooledBody.Sink(backend::writeStdin, backend::endStdin, backend::isDone,
                        backend::isWritable, backend::onWritable), this::bodyUnreadable);
            }
        }

        private boolean replayable() {
            HttpMethod method = request.method();
            return (HttpMethod.GET.equals(method) || HttpMethod.HEAD.equals(method)) && contentLength <= 0;
        }

        /**
         * The location's fastcgi-params for this request: its variables' values (a request's {@code $uri} with CR LF
         * in it percent-encoded, as in a header: {@link Variables#param}); a param that comes out empty is sent
         * empty, as nginx's fastcgi_param is, but one written with if_not_empty.
         */
        private CgiOptions cgiOptions() {
            if (variableParams == null) {
                return cgiOptions;
            }
            List<Map.Entry<String, String>> params = new ArrayList<>(variableParams.size());
            for (Map.Entry<String, VariableText> param : variableParams) {
                String value = Variables.param(exchange, paramsLocation, param.getValue());
                if (!value.isEmpty() || !param.getValue().ifNotEmpty()) {
                    params.add(Map.entry(param.getKey(), value));
                }
            }
            return new CgiOptions(false, params);
        }

        private CgiRequest cgiRequest() {
            List<Map.Entry<String, String>> headers = new ArrayList<>(request.headers().size());
            request.headers().forEach(headers::add);
            return new CgiRequest(request.method().name(), request.uri(), exchange.sentVersion().text(),
                    exchange.path(), exchange.query(), headers, request.headers().get(HttpHeaderNames.CONTENT_TYPE),
                    contentLength, exchange.site().serverName(), localAddress.getPort(), NetUtil.toAddressString(localAddress.getAddress()),
                    NetUtil.toAddressString(remoteAddress.getAddress()), remoteAddress.getPort(), https,
                    exchange.authenticatedUser());
        }

        @Override
        public void onHead(HttpResponse head) {
            if (passedOnAt(head)) {
                return;
            }
            headReceived = true;
            exchange.upstreamStatus(head.status().code());
            // the pace of the answer, the script's body or the file it hands out (sendfile): of several lines, the
            // last that is a number, as nginx's (the response cache takes the same line for its hits' pace)
            accelLimitRate = BodyPace.scriptRate(head.headers().getAll(CgiResponseParser.X_ACCEL_LIMIT_RATE));
            // the lines fastcgi-pass-headers passes reach the client as the script sent them (nginx's
            // fastcgi_pass_header), not as read for the tap below
            HttpHeaders passed = new DefaultHttpHeaders();
            for (String name : passedAccelFields) {
                passed.add(name, head.headers().getAll(name));
            }
            unbuffered = ResponseCache.unbuffered(head.headers(), responseBuffer.enabled());
            if (unbuffered && !responseBuffer.enabled()) {
                // the group's fastcgi_buffering off, no "yes" from the script: read, by the tap too, as its own "no"
                head.headers().set(ResponseCache.X_ACCEL_BUFFERING, "no");
            }
            // The response cache (the tap) reads every line as it came, and keeps them with the answer (an unbuffered
            // one it does not store), passed or not, for a hit in a location that passes them, as the proxy's tap
            // does; the client sees only those passed, as nginx's.
            boolean tapTookOver = tap != null && !tap.onHead(head);
            head.headers().remove(ResponseCache.X_ACCEL_EXPIRES).remove(CgiResponseParser.X_ACCEL_LIMIT_RATE)
                    .remove(ResponseCache.X_ACCEL_BUFFERING).add(passed);
            if (tapTookOver || detached) {
                takenOver = true;
                if (tap != null && !tap.wantsRest()) {
                    letGo();
                }
                return;
            }
            if (sendfileOrFail(head)) {
                return;
            }
            heldHead = head; // written by onReadComplete, or with the whole body by onEnd
            bodiless = !Exchange.statusHasBody(head.status().code());
            if (!exchange.isHead() && !bodiless) {
                declaredLength = declaredLength(head);
                LimitRate limitRate = limitRate(accelLimitRate, exchange.location());
                if (limitRate != null) {
                    pace = new BodyPace(limitRate, clientChannel.eventLoop());
                }
            }
        }

        /**
         * Whether the script's answer, of a status the location's list has (fastcgi-next-upstream's http_503...), is
         * dropped for the next address of the group to answer the request, as nginx's fastcgi_next_upstream does: judged
         * at its head, before anything of it went anywhere (the client, the response cache's tap, an X-Accel-Redirect's
         * file), for a request that {@link #mayGoAgain may go again}, while an address it has not tried is up. The try
         * is listed with its status; the answer's lease is released as a failure of its address for a 500, 503 or 429
         * (not a 403 or 404), once its script has ended ({@link FcgiExchange#dropAnswer}). Not passed on, the answer is
         * the request's, as it is: the last address's too.
         */
        private boolean passedOnAt(HttpResponse head) {
            int code = head.status().code();
            LocationSettings.Condition status = LocationSettings.NextUpstream.ofStatus(code);
            if (status == null || !mayGoAgain(status) || !pool.hasAddressBesides(tried, lease)) {
                return false;
            }
            exchange.upstreamStatus(code);
            exchange.upstreamEnded();
            LOG.debug("[{}] {} answered {}: passed on to the next address", requestId, lease.address(), code);
            backend.dropAnswer(status.isFailure());
            tried.add(lease.address().key());
            failedTries++;
            // no address left to take it after all (the last one went down meanwhile): 502, as nginx's
            passedOnFor = new BackendUnavailableException(lease.address() + " answered " + code);
            backend = null;
            acquireAgain();
            return true;
        }

        /**
         * Nobody wants the rest of the response (the tap answered the client from its head, a 304): the backend request
         * is let go as a gone client's is ({@link FcgiExchange#abort}), so a script that keeps writing for nobody is
         * stopped, and its slot is free once the script is.
         */
        private void letGo() {
            releaseBackends();
            exchange.upstreamEnded();
            releaseBody();
            releaseHeld();
            releaseSpool();
            backend.abort();
        }

        /** Sends the held head as the start of a streamed response, and the body held so far. */
        private void writeHeldHead() {
            HttpResponse head = heldHead;
            heldHead = null;
            if (!HttpUtil.isContentLengthSet(head) && !exchange.isHead() && !bodiless) {
                if (exchange.request().protocolVersion().equals(HttpVersion.HTTP_1_1)) {
                    HttpUtil.setTransferEncodingChunked(head, true);
                } else {
                    head.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
                }
            }
            exchange.offerCompression();
            exchange.write(head);
            relayHeld();
        }

        /**
         * Passes the body held with the head on as any later part of it: to the client while it takes it, the rest to
         * the spool. Written whole, a read's worth (up to ~1 MiB) sat in the connection's buffer for a client that
         * reads nothing, beyond response-buffer.memory.
         */
        private void relayHeld() {
            for (ByteBuf chunk; (chunk = heldBody.poll()) != null; ) {
                relay(chunk);
            }
        }

        /**
         * The whole response arrived before any of it was written: one message with its length, which the HTTP
         * encoder turns into one buffer (no chunk framing, one write, and an HTTP/1.0 client keeps its
         * connection); past what the connection takes at once, its head with that length and the body relayed as
         * a stream's ({@link #relayHeld}).
         */
        private void writeHeldResponse() {
            HttpResponse head = heldHead;
            heldHead = null;
            long heldBytes = 0;
            for (ByteBuf chunk : heldBody) {
                heldBytes += chunk.readableBytes();
            }
            HttpHeaders headers = head.headers();
            if (!bodiless && !HttpUtil.isContentLengthSet(head)
                    && !headers.contains(HttpHeaderNames.TRANSFER_ENCODING)) {
                if (!exchange.isHead()) {
                    headers.set(HttpHeaderNames.CONTENT_LENGTH, heldBytes);
                } else if (HttpMethod.GET.equals(request.method())) {
                    // A HEAD the backend saw as a GET: the length the GET gets, as a cached HEAD answer has it. A
                    // HEAD passed on as HEAD brings no body (PHP drops it), so there is no length to tell.
                    headers.set(HttpHeaderNames.CONTENT_LENGTH, headBodyLength);
                }
            }
            if (declaredLength < 0 || relayed == declaredLength) {
                exchange.offerCompression(); // a cut body keeps the length it declared, so the client sees it cut
            }
            if (heldBytes > clientChannel.config().getWriteBufferHighWaterMark() || !exchange.isWritable()
                    || pace != null && !pace.allowsAtOnce(heldBytes)) {
                // More than the connection (or the pace) takes at once: the head, then the body as any streamed one, so
                // that what the client does not read yet goes to the spool (and its file), not all of it into memory.
                exchange.write(new DefaultHttpResponse(head.protocolVersion(), head.status(), headers));
                relayHeld();
                if (spool != null && !spool.isEmpty()) {
                    endAfterSpool = true; // the drain waiting ends the response
                } else if (!responseEnded) { // a paced answer's drain, run as the body was handed on, may have ended it
                    endResponse();
                }
                return;
            }
            ByteBuf body = switch (heldBody.size()) {
                case 0 -> Unpooled.EMPTY_BUFFER;
                case 1 -> heldBody.poll();
                default -> wholeHeldBody();
            };
            completeResponse(exchange.writeAndFlush(new DefaultFullHttpResponse(head.protocolVersion(),
                    head.status(), body, headers, EmptyHttpHeaders.INSTANCE)));
        }

        /**
         * The held chunks as one buffer that owns them. Never consolidated: a composite past its most components
         * copies them all into one new buffer, where a write takes them as they are.
         */
        private ByteBuf wholeHeldBody() {
            CompositeByteBuf whole = clientChannel.alloc().compositeBuffer(heldBody.size());
            for (ByteBuf chunk; (chunk = heldBody.poll()) != null; ) {
                whole.addComponent(true, chunk);
            }
            return whole;
        }

        private void releaseHeld() {
            heldHead = null;
            for (ByteBuf chunk; (chunk = heldBody.poll()) != null; ) {
                chunk.release();
            }
        }

        /** {@link #sendfile}, answered 500 where a location's regex gave up on the URI (Router.location). */
        private boolean sendfileOrFail(HttpResponse head) {
            try {
                return sendfile(head);
            } catch (HttpStatusException gaveUp) {
                exchange.fail(gaveUp);
                return true;
            }
        }

        /**
         * {@code X-Sendfile: /path} or {@code X-Accel-Redirect: /uri}: the backend's body is dropped and the
         * file is sent by the static path, if it lies inside a configured directory, or without any, for an
         * X-Accel-Redirect, inside the root of the location of files its URI routes to (else 403 or 404).
         */
        private boolean sendfile(HttpResponse head) {
            // X-Sendfile (lighttpd's, an absolute path) only where directories are named for it; X-Accel-Redirect (a
            // URI, routed as nginx's internal redirect) always, as nginx follows it
            String sendfile = sendfileRoots.isEmpty() ? null : head.headers().get("X-Sendfile");
            String accel = head.headers().get("X-Accel-Redirect");
            if (sendfile == null && accel == null) {
                return false;
            }
            redirected = true;
            if (sendfile == null && accel.startsWith("@")) {
                // nginx's X-Accel-Redirect to a named location: the fields it keeps go with that location's answer,
                // which has the request as it came (its method, URI and query; not a GET, as a URI's redirect)
                HttpHeaders kept = new DefaultHttpHeaders();
                for (String name : BackendFileNames.ACCEL_REDIRECT_KEPT) {
                    kept.add(name, head.headers().getAll(name));
                }
                exchange.endOnClientClose(false);
                exchange.carryHeaders(kept);
                BackendFileNames.passOnBody(exchange, body);
                exchange.redirectNamed(accel);
                return true;
            }
            // The fields nginx keeps, as a proxied backend's redirect keeps them (X-Sendfile's a few more); their
            // Accept-Ranges aside: the file's answer has its own, which stays, as there. Kept from here on, so that an
            // error on the way to the file (missing, refused) has them too, as nginx copies them into its request's
            // fields before it looks for the file.
            HttpHeaders passThrough = new DefaultHttpHeaders();
            for (String name : sendfile != null ? SENDFILE_KEPT : BackendFileNames.ACCEL_REDIRECT_KEPT) {
                if (!HttpHeaderNames.ACCEPT_RANGES.contentEqualsIgnoreCase(name)) {
                    passThrough.add(name, head.headers().getAll(name));
                }
            }
            exchange.keepAccelFields(passThrough);
            // An error on the way to the file may hand the request on (a front controller "@app", error-pages' 404 =
            // "@app") to a location that sends a body: the one the script had, as nginx's, never one announced and
            // gone (that location waited for it to the client's timeout)
            BackendFileNames.passOnBody(exchange, body);
            if (sendfile == null && BackendFileNames.unsafeAccelUri(BackendFileNames.withoutQuery(accel))) {
                LOG.warn("[{}] backend asked to send {}: an unsafe URI (a \"..\" segment, or no path from the root), 404",
                        requestId, LogText.escapeControls(accel));
                exchange.sendError(HttpResponseStatus.NOT_FOUND);
                return true;
            }
            // An X-Accel-Redirect URI may carry a query (nginx passes it on as the redirect's arguments): a file's
            // name ends before it; the rest is percent-decoded, as nginx does. nginx's X-Accel-Redirect is an internal
            // redirect: the URI, normalized, is mapped under the root of the location it routes to (its own root,
            // else the site's), not the script's. Either header's name is read as UTF-8 where it is.
            String fileName = sendfile != null ? BackendFileNames.sendfilePath(sendfile)
                    : BackendFileNames.accelPath(BackendFileNames.withoutQuery(accel));
            Path named = fileName == null ? null : pathOf(fileName);
            if (named == null) {
                LOG.warn("[{}] backend asked to send {}, which names no file", requestId,
                        LogText.escapeControls(sendfile != null ? sendfile : accel));
                exchange.sendError(HttpResponseStatus.NOT_FOUND);
                return true;
            }
            // A name ending in "/" names a directory, and edge sends none (an X-Accel-Redirect's gets its index file):
            // a file there is 404, as open(2) finds it (ENOTDIR) and a client's own request for /protected/file.jpg/
            // is answered, nginx's internal redirect to such a URI too. The URI is routed with its slash, as nginx
            // routes it.
            boolean namesDirectory = BackendFileNames.namesDirectory(fileName);
            Path uriPath = Path.of("/").resolve(stripLeadingSlashes(fileName)).normalize();
            String accelUri = sendfile != null ? null
                    : namesDirectory && uriPath.getNameCount() > 0 ? uriPath + "/" : uriPath.toString();
            LocationSettings accelTarget = accelUri == null ? null : exchange.locationOf(accelUri);
            // The script's location, whose checks the request met already
            LocationSettings scriptLocation = exchange.location();
            if (accelUri != null) {
                // nginx's X-Accel-Redirect is an internal redirect: every answer from here on, a refusal or an error
                // too, is that of the location its URI routes to (its always-headers; none's: the server's), and its
                // $uri that URI (headers, the access log; the captures of that location's regex are of it), its $args
                // the URI's query, none without one
                exchange.answerAs(accelTarget, accelUri, queryOf(accel));
                if (!exchange.isHead()) {
                    // as a GET, as nginx's (a proxied backend's too); $request logs the method sent
                    exchange.request().setMethod(HttpMethod.GET);
                }
            }
            Path accelRoot = accelTarget == null ? root : accelTarget.root() != null ? accelTarget.root() : siteRoot;
            AliasCaptures captures = accelTarget == null || !accelTarget.alias() ? null : accelTarget.aliasCaptures();
            // a slash-less alias taken as its directory holds no file should the look at its root find one there before
            // the open is judged (that look runs every second, off the loops): the file, judged against itself, would
            // be inside "its root" wherever a link there leads
            boolean asFile = accelTarget != null && accelTarget.aliasAsFile() != null
                    && rootIsFile(accelRoot.toAbsolutePath().normalize());
            boolean directoryOnly = accelTarget != null && accelTarget.aliasAsFile() != null && !asFile;
            if (asFile) {
                // a slash-less alias found to be a file (the last look at its root, off the loops): that file below
                // its parent, whose links the file is judged by, as the static path takes it (StaticResponder's
                // resolvers), never the file itself (a link there to anywhere would be inside "its root")
                accelRoot = accelRoot.getParent();
                captures = accelTarget.aliasAsFile();
            }
            // an alias location's directory stands for its prefix (nginx's alias), another's root for the whole path;
            // an alias in a regex location (or a slash-less one) says by the URI's captures what is below its directory
            String below = accelTarget == null || !accelTarget.alias() ? null : captures == null
                    ? accelUri.substring(accelTarget.aliasPrefix().length()) : captures.below(accelUri);
            if (accelTarget != null && accelTarget.alias() && (below == null
                    || !accelRoot.resolve(stripLeadingSlashes(below)).normalize().startsWith(accelRoot))) {
                // a capture of "..", as a client's request there is refused: no file below the alias's directory
                LOG.warn("[{}] backend asked to send {}, whose location's alias captures name no file below {}: 404",
                        requestId, LogText.escapeControls(accel), accelRoot);
                exchange.sendError(HttpResponseStatus.NOT_FOUND);
                return true;
            }
            Path file = sendfile != null ? named : below != null ? accelRoot.resolve(stripLeadingSlashes(below))
                    : accelRoot.resolve(stripLeadingSlashes(accelUri));
            Path normalized = file.toAbsolutePath().normalize();
            List<PathResolver> roots;
            if (!sendfileRoots.isEmpty()) {
                roots = sendfileRoots;
            } else if (sendsFiles(accelTarget)) {
                // held to the root of the location its URI routes to alone, as the static path holds a request there
                // (a link leaving it, under symlinks = within-root, into another location's root that holds it is
                // refused)
                Path target = accelRoot.toAbsolutePath().normalize();
                roots = documentRoots.stream().filter(d -> d.configuredRoot().equals(target)).toList();
            } else {
                // A URI no location serves files at (none, a PHP location without a front controller, a status
                // page): a client's own request gets 404 there, and nginx would run it, not send it
                LOG.warn("[{}] backend asked to send {}, which no location of files serves: 404", requestId,
                        LogText.escapeControls(accel));
                exchange.sendError(HttpResponseStatus.NOT_FOUND);
                return true;
            }
            // The location the file goes out as: an X-Accel-Redirect URI's, an X-Sendfile path's URI (under an alias
            // location's directory, its prefix's; under the root, the path there; one elsewhere is no location's)
            String sendfileUri = accel != null ? null : sendfileUri(exchange, absoluteRoot, normalized);
            LocationSettings answering = accel != null ? accelTarget
                    : sendfileUri == null ? null : exchange.locationOf(sendfileUri);
            // nginx checks an internal redirect's location's allow and deny too
            if (AccessCheck.refuses(exchange, answering, "the file the backend named, "
                    + LogText.escapeControls(sendfile != null ? sendfile : accel) + ",")) {
                return true;
            }
            if (isScript(normalized)) {
                // A script (a .php path below this location's root or any document root of the site), whichever
                // location the URI routes to: nginx runs an X-Accel-Redirect to a PHP location's URI (an internal
                // redirect, as a GET), and edge sends files only, so sent, this file would be a script's source (an
                // internal files location over a front controller's path, a script that builds the name from a
                // request). Its real path is held to the same once it is open (sendable): a link named otherwise may
                // lead to one.
                LOG.warn("[{}] backend asked to send {} ({}), a script: refused, edge sends only files this way, never "
                        + "a script's source", requestId, LogText.escapeControls(sendfile != null ? sendfile : accel),
                        sendfile != null ? "X-Sendfile" : "X-Accel-Redirect");
                exchange.sendError(HttpResponseStatus.FORBIDDEN);
                return true;
            }
            // Named inside a directory, as configured or as its real path (PHP sees the real root): nothing else
            // is even opened. Then the file opened must lie inside one too, links resolved (checked after the
            // open, from its descriptor: no realpath on the event loop).
            if (!file.isAbsolute() || roots.stream().noneMatch(
                    dir -> normalized.startsWith(dir.configuredRoot()) || normalized.startsWith(dir.root()))) {
                outside(file);
                return true;
            }
            // The site's dotfile rule holds here too, as nginx's location rules hold for an X-Accel-Redirect's URI:
            // a script that builds the name from a request (download.php?f=.env) sends no secret.
            if (!exchange.site().pathPolicy().allowDotfiles() && roots.stream().anyMatch(dir ->
                    isDotfileUnder(normalized, dir.configuredRoot()) || isDotfileUnder(normalized, dir.root()))) {
                LOG.warn("[{}] backend asked to send {}, a dotfile (the site's dotfiles = deny)", requestId, logged(file));
                exchange.sendError(HttpResponseStatus.FORBIDDEN);
                return true;
            }
            // The backend's body is dropped from here on: the file no longer holds it, and a client that half-closes
            // gets its download as from a static location.
            exchange.endOnClientClose(false);
            if (anywhere.probe() instanceof CachedFileProbe cached) {
                // A file the script may just have made for a path found missing (a thumbnail generated on its first
                // request): what the probe remembered of it goes, so the next request for it gets the file, not the
                // script again for the rest of the period (nginx, remembering no missing path by default, stats). The
                // probe knows it under the configured root; PHP may have named it under the real one (__DIR__).
                cached.forget(normalized);
                Path realRoot = cached.backendRoot(root);
                if (!realRoot.equals(root) && normalized.startsWith(realRoot)) {
                    cached.forget(root.resolve(realRoot.relativize(normalized)));
                }
            }
            LimitRate limitRate = limitRate(accelLimitRate, answering);
            Runnable send = () -> {
                // The file goes out with the headers and expires of that location, not the script's: an
                // X-Accel-Redirect's $uri kept, an X-Sendfile path's its URI there, whose captures that location's
                // regex makes (of the script's path they were none, or another path's)
                if (sendfileUri != null && answering != null) {
                    exchange.answerAs(answering, sendfileUri);
                } else {
                    exchange.answerAs(answering);
                }
                if (accelUri != null && namesDirectory) {
                    // nginx's internal redirect to a directory's URI goes through its index module: the directory's
                    // index file, under the same checks, else 403. X-Sendfile names a file only.
                    staticResponder.sendIndexWithin(exchange, normalized, accelUri, passThrough,
                            (index, real) -> sendable(file, index, real, roots, directoryOnly), limitRate);
                } else {
                    staticResponder.sendFileWithin(exchange, normalized, accelUri, namesDirectory, passThrough,
                            (opened, real) -> sendable(file, opened, real, roots, directoryOnly), limitRate);
                }
            };
            if (answering == null) {
                send.run();
            } else {
                // nginx's internal redirect meets that location's referers, limits (the download a script lets out,
                // one or two at a time per client: limit-conn) and auth_basic too, its answers' captures of the URI
                // that location took (an X-Sendfile path's too, never the script's path)
                locationChecks.enter(exchange, answering, accelUri != null ? accelUri : sendfileUri, scriptLocation,
                        send);
            }
            return true;
        }

        /**
         * The URI an X-Sendfile path {@code file} (normalized) has: under the directory of an alias location that
         * routes it, that location's prefix and the path below; else under {@code root}, its path there; else null.
         */
        private static String sendfileUri(Exchange exchange, Path root, Path file) {
            for (LocationSettings location : exchange.site().everyLocation()) {
                // an alias in a regex location is left out: which URI its captures make a file of is not known
                if (location.alias() && location.aliasCaptures() == null && file.startsWith(location.root())) {
                    String uri = location.aliasPrefix() + location.root().relativize(file);
                    if (exchange.locationOf(uri) == location) {
                        return uri;
                    }
                }
            }
            return file.startsWith(root) ? "/" + root.relativize(file) : null;
        }

        /**
         * The pace of the answer's body (the script's own, or the file it hands out): the backend's
         * {@code X-Accel-Limit-Rate} with {@code answering}'s limit-rate ({@link BodyPace#ofScript}).
         */
        private LimitRate limitRate(String header, LocationSettings answering) {
            return BodyPace.ofScript(header, answering == null ? null : answering.limitRate(),
                    () -> "[" + requestId + "]");
        }

        /**
         * Whether the file opened for {@code file} (named {@code named}, normalized), whose real path is {@code real},
         * may go out: inside one of {@code roots} (the x-sendfile directories, or the routed location's root), and as
         * the site's rules let the static path send a file: no link landing on a dotfile under dotfiles = deny, no link
         * on the way at all under symlinks = deny (the real path is the one named, below the directory's real path).
         * {@code directoryOnly}: a root found to be a file holds nothing (a slash-less alias taken as its directory).
         */
        private boolean sendable(Path file, Path named, Path real, List<PathResolver> roots, boolean directoryOnly) {
            if (isScript(real)) {
                LOG.warn("[{}] backend asked to send {}, which is the script {}: refused, edge sends only files this "
                        + "way, never a script's source", requestId, logged(file), logged(real));
                return false;
            }
            PathPolicy policy = exchange.site().pathPolicy();
            List<PathResolver> linked = List.of();
            if (!policy.followSymlinks()) {
                // under symlinks = deny a directory reached through a link (one, or below one) holds nothing, as a root
                // does (PathResolver: every path below it 404)
                linked = roots.stream().filter(d -> !d.root().equals(d.configuredRoot())).toList();
                if (!linked.isEmpty()) {
                    List<PathResolver> unlinked = new ArrayList<>(roots);
                    unlinked.removeAll(linked);
                    roots = unlinked;
                }
            }
            PathResolver dir = roots.stream().filter(d -> {
                Path holding = directoryOnly ? d.directoryRoot() : d.root();
                return holding != null && real.startsWith(holding);
            }).findFirst().orElse(null);
            if (dir == null) {
                PathResolver through = linked.stream().filter(d -> real.startsWith(d.root())).findFirst().orElse(null);
                if (through != null) {
                    LOG.warn("[{}] backend asked to send {}, below {}, which is reached through a link (its real path is"
                            + " {}): the site's symlinks = deny holds nothing there", requestId, logged(file),
                            through.configuredRoot(), through.root());
                } else {
                    LOG.warn("[{}] backend asked to send {}, which is {} outside {}", requestId, logged(file),
                            logged(real), whereFrom());
                }
                return false;
            }
            if (!policy.allowDotfiles() && isDotfileUnder(real, dir.root())) {
                LOG.warn("[{}] backend asked to send {}, which is the dotfile {} (the site's dotfiles = deny)",
                        requestId, logged(file), logged(real));
                return false;
            }
            if (!policy.followSymlinks() && roots.stream().noneMatch(d -> real.equals(named.startsWith(
                    d.configuredRoot()) ? d.root().resolve(d.configuredRoot().relativize(named)) : named))) {
                LOG.warn("[{}] backend asked to send {}, which a link leads to {} (the site's symlinks = deny)",
                        requestId, logged(file), logged(real));
                return false;
            }
            return true;
        }

        /**
         * Whether {@code file} (absolute, normalized) is a script: a {@code .php} path (in any case: a case-folding
         * directory opens thumb.php for thumb.PHP) below this location's root or any document root of the site, as
         * configured or as its real path: some PHP location may run it there (nginx would run it; its source must not
         * go). A {@code .php} file in an x-sendfile directory outside them (a download kept outside the web roots) is a
         * file like any other.
         */
        private boolean isScript(Path file) {
            List<Pattern> splits = exchange.site().everyLocation().stream().map(LocationSettings::splitPathInfo)
                    .filter(Objects::nonNull).toList(); // a site's split-path-info names its scripts (.phtml) too
            if (isScriptUnder(file, root, splits) || isScriptUnder(file, anywhere.probe().backendRoot(root), splits)) {
                return true;
            }
            for (PathResolver documentRoot : documentRoots) {
                if (isScriptUnder(file, documentRoot.configuredRoot(), splits)
                        || isScriptUnder(file, documentRoot.root(), splits)) {
                    return true;
                }
            }
            return false;
        }

        /** Whether the document root {@code configured} (absolute, normalised) was a file at the last look at it. */
        private boolean rootIsFile(Path configured) {
            return documentRoots.stream().anyMatch(d -> d.configuredRoot().equals(configured) && d.rootIsFile());
        }

        /** Whether a request routed to {@code location} may be answered with a file there (not by a script). */
        private static boolean sendsFiles(LocationSettings location) {
            return location != null && (location.handler() == LocationSettings.Handler.STATIC
                    || location.handler() == LocationSettings.Handler.FASTCGI && location.frontController() != null);
        }

        /**
         * Whether {@code file} lies below {@code under} with a segment ending in {@code .php} (any case, past trailing
         * blanks and controls: a name "t.php" and a line feed is one a PHP location's regex takes too, and the split
         * pattern's "." stops at a line terminator), itself or a directory it is below (as PATH_INFO runs it); or
         * whose path there, as a URI, has a script part by one of {@code splits}, as named or with each segment's
         * trailing blanks and controls left out, as for {@code .php} ("app.phtml" and a line feed).
         */
        private boolean isScriptUnder(Path file, Path under, List<Pattern> splits) {
            if (!file.startsWith(under) || file.equals(under)) {
                return false;
            }
            StringBuilder uri = new StringBuilder();
            StringBuilder trimmed = new StringBuilder();
            for (Path segment : under.relativize(file)) {
                uri.append('/').append(segment);
                String name = segment.toString();
                int end = name.length();
                while (end > 0 && isBlankOrControl(name.charAt(end - 1))) {
                    end--;
                }
                if (end >= 4 && name.regionMatches(true, end - 4, ".php", 0, 4)) {
                    return true;
                }
                trimmed.append('/').append(name, 0, end);
            }
            Consumer<ScriptResolver.SplitGaveUp> gaveUp = split -> refusals.warn(ScriptResolver.SplitGaveUp.class,
                    "[" + requestId + "] backend asked to send " + logged(file) + ": " + split.reason());
            return splits.stream().anyMatch(split -> ScriptResolver.hasScriptPart(split, uri.toString(), gaveUp)
                    || trimmed.length() != uri.length()
                            && ScriptResolver.hasScriptPart(split, trimmed.toString(), gaveUp));
        }

        /** White space (U+2028 and U+2029 too), or a control character (NEL, U+0085, too). */
        private static boolean isBlankOrControl(char c) {
            return Character.isWhitespace(c) || Character.isISOControl(c) || Character.isSpaceChar(c);
        }

        /** The raw query of {@code uri}, after its first '?'; "" where it has none. */
        private static String queryOf(String uri) {
            int query = uri.indexOf('?');
            return query < 0 ? "" : uri.substring(query + 1);
        }

        private static boolean isDotfileUnder(Path file, Path dir) {
            return file.startsWith(dir) && PathResolver.hasDotSegment(dir.relativize(file).toString());
        }

        /** {@code name} as a path; null where it cannot be one (a char the locale's file-name charset lacks). */
        private static Path pathOf(String name) {
            try {
                return Path.of(name);
            } catch (InvalidPathException unnamable) {
                return null;
            }
        }

        private void outside(Path file) {
            LOG.warn("[{}] backend asked to send {} outside {}", requestId, logged(file), whereFrom());
            exchange.sendError(HttpResponseStatus.FORBIDDEN);
        }

        /** A path for a log line: a script's name may hold a line feed, which would start a forged line. */
        private static String logged(Path path) {
            return LogText.escapeControls(path.toString());
        }

        /** Where files may be sent from, for a log line. */
        private String whereFrom() {
            return sendfileRoots.isEmpty() ? "the site's document roots" : "the x-sendfile directories";
        }

        @Override
        public void onBody(ByteBuf chunk) {
            if (bodiless) { // nor to the response cache, whose hits for a stored 204 would carry it
                chunk.release();
                return;
            }
            if (tap != null) {
                tap.onBody(chunk);
            }
            if (heldHead != null && exchange.isHead()) {
                headBodyLength += chunk.readableBytes();
            }
            if (answeredWhole && chunk.isReadable() && !overrun) {
                overrun = true;
                if (responseEnded) {
                    warnOverrun(); // the answer was completed before these came; else completeResponse says it
                }
            }
            if (takenOver || redirected || exchange.isHead() || !exchange.clientChannel().isActive()) {
                chunk.release();
                return;
            }
            if (declaredLength >= 0) {
                chunk = withinDeclaredLength(chunk);
                if (chunk == null) {
                    return;
                }
            }
            if (heldHead != null) {
                // Held until this read from the backend is done: at most what one read delivers.
                heldBody.add(chunk);
                return;
            }
            relay(chunk);
        }

        /**
         * Writes {@code chunk} (owned by the call until now) to the client if it takes it now, else to the spool; a
         * paced body always to the spool, which the drain writes out a piece at a time as the pace allows.
         */
        private void relay(ByteBuf chunk) {
            if ((spool == null || spool.isEmpty()) && exchange.isWritable() && pace == null) {
                exchange.write(new DefaultHttpContent(chunk)); // flushed when this read from the backend is done
                if (!exchange.isWritable()) {
                    exchange.flush();
                    awaitClient();
                }
                return;
            }
            // The client can't take it now (or its pace holds it back): held, in order, so the backend goes on and its
            // worker is free once the script ends; the backend waits only once the spool is full (memory, then its
            // file; memory alone once the file failed, or for an unbuffered answer: a stream that never ends would
            // fill the file to its bound for a client that stalled).
            if (spool == null) {
                spool = new ResponseSpool(clientChannel, responseBuffer.memory(),
                        unbuffered ? 0 : responseBuffer.maxTempFile(), spoolDir, this::spoolFailed,
                        this::spoolWithoutFile, this::spoolHasRoom);
                drain = new SpoolDrain(spool, exchange, new DrainSink());
            }
            spool.add(chunk);
            if (spool.isFull()) {
                backend.pauseResponse();
            }
            awaitClient();
        }

        /**
         * Drains the spool once the client can take more (at once if it can), unless a drain waits already; nothing
         * before there is a spool (made, with its drain, once a chunk waits).
         */
        private void awaitClient() {
            if (drain != null) {
                drain.await();
            }
        }

        /** The spool is drained: ends the response when the backend's end was waiting for it. */
        private void drained() {
            if (endAfterSpool) {
                endAfterSpool = false;
                releaseSpool();
                endResponse();
            } else if (answerIsWhole()) {
                endWhole();
            } else {
                exchange.flush();
            }
        }

        /**
         * Whether the client has (or holds, written, or will have from the spool) all of the body the backend's head
         * declared, while the backend has not ended: a script that sends its page with a Content-Length, then works on
         * (the mod_php habit of sending the page and then mailing or resizing, without fastcgi_finish_request). Its
         * answer is whole, and what the script does after (fails, outlives timeouts.read) cannot cut it, however long
         * its client (or its pace) takes. Body held with the head goes with it ({@link #endWhole}); once the head is
         * out, body still held is not the client's yet (a paced answer's drain runs while {@link #relayHeld} hands it
         * on).
         */
        private boolean answerIsWhole() {
            return declaredLength >= 0 && relayed == declaredLength && !bodiless && !exchange.isHead()
                    && (heldHead != null || heldBody.isEmpty()) && !responseEnded && !exchange.isEnded();
        }

        /**
         * Ends the client's answer, whole ({@link #answerIsWhole}), so that the next request on its connection goes on
         * now rather than after the script (or, behind a script that works past timeouts.read, never: the connection
         * was closed as if cut); once the spool is drained where some of it waits there (a page larger than the
         * connection takes at once, to a slow client: one that leaves meanwhile ends the script's request as any
         * client leaving does). The backend is read on to its end, for the tap alone; its slot stays taken until the
         * script ends, as php-fpm's worker is.
         */
        private void endWhole() {
            answeredWhole = true;
            if (heldHead != null) {
                writeHeldResponse();
            } else if (spool != null && !spool.isEmpty()) {
                endAfterSpool = true; // the drain waiting ends the response
                exchange.flush();
            } else {
                releaseSpool();
                endResponse();
            }
            takenOver = true;
        }

        /** The drain's way to the client ({@link SpoolDrain}). */
        private final class DrainSink implements SpoolDrain.Sink {
            @Override
            public boolean stopped() {
                return clientGone || detached || exchange.isEnded();
            }

            @Override
            public BodyPace pace() {
                return pace;
            }

            @Override
            public void write(ByteBuf chunk) {
                exchange.write(new DefaultHttpContent(chunk));
                if (backend != null && !spool.isFull()) {
                    backend.resumeResponse(); // the spool has room again
                }
            }

            @Override
            public void drained() {
                Call.this.drained();
            }
        }

        /** The spool's file took what waited for the disk: the backend goes on. */
        private void spoolHasRoom() {
            if (backend != null && !clientGone && !detached) {
                backend.resumeResponse();
            }
        }

        /**
         * The spool file could not be made or written (a full disk, a read-only one): nothing was lost, the spool holds
         * the rest in memory and paces the backend by the client, as it did before there was a spool.
         */
        private void spoolWithoutFile(IOException cause) {
            LOG.warn("[{}] response to {} {}: its spool file in {} failed ({}); the response goes on without it, the "
                    + "backend paced by the client", requestId, request.method(), LogText.escapeBytes(request.uri()),
                    spoolDir, cause.toString());
        }

        /**
         * The spool file could not be read back: the response can't be whole, so the client is cut off (its head is
         * out: the connection is closed after what it got).
         */
        private void spoolFailed(IOException cause) {
            LOG.warn("[{}] response to {} {}: its spool file in {} could not be read back ({}); the response is cut "
                    + "short", requestId, request.method(), LogText.escapeBytes(request.uri()), spoolDir,
                    cause.toString());
            endAfterSpool = false;
            releaseSpool();
            if (backend != null && !backend.isDone()) {
                backend.abort(); // its slot is freed as for a client that left; no listener call follows
                releaseBody();
                failed(cause); // the tap, too, hears the response is cut short
            } else {
                exchange.fail(cause); // the backend's answer was whole (the tap had all of it); the client's copy is not
            }
        }

        /** Drops what the spool holds (its file with it), and the pace's wait for a drain; idempotent. */
        private void releaseSpool() {
            if (pace != null) {
                pace.cancel();
            }
            if (spool != null) {
                spool.release();
            }
        }

        /**
         * What of {@code chunk} fits in the declared length (owned by the caller), or null when nothing does;
         * bytes past it would be read by the client as the start of the next response.
         */
        private ByteBuf withinDeclaredLength(ByteBuf chunk) {
            long room = declaredLength - relayed;
            if (chunk.readableBytes() > room) {
                overrun = true;
                ByteBuf fits = room == 0 ? null : chunk.readRetainedSlice((int) room);
                chunk.release();
                chunk = fits;
            }
            if (chunk != null) {
                relayed += chunk.readableBytes();
            }
            return chunk;
        }

        /**
         * Ends a streamed response: with its last part, unless the body fell short of its declared length; then with
         * none, so that a compressed (chunked) answer reads as cut, as one with its length does, not as whole.
         */
        private void endResponse() {
            boolean cut = declaredLength >= 0 && relayed < declaredLength;
            completeResponse(exchange.writeAndFlush(cut ? new DefaultHttpContent(Unpooled.EMPTY_BUFFER)
                    : LastHttpContent.EMPTY_LAST_CONTENT));
        }

        /**
         * Ends the exchange after {@code lastWrite}. A body shorter than its declared length closes the connection
         * (the client would wait for the rest; closing tells it the answer is cut). A longer one went out as the
         * declared bytes, the excess dropped: the answer is whole as far as the client can tell, so the connection
         * goes on (nginx does the same since 1.19.1).
         */
        private void completeResponse(ChannelFuture lastWrite) {
            responseEnded = true;
            if (declaredLength < 0 || relayed == declaredLength) {
                if (overrun) {
                    warnOverrun();
                }
                exchange.complete(lastWrite);
                return;
            }
            LOG.warn("[{}] {} {}: backend declared Content-Length {} and sent {} body bytes; closing the client "
                    + "connection after what was sent", requestId, request.method(),
                    LogText.escapeBytes(request.uri()), declaredLength, relayed);
            exchange.completeAndClose(lastWrite);
        }

        private void warnOverrun() {
            LOG.warn("[{}] {} {}: backend declared Content-Length {} and sent more body bytes; the excess was dropped",
                    requestId, request.method(), LogText.escapeBytes(request.uri()), declaredLength);
        }

        @Override
        public void onReadComplete() {
            if (headReceived && !redirected && !takenOver) {
                if (answerIsWhole()) {
                    endWhole();
                    return;
                }
                if (heldHead != null) {
                    writeHeldHead();
                    if (exchange.isHead()) {
                        // A HEAD's answer is its head: it ends here, as nginx ends one, so what the backend does
                        // after (fails, times out) cannot cut it: that closed the connection, and a request behind
                        // it was lost. The script's body, still coming, is for nobody (a HEAD to a stream held the
                        // connection until the script ended), unless a response cache records it: then it goes on
                        // to its end for the cache alone, as for a client that left.
                        takenOver = true;
                        exchange.complete(exchange.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT));
                        if (tap != null && tap.wantsRest()) {
                            detach();
                        } else {
                            letGo();
                        }
                        return;
                    }
                }
                exchange.flush();
            }
        }

        @Override
        public void onEnd() {
            backendEnded = true;
            releaseBackends();
            exchange.upstreamEnded();
            releaseBody(); // all of it was sent, or the backend answered without reading the rest
            if (tap != null) {
                tap.onEnd();
            }
            if (takenOver || redirected) {
                return; // the static path answers
            }
            if (heldHead != null) {
                writeHeldResponse();
                return;
            }
            if (spool != null && !spool.isEmpty()) {
                endAfterSpool = true; // the backend's slot is free already; the drain waiting ends the response
                return;
            }
            releaseSpool();
            endResponse();
        }

        @Override
        public void onError(Throwable cause) {
            if (backendEnded) {
                // what onEnd threw (the tap's end: a revalidated entry's answer, a store; the held answer's write),
                // logged by the exchange: the client gets a 500, or its connection closed after the head, not its
                // timeout
                releaseHeld();
                releaseSpool();
                if (!exchange.isEnded()) {
                    exchange.fail(cause);
                }
                return;
            }
            exchange.upstreamEnded(); // a retry starts it again
            if (!headReceived) {
                // the try's status as nginx writes one that failed: 504 timed out, else 502
                exchange.upstreamStatus(ErrorResponses.statusFor(cause).code() == 504 ? 504 : 502);
            }
            if (answeredWhole) {
                // The client had its whole answer; the script went on after it, and then failed, or outlived
                // timeouts.read: nothing of the answer is lost, the slot is free again
                releaseBackends();
                releaseBody();
                if (tap != null) {
                    tap.onError(cause);
                }
                LOG.info("[{}] {} {}: the script went on after its whole answer ({} bytes) and then its backend "
                        + "connection failed: {}", requestId, request.method(), LogText.escapeBytes(request.uri()),
                        declaredLength, cause.getMessage());
                return;
            }
            if (cause instanceof BackendOverloadedException && !headReceived
                    && overloadedRetries < MAX_OVERLOADED_RETRIES) {
                // Refused unread by a backend out of some resource of its own: busy, as one whose backlog is full. It
                // waits in the queue again for what is left of its timeout (then 503 + Retry-After, as any wait; the
                // refused try's time counts as waited), while the pool holds new connections to that backend back
                // for a growing backoff.
                overloadedRetries++;
                queuedNanos += System.nanoTime() - leasedAt;
                LOG.debug("[{}] the backend refused the request, overloaded; waiting again", requestId);
                backend = null;
                acquireAgain();
                return;
            }
            // Nothing was sent (backend is null: the connection was found closed inside start), or the backend
            // certainly never took the request (a php-fpm worker closing a kept connection after its last request),
            // or, for a bodiless GET/HEAD, a kept connection ended quietly before any record (the same over TCP)
            boolean unread = backend == null || backend.requestUnread()
                    || backend.keptConnectionEnded() && replayable();
            LocationSettings.Condition condition = conditionOf(cause);
            if ((!unread || unreadRetries >= MAX_UNREAD_RETRIES) && condition != null && lease != null
                    && mayGoAgain(condition) && pool.hasAddressBesides(tried, lease)) {
                // nginx's fastcgi_next_upstream error timeout: the next address of the group not tried yet; this try
                // listed with its 502 or 504 (its lease released by the exchange, counted against its health)
                LOG.debug("[{}] {}: passed on to the next address", requestId, cause.getMessage());
                tried.add(lease.address().key());
                failedTries++;
                passedOnFor = cause;
                backend = null;
                acquireAgain();
                return;
            }
            if (cause instanceof BackendUnavailableException && !headReceived
                    && (unread ? unreadRetries < MAX_UNREAD_RETRIES
                            && (backend == null || next.on(LocationSettings.Condition.ERROR))
                            : retries < MAX_RETRIES && tried.isEmpty() && next.on(LocationSettings.Condition.ERROR))
                    && (unread || backend.mayReplay() && replayable())) {
                // The connection died before an answer. Waiting again is safe when the request is unread, whatever
                // its method: that connection is closed, and each such one met brings a new connection nearer, so
                // these are bounded apart. It is done for a GET/HEAD without a body when no record came back: a
                // kept-alive connection the backend had closed, or one reset in a stopping php-fpm's backlog.
                // Otherwise a sent POST is never replayed, nor a request whose script wrote anything. Without error
                // in the list (off) neither, as nginx sends nothing again then, a cached connection's failure too:
                // only a connection found closed before anything was sent (backend null) is no try at all.
                if (unread) {
                    unreadRetries++;
                    LOG.debug("[{}] the backend closed a kept connection before it took the request; waiting for "
                            + "another", requestId);
                } else {
                    retries++;
                    // INFO: a php-fpm reload or stop resets every request in its backlog; a replay that fails too
                    // is the 502 the exchange logs
                    LOG.info("[{}] {} {}: the backend connection ended before any answer ({}): a php-fpm that "
                            + "stopped with it in its backlog, or a worker killed running the script; sending it "
                            + "once more", requestId, request.method(), LogText.escapeBytes(request.uri()),
                            cause.getMessage());
                }
                backend = null;
                acquireAgain();
                return;
            }
            releaseBackends();
            releaseBody();
            releaseHeld(); // nothing was written, so the client still gets an error status
            releaseSpool(); // the response is cut short: the client connection is closed
            if (redirected) {
                LOG.debug("[{}] backend failed after X-Sendfile: {}", requestId, cause.toString());
                if (tap != null) {
                    // Ends the cache's flight for this URL, so requests coalesced behind it go on now instead of
                    // after coalesce-timeout; the head was passed, so the tap leaves the answer to the static path.
                    tap.onError(cause);
                }
            } else {
                failed(cause);
            }
        }

        /** Tells the tap, then (unless the tap answered, or nobody is left to answer) fails the exchange. */
        private void failed(Throwable cause) {
            releaseBackends();
            if (clientGone) {
                return; // nobody is left to tell: the client left, and the tap let the request go
            }
            if (detached) {
                if (tap != null) {
                    tap.onError(cause); // the client is gone: only the tap is left to tell
                } else {
                    // nobody else is told: the access log has its 499, not that the request then failed
                    unattendedFailures.warn(Call.class, "[" + requestId + "] " + request.method() + " "
                            + LogText.escapeBytes(request.uri()) + ", its client gone before the answer: "
                            + (backend != null ? "failed at the backend: "
                                    : overloadedRetries > 0 ? "refused by the backend, overloaded, " + overloadedRetries
                                            + (overloadedRetries == 1 ? " time, then: " : " times, then: ")
                                    : "never reached the backend: ") + cause);
                }
            } else if (!(tap != null && tap.onError(cause))) {
                exchange.fail(cause);
            }
        }

        private void clientGone() {
            // The tap still wants the answer (the cache, for requests waiting for this one), or the request runs
            // without its client: it stays queued or at the backend, and only the client's part ends.
            if (tap != null && tap.onClientGone(this::giveUp)) {
                logWaitSoFar();
                detach();
            } else if (runsWithoutClient(request)) {
                LOG.debug("[{}] {} {}: the client left before the answer; the script gets the request all the same",
                        requestId, request.method(), LogText.escapeBytes(request.uri()));
                goAlone();
            } else {
                endWithClient();
            }
        }

        /**
         * For a request that goes on queued without its client: the access log's 499, written as the client leaves,
         * says how long it waited so far, as for one that leaves the queue ({@link #endWithClient}); where it goes on to
         * is not logged there.
         */
        private void logWaitSoFar() {
            if (pending != null) {
                exchange.upstreamQueued(queuedSoFar());
            }
        }

        /** Goes on without the client to the script's first output ({@link #alone}). */
        private void goAlone() {
            alone = true;
            logWaitSoFar();
            detach();
            if (backend != null) {
                backend.onFirstOutput(this::endWithClient);
            }
        }

        /** Goes on without the client: nothing more is written to it, the backend's answer only told to the tap. */
        private void detach() {
            detached = true;
            takenOver = true;
            releaseHeld();
            releaseSpool();
            if (backend != null) {
                backend.resumeResponse(); // a pause waiting for the client to take more would never end now
            }
        }

        /** The tap that kept a request going after its client left no longer wants its answer. */
        private void giveUp() {
            if (!clientGone) {
                endWithClient();
            }
        }

        /** The client left, and nobody else wants the answer: the queue place is given up, the backend let go. */
        private void endWithClient() {
            releaseBackends();
            clientGone = true;
            releaseBody();
            releaseHeld();
            releaseSpool();
            if (pending != null) {
                exchange.upstreamQueued(queuedSoFar()); // for the access log's 499
                pending.cancel(false);
            }
            if (backend != null) {
                // php-fpm runs the script to its end whether or not anyone reads it: a request it has whole keeps
                // its connection, and so its slot, until END_REQUEST; one cut off mid-body is closed.
                backend.abort();
            }
        }

        /** Lets go of the backends held for this call ({@link #heldBackends}); once. */
        private void releaseBackends() {
            Runnable release = heldBackends;
            heldBackends = NOTHING_HELD;
            release.run();
        }

        /**
         * The spool file could not be read back: the backend, which has part of the body, is let go (its connection
         * closed), and the client gets a 500 (or a close, if the response has begun).
         */
        private void bodyUnreadable(IOException cause) {
            releaseBackends();
            LOG.warn("[{}] request body of {} {} could not be read back from its spool file: {}", requestId,
                    request.method(), LogText.escapeBytes(request.uri()), cause.toString());
            backend.abort();
            releaseBody();
            releaseHeld();
            if (!clientGone) {
                exchange.sendError(HttpResponseStatus.INTERNAL_SERVER_ERROR);
            }
        }

        /**
         * Waits for a connection again, from the loop's next turn. A loop that takes no more tasks (the server stopping)
         * ends the call here: its body, kept for the second try, was left held (seen once in CI, a POST's body in memory
         * reported leaked after its test's server stopped).
         */
        private void acquireAgain() {
            try {
                exchange.clientChannel().eventLoop().execute(this::acquire);
            } catch (RejectedExecutionException stopping) {
                releaseBackends();
                releaseBody();
                releaseHeld();
            }
        }

        /** Gives back the call's hold on the request body (dropped with its spool file once none holds it); idempotent. */
        private void releaseBody() {
            bodyRelease.run();
        }
    }

    /**
     * Backend headers kept when the static path sends an X-Sendfile file (lighttpd's, which nginx does not follow):
     * those of an X-Accel-Redirect, and Content-Language and Vary. Content-Type is the file's type unless empty (then
     * the static path's, from the file name), as nginx keeps an upstream's type over X-Accel-Redirect.
     */
    private static final List<String> SENDFILE_KEPT = Stream.concat(BackendFileNames.ACCEL_REDIRECT_KEPT.stream(),
            Stream.of("Content-Language", "Vary")).toList();

    private static String stripLeadingSlashes(String uri) {
        int i = 0;
        while (i < uri.length() && uri.charAt(i) == '/') {
            i++;
        }
        return uri.substring(i);
    }

    /**
     * The backend's {@code Content-Length}, -1 when absent. The CGI parser let through only one non-negative
     * decimal number (anything else was a 502), so a length that is set frames the response.
     */
    private static long declaredLength(HttpResponse head) {
        String value = head.headers().get(HttpHeaderNames.CONTENT_LENGTH);
        return value == null ? -1 : Long.parseLong(value);
    }
}
