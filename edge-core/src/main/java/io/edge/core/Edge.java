package io.edge.core;

import com.github.benmanes.caffeine.cache.Ticker;
import io.edge.aio.PathPolicy;
import io.edge.aio.StaticIoSettings;
import io.edge.aio.file.DirectMemory;
import io.edge.aio.file.FileEngine;
import io.edge.aio.file.FileEngineStats;
import io.edge.aio.file.FileEngines;
import io.edge.aio.path.PathResolver;
import io.edge.cache.ContentCacheSettings;
import io.edge.cache.ResponseCacheSettings;
import io.edge.cache.content.ContentCache;
import io.edge.cache.content.ContentCacheStats;
import io.edge.cache.http.ResponseCache;
import io.edge.cache.http.ResponseCacheStats;
import io.edge.conf.AuthBasic;
import io.edge.conf.ConfigLoader;
import io.edge.conf.EdgeSettings;
import io.edge.conf.ErrorPage;
import io.edge.conf.LocationSettings;
import io.edge.conf.ServerSettings;
import io.edge.conf.SiteSettings;
import io.edge.conf.TemporaryRunDir;
import io.edge.core.auth.UserFile;
import io.edge.core.cache.PurgeResponder;
import io.edge.core.cache.ResponseCacheGate;
import io.edge.core.fastcgi.CachedFileProbe;
import io.edge.core.fastcgi.FastCgiResponder;
import io.edge.core.fastcgi.PolicyFileProbe;
import io.edge.core.fastcgi.WaitStats;
import io.edge.core.http.BackendChoice;
import io.edge.core.http.HttpServerContext;
import io.edge.core.http.LocationChecks;
import io.edge.core.http.Responder;
import io.edge.core.http.RewritePhase;
import io.edge.core.http.EmptyGifResponder;
import io.edge.core.http.ReturnResponder;
import io.edge.core.http.RewriteResponder;
import io.edge.core.proxy.BackendTls;
import io.edge.core.proxy.ProxyResponder;
import io.edge.core.limit.ConnectionLimits;
import io.edge.core.limit.ConnectionZone;
import io.edge.core.limit.RequestLimits;
import io.edge.core.limit.RequestZone;
import io.edge.core.route.Router;
import io.edge.core.statics.MimeTypes;
import io.edge.core.statics.StaticResponder;
import io.edge.core.status.PrometheusText;
import io.edge.core.status.StatusResponder;
import io.edge.core.tls.TlsContexts;
import io.edge.fastcgi.BackendGroupSettings;
import io.edge.fastcgi.cgi.CgiResponseParser;
import io.edge.fastcgi.cgi.ScriptResolver;
import io.edge.fastcgi.pool.AddressCounts;
import io.edge.fastcgi.pool.BackendPool;
import io.edge.fastcgi.pool.PoolStats;
import io.edge.fastcgi.spawn.PhpFpmSupervisor;
import io.netty.channel.Channel;
import io.netty.util.HashedWheelTimer;
import io.netty.util.internal.PlatformDependent;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.RecordComponent;
import java.net.InetSocketAddress;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import org.HdrHistogram.Histogram;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A whole edge instance built from one configuration: the file engine, spawned php-fpm pools, the backend
 * pools, a responder per location, and the HTTP server. Stopped in reverse: the server drains first, so no
 * request loses its backend. {@link Main} runs one; tests start them in-process.
 *
 * <p>{@link #reload} applies a new configuration without a restart, as nginx's SIGHUP does: what its sites,
 * locations, backends, caches and static settings need is built beside what runs (a part whose settings did not
 * change is carried over, a spawned php-fpm and a cache's contents included), then exchanges that start from then
 * on use it, while those running finish on what they started with. The previous parts that nothing uses any more
 * are closed once their last exchange has ended, or after the drain timeout. Listen addresses, limits and timeouts
 * follow the file too (the access log where the launcher passes its switch); the event loops and the run
 * directory stay as started.
 */
public final class Edge {

    private static final Logger LOG = LoggerFactory.getLogger(Edge.class);
    private static final long STATS_PERIOD_S = 10;
    /** Answers every location's {@code return}: it keeps nothing of its own. */
    private static final Responder RETURN = new ReturnResponder();
    private static final Responder EMPTY_GIF = new EmptyGifResponder();
    /** Answers every location's {@code rewrite}. */
    private static final Responder REWRITE = new RewriteResponder();

    /**
     * Set by {@link #stop} first thing, before it waits for the lock: a start after it (a shutdown hook ran first) starts
     * nothing, and a start or reload under way gives up the php-fpm it waits for ({@link #starting}).
     */
    private volatile boolean stopped;
    /** Held by a reload from its file's read to its end: reloads one at a time; never by a stop. */
    private final Object reloading = new Object();
    /**
     * The spawned php-fpm a start or reload (holding the lock) waits for, else null: {@link #stop} stops it without the
     * lock, so that the wait, up to 10 s, ends at once. Set before {@link #stopped} is read, as stop sets that before
     * reading this: one of the two sees the other.
     */
    private volatile PhpFpmSupervisor starting;
    /**
     * Set by {@link #stop} once its drain is over (or was ended by {@link #stopDraining}): a retired generation's
     * php-fpm waits for scripts running on after their answer until then at most.
     */
    private volatile boolean drainOver;
    /** {@link #stopDraining} was called: php-fpm is stopped its fast way (SIGTERM), not waited for. */
    private volatile boolean drainCutShort;
    /** Every php-fpm started and not yet stopped, whichever generations hold it: read without the lock. */
    private final Set<PhpFpmSupervisor> supervisors = ConcurrentHashMap.newKeySet();
    /** The configuration started with: its {@code io-threads} and {@code run-dir} are the ones that run. */
    private final EdgeSettings settings;
    /** The {@code edge.server} settings in force: the start's, then each reload's merged with what stays. */
    private volatile ServerSettings inForce;
    private final Ticker ticker;
    /** What the newest configuration built; read by the status page and the stats log from other threads. */
    private volatile Generation current;
    /** Earlier generations whose exchanges may still run: their parts close once those have ended. */
    private final List<Generation> retiring = new ArrayList<>();
    /** Retired generations whose files stay open for exchanges that outlived the drain timeout ({@link #retire}). */
    private final Set<Generation> filesOutliving = new HashSet<>();
    /**
     * Generations retired and being closed now (off the lock: stopping a php-fpm waits), each until its close ends: a
     * reload meanwhile must not give a new php-fpm a socket an old one still has, and a stop waits for them.
     */
    private final Map<Generation, CompletableFuture<Void>> closing = new LinkedHashMap<>();
    private int generations;
    /** The limit-conn zones configurations name, kept across reloads as nginx keeps its limit_conn_zone. */
    private final ConcurrentMap<String, ConnectionZone> namedConnectionZones = new ConcurrentHashMap<>();
    /** The limit-req zones configurations name, kept across reloads (while their rate stays) as nginx keeps its own. */
    private final ConcurrentMap<String, RequestZone> namedRequestZones = new ConcurrentHashMap<>();
    /** The descriptor limit and those open when the first engine was made; a reload's engine is held under the same. */
    private DescriptorLimit descriptorsAtStart;
    /** Where FastCGI request bodies too large for memory go ({@link #spoolDir()}); decided on the first need. */
    private Path spoolDir;
    /** Queue waits by group name, kept across reloads. */
    private final Map<String, WaitStats> waitStats = new ConcurrentHashMap<>();
    /**
     * The connections to each FastCGI address, counted across every group and generation: two groups at one php-fpm
     * share its workers, so one's idle kept connections are given up for the other's connect.
     */
    private final AddressCounts backendCounts = new AddressCounts();
    private final Map<String, String> lastLoggedStats = new LinkedHashMap<>();
    private ScheduledExecutorService statsLogger;
    /** Where generations are retired, never an event loop (closing pools and stopping php-fpm waits). */
    private ExecutorService retirer;
    /**
     * The temporary run directory made for this server ({@code run-dir = ""} with a spawned backend; at the start or
     * by the first reload that needed one), else null. Reloads keep using it; it is deleted when the server stops.
     */
    private Path temporaryRunDir;
    private volatile EdgeServer server;
    /** Whether {@link #stop} shut {@link #server} down (guarded by this). */
    private boolean serverStopped;
    /** The pid file this server wrote ({@code server.pid-file} of the configuration in force), else null. */
    private Path pidFile;

    public Edge(EdgeSettings settings) {
        this(settings, Ticker.systemTicker());
    }

    /** An instance whose caches age on {@code ticker}: tests expire entries without sleeping. */
    public Edge(EdgeSettings settings, Ticker ticker) {
        this.settings = settings;
        this.inForce = settings.server();
        this.ticker = ticker;
        noteTemporaryRunDir(settings);
    }

    /**
     * What one configuration built. Parts whose settings did not change are the previous generation's objects, so
     * a part is closed only when no generation still alive holds it ({@link #close(Generation, List)}).
     */
    private static final class Generation {
        final EdgeSettings settings;
        final int number;
        FileEngine engine;
        /** The settings {@link #engine} was made with: the configured ones held under the descriptor limit. */
        StaticIoSettings heldIo;
        /** The settings the caches were made with: the configured ones held under the direct memory limit. */
        CacheMemory heldCaches;
        StaticStatsLine staticStatsLine;
        ContentCache contentCache;
        ScheduledExecutorService revalidator;
        ConcurrentLinkedQueue<Runnable> due;
        ResponseCache responseCache;
        HashedWheelTimer cacheTimer;
        /** The static path's resolvers, each holding its root open: let go when the generation is closed. */
        StaticResponder.Resolvers resolvers;
        /** The groups as configured (before a spawned php-fpm's run directory was moved: see {@link #build}). */
        final Map<String, BackendGroupSettings> groups = new LinkedHashMap<>();
        final Map<String, BackendPool> pools = new LinkedHashMap<>();
        /** The HTTP backend groups (proxy.backends) as configured, and their pools, kept over a reload as FastCGI's. */
        final Map<String, BackendGroupSettings> proxyGroups = new LinkedHashMap<>();
        final Map<String, BackendPool> proxyPools = new LinkedHashMap<>();
        final Map<String, PhpFpmSupervisor> supervisors = new LinkedHashMap<>();
        final Map<ScriptRoot, ScriptResolver.FileProbe> scriptProbes = new LinkedHashMap<>();
        /**
         * The FastCGI locations' check-only resolvers of the directories an X-Accel-Redirect or X-Sendfile may take a
         * file from, one per directory, shared: each takes its directory's real path again every second.
         */
        final Map<Path, PathResolver> checkedRoots = new HashMap<>();
        final Map<LocationSettings, Responder> responders = new IdentityHashMap<>();
        /** What a request meets as it enters a location: its limit tables (named zones shared across reloads). */
        final LocationChecks locationChecks;
        /** The auth-basic user files by path, read again when they change ({@link #refreshUserFiles}). */
        final Map<Path, UserFile> userFiles = new HashMap<>();

        /** The check-only resolver of {@code dir} (absolute, normalised), made at its first use here. */
        PathResolver checkedRoot(Path dir) {
            return checkedRoots.computeIfAbsent(dir, FastCgiResponder::checkedRoot);
        }

        /** Every pool of this generation: FastCGI's and the HTTP groups'. */
        List<BackendPool> allPools() {
            List<BackendPool> all = new ArrayList<>(pools.values());
            all.addAll(proxyPools.values());
            return all;
        }

        Generation(EdgeSettings settings, int number, ConcurrentMap<String, RequestZone> namedRequestZones,
                ConcurrentMap<String, ConnectionZone> namedConnectionZones) {
            this.settings = settings;
            this.number = number;
            this.locationChecks = new LocationChecks(new RequestLimits(namedRequestZones),
                    new ConnectionLimits(namedConnectionZones));
        }
    }

    /**
     * Starts backends, pools and listeners; on failure, whatever started is stopped again. A {@link #stop} called
     * meanwhile (a shutdown hook) ends a wait for a spawned php-fpm at once, which fails the start ("stopped while
     * starting"), and waits for the rest of it.
     */
    public synchronized void start() throws Exception {
        if (stopped) {
            throw new IllegalStateException("stopped before it started (a signal during the start)");
        }
        removeStaleTemporaryRunDirs();
        settings.warnings().forEach(warning -> LOG.warn("{}", warning));
        try {
            EdgeServer.probeListen(settings.server()); // an address in use said as such, before a php-fpm is spawned
            current = build(settings, null);
            statsLogger = Executors.newSingleThreadScheduledExecutor(daemon("edge-stats"));
            statsLogger.scheduleAtFixedRate(this::logStats, STATS_PERIOD_S, STATS_PERIOD_S, TimeUnit.SECONDS);
            statsLogger.scheduleWithFixedDelay(this::refreshUserFiles, 1, 1, TimeUnit.SECONDS);
            statsLogger.scheduleWithFixedDelay(this::refreshErrorPages, 1, 1, TimeUnit.SECONDS);
            retirer = Executors.newSingleThreadExecutor(daemon("edge-reload"));
            Map<LocationSettings, Responder> responders = current.responders;
            server = new EdgeServer(settings, responders::get, current.engine);
            server.start();
            if (settings.server().pidFile() != null) {
                writePidFile(settings.server().pidFile()); // once it listens: a start that fails leaves an earlier one
                pidFile = settings.server().pidFile();
            }
        } catch (Exception | Error e) {
            stop();
            throw e;
        }
    }

    /**
     * Removes the temporary run directories of edge processes that were killed ({@code kill -9}: no stop deleted
     * them), as {@link TemporaryRunDir#removeStale} tells them apart; one line names them.
     */
    private static void removeStaleTemporaryRunDirs() {
        List<Path> removed = TemporaryRunDir.removeStale(TemporaryRunDir.parent());
        if (!removed.isEmpty()) {
            LOG.info("removed {} temporary run director{} of edge processes that are gone: {}", removed.size(),
                    removed.size() == 1 ? "y" : "ies", removed);
        }
    }

    /**
     * Daemon threads named {@code name}: none of edge's helper threads may keep the JVM from exiting. With edge's class
     * loader as their context's: one made from a signal's handler thread inherited none, and the reload it ran refused
     * every configuration with an {@code include classpath(...)} ("null class loader", the lifecycle audit).
     */
    static ThreadFactory daemon(String name) {
        return r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            t.setContextClassLoader(Edge.class.getClassLoader());
            return t;
        };
    }

    /**
     * Loads {@code file} again and applies it to exchanges that start from now on (see the class comment). Parts
     * whose settings are unchanged are carried over; the rest is built first, new listen addresses are bound, and if
     * any of it fails (a php-fpm that does not start, an address in use) nothing changes and the failure is thrown.
     * Listeners of addresses no longer listed close; limits, timeouts and {@code max-connections} apply to what is
     * read and accepted from then on. {@code io-threads}, {@code run-dir} and, here, the access log stay as started
     * (a warning names those that changed).
     *
     * @throws ConfigException       the file has problems (every one listed); nothing changed
     * @throws IllegalStateException the server is not running
     */
    public void reload(Path file) throws Exception {
        reload(file, null);
    }

    /** Points the access log where a configuration says (the launcher's logging: {@link Logging#configureAccessLog}). */
    public interface AccessLogSwitch {
        /** @throws IOException the file cannot be opened; nothing was changed */
        void apply(boolean enabled, Path file) throws IOException;
    }

    /**
     * As {@link #reload(Path)}; a changed {@code access-log} is applied through {@code accessLogs} too (null: it needs
     * a restart, as in a server whose logging is not edge's own). If that fails, nothing changes.
     */
    public void reload(Path file, AccessLogSwitch accessLogs) throws Exception {
        // Reloads one at a time: one reads its file and applies it before the next reads (two read side by side
        // could apply the older file last); a stop does not wait for this lock
        synchronized (reloading) {
            Path runDir;
            synchronized (this) {
                runDir = runningRunDir();
            }
            // Read outside the server's lock: an include that takes its time (a URL that answers slowly, until its
            // timeout) must not hold up a stop, which takes that lock, nor have the stop wait for it and then apply it
            EdgeSettings next = ConfigLoader.forReload(runDir).load(file);
            synchronized (this) {
                if (!running()) {
                    forgetTemporaryRunDir(next, runDir);
                }
                runningRunDir();
                apply(next, accessLogs);
            }
        }
    }

    /**
     * Deletes the temporary run directory a reload's file made ({@code run-dir = ""} where the server had none), which
     * a stop meanwhile will never apply and so never delete.
     */
    private static void forgetTemporaryRunDir(EdgeSettings unused, Path runDir) {
        if (runDir == null && unused.server().runDirTemporary()) {
            try {
                TemporaryRunDir.deleteTree(unused.server().runDir());
            } catch (IOException | UncheckedIOException e) {
                LOG.warn("could not delete the temporary run directory {}: {}", unused.server().runDir(), e.getMessage());
            }
        }
    }

    /** The temporary run directory of the start; throws if edge is not running (any more). */
    private Path runningRunDir() {
        if (!running()) {
            throw new IllegalStateException("not running");
        }
        return temporaryRunDir;
    }

    /** Whether {@link #stop} was called: a reload failing from here on was abandoned for the stop, not refused. */
    public boolean isStopping() {
        return stopped;
    }

    /** Started, and not stopped since. */
    private boolean running() {
        return !stopped && server != null;
    }

    private void apply(EdgeSettings next, AccessLogSwitch accessLogs) throws Exception {
        next.warnings().forEach(warning -> LOG.warn("reload: {}", warning));
        noteTemporaryRunDir(next);
        // inForce keeps the start's io-threads and run-dir, and its access log unless a switch applied another
        List<String> changed = changedServerKeys(inForce, next.server());
        boolean switchAccessLog = accessLogs != null && changed.contains("access-log");
        List<String> kept = changed.stream()
                .filter(key -> RESTART_ONLY.contains(key) || accessLogs == null && key.equals("access-log")).toList();
        if (!kept.isEmpty()) {
            LOG.warn("reload: edge.server {} changed; those apply only on a restart, the running values stay{}",
                    String.join(", ", kept), kept.contains("run-dir")
                            ? " (a php-fpm this reload starts goes to the new run-dir, large request bodies do not)" : "");
        }
        ServerSettings logs = switchAccessLog ? next.server() : inForce;
        ServerSettings running = next.server().reloadedOver(inForce, logs);
        // the certificates read again with the configuration, made contexts before anything changes: refused, the
        // reload is
        TlsContexts tls = TlsContexts.of(next);
        Map<InetSocketAddress, Channel> listeners = server.bindNew(running); // before a php-fpm is started for nothing
        Generation previous = current;
        Generation fresh;
        try {
            fresh = build(next, previous);
        } catch (Exception | Error e) {
            server.closeUnused(listeners);
            throw e;
        }
        if (switchAccessLog) {
            try {
                accessLogs.apply(running.accessLogEnabled(), running.accessLog());
            } catch (Exception | Error e) {
                server.closeUnused(listeners);
                close(fresh, List.of(previous));
                throw e;
            }
        }
        inForce = running;
        current = fresh;
        retiring.add(previous);
        // a group's new pool takes the queue of the one it replaces where it has its addresses (or where both are a
        // php-fpm edge spawned): one queue, oldest first
        takeOver(fresh.pools, previous.pools);
        takeOver(fresh.proxyPools, previous.proxyPools);
        Map<LocationSettings, Responder> responders = fresh.responders;
        CompletableFuture<Void> idle = server.replaceRoutes(next, tls, responders::get, fresh.engine);
        server.applyServer(running, listeners);
        Duration drain = running.timeouts().drain();
        LOG.info("reload: configuration {} applied to new requests (generation {}); requests running finish on the "
                + "previous one (for at most {})", next.source(), fresh.number, readable(drain));
        if (!Objects.equals(pidFile, running.pidFile())) {
            movePidFile(running.pidFile());
        }
        long drainDeadline = System.nanoTime() + drain.toNanos();
        // a copy times out: idle itself still tells when the last exchange ended (see retire)
        idle.copy().orTimeout(drain.toMillis(), TimeUnit.MILLISECONDS).whenCompleteAsync((done, timedOut) ->
                retire(previous, timedOut != null, drainDeadline, idle), retirer);
    }

    /**
     * Writes this server's pid file at {@code next} (none: null) and removes the one it wrote before, as nginx does when
     * a reload names another file. One that cannot be written leaves the old one in place, with an error logged.
     */
    private void movePidFile(Path next) {
        if (next != null) {
            try {
                writePidFile(next);
            } catch (IOException | RuntimeException e) {
                LOG.error("reload: the pid file {} could not be written ({}); {}", next, Main.describe(e),
                        pidFile == null ? "there is none" : pidFile + " stays");
                return;
            }
        }
        removePidFile();
        pidFile = next;
    }

    /**
     * Writes this server's id to {@code file}, saying so when that takes it over from another edge that runs: one still
     * draining after a stop, whose signals edge -s sends this one from now on, or another server configured with the
     * same file, which edge -s then no longer reaches.
     */
    private static void writePidFile(Path file) throws IOException {
        OptionalLong other = PidFile.otherEdge(file);
        PidFile.write(file);
        if (other.isPresent()) {
            LOG.warn("the pid file {} named edge process {}, which still runs (draining after a stop, or another server "
                    + "given the same file): it names this one now, and edge -s signals this one", file,
                    other.getAsLong());
        }
    }

    private void removePidFile() {
        if (pidFile != null) {
            try {
                PidFile.removeIfOwn(pidFile);
            } catch (IOException | RuntimeException e) {
                LOG.warn("could not remove the pid file {}: {}", pidFile, Main.describe(e));
            }
        }
    }

    /**
     * Closes what only {@code old} held, once its exchanges have ended (or the drain timeout passed). Outside the lock:
     * stopping a php-fpm waits for it, and a stop or reload meanwhile must not. While it runs, {@code old} is listed in
     * {@link #closing}: a reload builds from the current generation only and keeps new php-fpm sockets clear of every
     * listed one; a stop closes the generations still retiring and waits for those closing.
     */
    private void retire(Generation old, boolean timedOut, long drainDeadline, CompletableFuture<Void> idle) {
        List<Generation> live;
        CompletableFuture<Void> closed = new CompletableFuture<>();
        synchronized (this) {
            if (!retiring.remove(old)) {
                return; // stopped meanwhile: stop() closed it
            }
            closing.put(old, closed);
            live = new ArrayList<>(retiring);
            live.add(current);
        }
        try {
            // Its files stay open for the downloads still running (as nginx's old workers finish theirs): its file
            // engine and roots are closed once its last exchange ended, or at a stop. They were closed with the rest,
            // and every download past the drain timeout was cut ("file engine closed").
            boolean filesOutlive = timedOut && live.stream().noneMatch(o -> o.engine == old.engine);
            if (timedOut) {
                LOG.warn("reload: exchanges of generation {} still running after the drain timeout; closing its parts{}",
                        old.number, filesOutlive ? " but its files, open until those exchanges end" : "");
            }
            if (filesOutlive) {
                synchronized (this) {
                    filesOutliving.add(old);
                }
                close(old, live, drainDeadline, () -> drainOver, false);
                idle.whenCompleteAsync((done, failed) -> closeFilesOf(old)); // off the loop that saw the last one end
            } else {
                close(old, live, drainDeadline, () -> drainOver, true); // a stop's drain waits for its scripts too
            }
            LOG.info("reload: generation {} retired", old.number);
        } finally {
            closed.complete(null); // before the lock: a stop holding it waits for this
            synchronized (this) {
                closing.remove(old);
                forgetUnusedZones();
            }
        }
    }

    /**
     * Drops the named limit zones no configuration still serving names (a zone a reload removed, or the old rate of one
     * it changed), which would otherwise stay for good with their clients. An exchange of a retired generation still
     * running holds its zone itself. Under the lock, so no reload is building meanwhile.
     */
    private void forgetUnusedZones() {
        Set<String> requestZones = new HashSet<>();
        Set<String> connectionZones = new HashSet<>();
        List<Generation> live = new ArrayList<>(retiring);
        if (current != null) {
            live.add(current); // none once stopped
        }
        for (Generation g : live) {
            for (SiteSettings site : g.settings.sites()) {
                for (LocationSettings location : site.everyLocation()) {
                    location.limitReqs().forEach(limit -> requestZones.add(RequestLimits.namedKey(limit)));
                    location.limitConns().forEach(limit -> connectionZones.add(limit.zone()));
                }
            }
        }
        namedRequestZones.keySet().retainAll(requestZones);
        namedConnectionZones.keySet().retainAll(connectionZones);
    }

    /** The {@code edge.server} keys a reload does not apply: the event loops, the spool and php-fpm's run directory. */
    private static final Set<String> RESTART_ONLY = Set.of("io-threads", "run-dir");

    /**
     * The {@code edge.server} settings that differ, by configuration key. A temporary run directory ({@code run-dir
     * = ""}) is a new name on every load: only a change from or to a configured one counts.
     */
    static List<String> changedServerKeys(ServerSettings running, ServerSettings next) {
        Set<String> changed = new LinkedHashSet<>();
        for (RecordComponent component : ServerSettings.class.getRecordComponents()) {
            String name = component.getName();
            Object before;
            Object after;
            try {
                before = component.getAccessor().invoke(running);
                after = component.getAccessor().invoke(next);
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException(e);
            }
            boolean runDir = name.startsWith("runDir");
            if (runDir && isTemporary(running) && isTemporary(next)) {
                continue;
            }
            if (!Objects.equals(before, after)) {
                changed.add(name.equals("accessLogEnabled") ? "access-log" : runDir ? "run-dir" : kebab(name));
            }
        }
        return List.copyOf(changed);
    }

    private static boolean isTemporary(ServerSettings server) {
        return server.runDirTemporary() || ConfigLoader.isTemporaryRunDirPlaceholder(server.runDir());
    }

    private static String kebab(String camel) {
        return camel.replaceAll("([a-z])([A-Z])", "$1-$2").toLowerCase(Locale.ROOT);
    }

    private void noteTemporaryRunDir(EdgeSettings loaded) {
        if (temporaryRunDir == null && loaded.server().runDirTemporary()) {
            temporaryRunDir = loaded.server().runDir();
        }
    }

    /**
     * The static path's settings of {@code settings} with its descriptors held under the descriptor limit beside
     * max-connections sockets and the FastCGI groups' connections ({@link DescriptorLimit#forFiles}), counted from the
     * descriptors open at the start.
     */
    private StaticIoSettings withinDescriptorLimit(EdgeSettings settings) {
        DescriptorLimit descriptors = descriptorLimit(settings.staticIo());
        return descriptors.forFiles(settings.staticIo(), settings.server().maxConnections(),
                backendConnections(settings));
    }

    /** The descriptor limit now, with the descriptors open at the start (taken at the first call). */
    private DescriptorLimit descriptorLimit(StaticIoSettings io) {
        DescriptorLimit now = DescriptorLimit.ofThisProcess(io.engine());
        if (descriptorsAtStart == null) {
            descriptorsAtStart = now;
        }
        // not those open now: on a reload they count the clients' sockets, which max-connections counts already
        return new DescriptorLimit(now.limit(), descriptorsAtStart.openAtStart(), now.descriptorsPerFile());
    }

    /** Says, once per engine made, where the descriptor limit held {@code io} to {@code held}. */
    private void sayHeld(StaticIoSettings io, StaticIoSettings held) {
        if (held.fdBudget() != io.fdBudget()) {
            DescriptorLimit descriptors = descriptorLimit(io);
            LOG.info("edge.static.fd-budget {} held to {} and open-file-cache.size {} to {}: the descriptor limit "
                    + "(ulimit -n) is {} with {} open, and the rest goes to max-connections sockets and FastCGI "
                    + "connections first; raise the limit (LimitNOFILE= in a systemd unit) to keep them", io.fdBudget(), held.fdBudget(),
                    io.openFileCacheSize(), held.openFileCacheSize(), descriptors.limit(), descriptors.openAtStart());
        }
    }

    /**
     * Builds what {@code next} needs, taking over from {@code previous} (null at the start) every part whose settings
     * are equal. On failure, what was made here is closed again and the failure thrown.
     */
    private Generation build(EdgeSettings next, Generation previous) throws Exception {
        Generation g = new Generation(next, ++generations, namedRequestZones, namedConnectionZones);
        List<Generation> keep = previous == null ? List.of() : List.of(previous);
        try {
            // held the same way, or a new engine: the share left to files may change with max-connections or the
            // FastCGI groups' connections too
            g.heldIo = withinDescriptorLimit(next);
            if (previous != null && previous.heldIo.equals(g.heldIo)) {
                g.engine = previous.engine;
                g.staticStatsLine = previous.staticStatsLine;
            } else {
                sayHeld(next.staticIo(), g.heldIo);
                // auto logs why it chose io_uring or threads; one of the same kind counts on from the previous one's
                // counters (Prometheus takes a counter that goes back for a restart), as a FastCGI group's pool does
                g.engine = FileEngines.create(g.heldIo, previous == null ? null : previous.engine);
                boolean sameSeries = previous != null
                        && previous.engine.stats().engine().equals(g.engine.stats().engine());
                g.staticStatsLine = sameSeries ? previous.staticStatsLine : new StaticStatsLine();
            }
            long directLimit = PlatformDependent.maxDirectMemory();
            g.heldCaches = CacheMemory.held(next, directLimit);
            if (previous == null || !g.heldCaches.equals(previous.heldCaches)) {
                String held = g.heldCaches.heldMessage(next, directLimit);
                if (held != null) {
                    LOG.info("{}", held);
                }
            }
            StaticResponder staticResponder = staticResponder(g, previous);
            for (BackendGroupSettings group : next.backends().values()) {
                g.groups.put(group.name(), group);
                BackendGroupSettings before = previous == null ? null : previous.groups.get(group.name());
                if (group.equals(before)) {
                    g.pools.put(group.name(), previous.pools.get(group.name()));
                    PhpFpmSupervisor supervisor = previous.supervisors.get(group.name());
                    if (supervisor != null) {
                        g.supervisors.put(group.name(), supervisor);
                    }
                } else {
                    g.pools.put(group.name(), BackendPool.create(spawned(g, group, before, previous),
                            previous == null ? null : previous.pools.get(group.name()), backendCounts));
                }
                waitStats.computeIfAbsent(group.name(), name -> new WaitStats());
            }
            for (BackendGroupSettings group : next.proxyBackends().values()) {
                g.proxyGroups.put(group.name(), group);
                boolean same = previous != null && group.equals(previous.proxyGroups.get(group.name()));
                g.proxyPools.put(group.name(), same ? previous.proxyPools.get(group.name())
                        : BackendPool.create(group, previous == null ? null : previous.proxyPools.get(group.name()),
                        backendCounts, BackendTls.of(group), BackendPool.Kind.PROXY));
            }
            ResponseCacheSettings responses = g.heldCaches.responses(); // null: no location caches
            if (responses != null && previous != null && previous.responseCache != null
                    && responses.equals(previous.heldCaches.responses())) {
                g.responseCache = previous.responseCache;
                g.cacheTimer = previous.cacheTimer;
            } else if (responses != null) {
                g.cacheTimer = new HashedWheelTimer(daemon("edge-cache-timer"), 10, TimeUnit.MILLISECONDS);
                // counting on from the previous one's counters, as the content cache does
                g.responseCache = new ResponseCache(responses, g.cacheTimer, ticker,
                        previous == null ? null : previous.responseCache);
            }
            makeBodySpoolDir(next.server().clientBodyTempPath());
            boolean listenApart = Router.listenApart(next.sites());
            // the cache numbers each scope as it first gives it: each site's, then its chosen groups', in the sites'
            // order; then each site's scopes, derived from them once
            Map<SiteSettings, String> cacheScopes = new HashMap<>();
            for (SiteSettings site : next.sites()) {
                String cacheScope = g.responseCache == null || !listenApart ? "" : cacheScope(g.responseCache, site);
                cacheScopes.put(site, cacheScope);
                giveChosenGroupScopes(g, site);
            }
            List<String> chosenGroups = g.responseCache == null ? List.of()
                    : g.responseCache.scopes(ChosenGroup.class::isInstance);
            Map<String, List<String>> scopesUnder = new HashMap<>(); // one list for the sites of one scope
            for (SiteSettings site : next.sites()) {
                String cacheScope = cacheScopes.get(site);
                List<String> siteScopes = scopesUnder.computeIfAbsent(cacheScope, s -> siteScopes(s, chosenGroups));
                for (LocationSettings location : site.everyLocation()) {
                    g.responders.put(location, responder(g, site, cacheScope, siteScopes, location, staticResponder));
                }
            }
            return g;
        } catch (Exception | Error e) {
            close(g, keep);
            throw e;
        }
    }

    /** Whether a php-fpm of a generation in {@code live} listens on {@code socket}. */
    private static boolean socketInUse(List<Generation> live, Path socket) {
        Path normalised = socket.toAbsolutePath().normalize();
        return live.stream().anyMatch(o -> o.supervisors.values().stream()
                .anyMatch(s -> s.socketPath().equals(normalised)));
    }

    /**
     * {@code group} as its pool connects to it: with a spawned php-fpm, started here unless {@code previous} runs one
     * with the same spawn settings. A changed spawn runs beside the previous one until that retires, so where a php-fpm
     * of a generation still alive has the configured run directory, it gets one of its own ({@code <group>.N}, next
     * to it, N the smallest free from 2).
     */
    private BackendGroupSettings spawned(Generation g, BackendGroupSettings group, BackendGroupSettings before,
            Generation previous) throws Exception {
        BackendGroupSettings.Spawn spawn = group.spawn();
        if (spawn == null) {
            return group;
        }
        PhpFpmSupervisor supervisor = before != null && spawn.equals(before.spawn())
                ? previous.supervisors.get(group.name()) : null;
        if (supervisor == null) {
            List<Generation> live = new ArrayList<>(retiring);
            live.addAll(closing.keySet());
            if (previous != null) {
                live.add(previous);
            }
            // A php-fpm of a generation still draining keeps its socket: this one goes beside it, in <run-dir>.N with
            // the smallest N free (not the generation's number, which grows with every reload: the socket path must
            // stay within what the configuration check allowed for: Spawn.RELOAD_SUFFIX_BYTES).
            Path configured = spawn.runDir();
            for (int n = 2; socketInUse(live, spawn.socketPath()); n++) {
                spawn = group.spawn().inRunDir(configured.resolveSibling(configured.getFileName() + "." + n));
            }
            supervisor = new PhpFpmSupervisor(group.name(), spawn, false); // see stop()
            supervisors.add(supervisor); // then the flag, the reverse of stopDraining: one of the two hurries it
            if (drainCutShort) {
                supervisor.hurry();
            }
            g.supervisors.put(group.name(), supervisor);
            starting = supervisor;
            try {
                if (stopped) {
                    throw new IllegalStateException("stopped before php-fpm for group " + group.name() + " started");
                }
                supervisor.start();
            } finally {
                starting = null;
            }
            if (stopped) {
                // a stop that read `starting` just before it was cleared stops this php-fpm: a reload must not go on
                // to install a generation whose php-fpm is gone (its requests would get 502s during the drain)
                throw new IllegalStateException("stopped while php-fpm for group " + group.name() + " started");
            }
            LOG.info("fastcgi group {}: started php-fpm with {} workers on {}", group.name(), spawn.workers(),
                    supervisor.socketAddress());
        } else {
            g.supervisors.put(group.name(), supervisor);
        }
        return new BackendGroupSettings(group.name(), List.of(supervisor.socketAddress()), group.balance(),
                group.maxConnections(), group.queue(), group.timeouts(), group.keepAlive(), group.health(), spawn,
                group.responseBuffer(), group.awaitWorker());
    }

    /** Has each pool of {@code fresh} a reload made anew take over the queue of the one of its name in {@code previous}. */
    private static void takeOver(Map<String, BackendPool> fresh, Map<String, BackendPool> previous) {
        fresh.forEach((group, pool) -> {
            if (previous.get(group) != pool) {
                pool.takeOver();
            }
        });
    }

    /**
     * Closes the parts of {@code g} that none of {@code live} holds, in the order {@link #stop} needs: pools before
     * the php-fpm they connect to, caches, then the file engine.
     */
    private void close(Generation g, List<Generation> live) {
        close(g, live, System.nanoTime(), () -> true, true);
    }

    /**
     * Closes the file engine and roots of {@code old}, a retired generation whose exchanges outlived the drain timeout
     * (see {@link #retire}), once they ended or at a stop; once.
     */
    private void closeFilesOf(Generation old) {
        synchronized (this) {
            if (!filesOutliving.remove(old)) {
                return;
            }
        }
        closeFiles(old);
        LOG.info("reload: generation {}'s last exchange ended; its files closed", old.number);
    }

    private static void closeFiles(Generation g) {
        if (g.resolvers != null) {
            closeQuietly("the static path's roots", g.resolvers::close); // never shared: each generation has its own
        }
        closeQuietly("the file engine", g.engine::close);
    }

    /**
     * As {@link #close(Generation, List)}; a php-fpm it stops waits until the pools that connect to it have no
     * connection left, until {@code deadlineNanos} or until {@code giveUp} says so: a script still running after
     * {@code fastcgi_finish_request()} (its slot held until its worker is free) is not cut off by the stop.
     */
    private void close(Generation g, List<Generation> live, long deadlineNanos, BooleanSupplier giveUp,
            boolean files) {
        List<BackendPool> closed = new ArrayList<>();
        for (BackendPool pool : g.allPools()) {
            if (live.stream().noneMatch(o -> o.allPools().contains(pool))) {
                closeQuietly("a backend pool", pool::close);
                closed.add(pool);
            }
        }
        boolean stopsPhpFpm = g.supervisors.values().stream()
                .anyMatch(supervisor -> live.stream().noneMatch(o -> o.supervisors.containsValue(supervisor)));
        if (stopsPhpFpm) {
            awaitWorkers(closed, deadlineNanos, giveUp);
        }
        if (g.responseCache != null && live.stream().noneMatch(o -> o.responseCache == g.responseCache)) {
            closeQuietly("the response cache", g.responseCache::close);
        }
        if (g.cacheTimer != null && live.stream().noneMatch(o -> o.cacheTimer == g.cacheTimer)) {
            closeQuietly("the response cache's timer", g.cacheTimer::stop);
        }
        if (g.contentCache != null && live.stream().noneMatch(o -> o.contentCache == g.contentCache)) {
            closeQuietly("the content cache's revalidation", g.revalidator::shutdownNow);
            closeQuietly("the content cache", g.contentCache::close);
        }
        g.supervisors.forEach((group, supervisor) -> {
            if (live.stream().noneMatch(o -> o.supervisors.containsValue(supervisor))) {
                closeQuietly("php-fpm", supervisor::stop);
                supervisors.remove(supervisor);
                Path runDir = supervisor.socketPath().getParent();
                if (!runDir.equals(g.groups.get(group).spawn().runDir().toAbsolutePath().normalize())) {
                    closeQuietly("php-fpm's run directory " + runDir, () -> TemporaryRunDir.deleteTree(runDir)); // <group>.<n>: ours
                }
            }
        });
        if (!files) {
            return; // closeFilesOf, later
        }
        if (g.resolvers != null) {
            closeQuietly("the static path's roots", g.resolvers::close); // never shared: each generation has its own
        }
        if (g.engine != null && live.stream().noneMatch(o -> o.engine == g.engine)) {
            closeQuietly("the file engine", g.engine::close);
        }
    }

    /**
     * Waits until the closed {@code pools} have no connection left (a script running on after
     * {@code fastcgi_finish_request()} holds its worker and its connection), until {@code deadlineNanos} or until
     * {@code giveUp} says so: what comes before stopping the php-fpm they connect to.
     */
    private static void awaitWorkers(Collection<BackendPool> pools, long deadlineNanos, BooleanSupplier giveUp) {
        for (BackendPool pool : pools) {
            awaitWorkers(pool, "php-fpm is stopped once they end", deadlineNanos, giveUp);
        }
    }

    /** As {@link #awaitWorkers(Collection, long, BooleanSupplier)} for one pool, {@code after} saying what follows. */
    private static void awaitWorkers(BackendPool pool, String after, long deadlineNanos, BooleanSupplier giveUp) {
        int open = pool.openConnections();
        if (open > 0 && deadlineNanos - System.nanoTime() > 0 && !giveUp.getAsBoolean()) {
            LOG.info("fastcgi group {}: {} connection(s) still hold workers (scripts running on after their answer, "
                    + "or requests whose client left); {}", pool.name(), open, after);
            closeQuietly("a backend pool's connections", () -> pool.awaitDrained(deadlineNanos, giveUp));
        }
    }

    /**
     * At a stop, once the clients are gone and before the event loops stop (they run the connections a script's end is
     * seen on, and the listeners of requests still queued): closes the pools of every generation, and waits for their
     * connections still at work as a reload's retirement waits for a spawned php-fpm's ({@link #awaitWorkers}): scripts
     * running on after their answer, and requests whose client left. Called by {@link #stop} with the lock held.
     */
    private void closePoolsAwaitingWorkers(long deadlineNanos, BooleanSupplier giveUp) {
        // those retiring, and those whose retirement is waiting for their scripts already (it waits on until this
        // wait is over: drainOver)
        List<Generation> all = new ArrayList<>(retiring);
        all.addAll(closing.keySet());
        if (current != null) {
            all.add(current);
        }
        Set<BackendPool> pools = Collections.newSetFromMap(new IdentityHashMap<>());
        Set<BackendPool> spawned = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Generation g : all) {
            g.pools.forEach((group, pool) -> {
                pools.add(pool);
                if (g.supervisors.containsKey(group)) {
                    spawned.add(pool);
                }
            });
            pools.addAll(g.proxyPools.values());
        }
        // Every pool, not only a spawned php-fpm's: a request still queued (a POST whose client left, waiting to be
        // sent again after an FCGI_OVERLOADED) is failed while its event loop still runs its listener. Closed after the
        // loops stopped, the failure never reached it and its request body was never released (a CI leak report).
        pools.forEach(pool -> closeQuietly("a backend pool", pool::close));
        // Every pool's requests are waited for (within the drain), not only a spawned php-fpm's: a POST whose client
        // left, still at its backend, ends with its answer and lets its body go. Cut off by the loops' stop, its
        // connection's close might never reach it (its body then never released).
        for (BackendPool pool : pools) {
            awaitWorkers(pool, spawned.contains(pool) ? "php-fpm is stopped once they end"
                    : "edge stops once they end", deadlineNanos, giveUp);
        }
        if (System.nanoTime() - deadlineNanos >= 0) {
            // The drain is over, its clients cut off: scripts still running end now (php-fpm's fast stop), not after
            // php-fpm's graceful one waits up to its process_control_timeout (10 s) past the drain (the lifecycle
            // audit: a 2 s drain took 12 s, past a systemd unit's TimeoutStopSec)
            supervisors.forEach(PhpFpmSupervisor::hurry);
        }
    }

    /** Something to close that may fail. */
    private interface Closing {
        void run() throws Exception;
    }

    /** Runs {@code closing}; a failure is logged, and what else is to close still closes. */
    private static void closeQuietly(String what, Closing closing) {
        try {
            closing.run();
        } catch (Exception | Error e) {
            LOG.warn("closing {}: {}", what, e.toString());
        }
    }

    /** A FastCGI root and the policy of the site it belongs to: what a script probe's answers depend on. */
    private record ScriptRoot(Path root, PathPolicy policy) {
    }

    /**
     * One per FastCGI root and path policy, shared by the locations that have both: paths are looked at through
     * the static path's dotfile and link rules ({@link PolicyFileProbe}), at most once per
     * {@code open-file-cache.revalidate}; with the open-file cache off ({@code size = 0}) on every request, as
     * nginx without {@code open_file_cache}.
     */
    private ScriptResolver.FileProbe scriptProbe(Generation g, SiteSettings site, LocationSettings location) {
        Path root = location.root() != null ? location.root() : site.root();
        return g.scriptProbes.computeIfAbsent(new ScriptRoot(root, site.pathPolicy()), key -> {
            StaticIoSettings io = g.settings.staticIo();
            // The resolver's memory of directories ages on the same clock as the probe's answers.
            PolicyFileProbe probe = new PolicyFileProbe(key.root(), key.policy(), ticker::read,
                    StaticResponder.DIRECTORY_TTL);
            return new CachedFileProbe(probe,
                    io.openFileCacheSize() == 0 ? Duration.ZERO : io.revalidateAfter(), ticker);
        });
    }

    /**
     * Where answers (and request bodies, without a client-body-temp-path) too large for memory are spooled: the run
     * directory where there is one (configured, or made for a spawned php-fpm), else {@code java.io.tmpdir}.
     */
    private Path spoolDir() {
        if (spoolDir == null) {
            spoolDir = spoolDir(settings.server().runDir());
        }
        return spoolDir;
    }

    /** Where {@code g}'s request bodies too large for memory go: its client-body-temp-path, else {@link #spoolDir}. */
    private Path bodySpoolDir(Generation g) {
        Path configured = g.settings.server().clientBodyTempPath();
        return configured != null ? configured : spoolDir();
    }

    /**
     * Makes a client-body-temp-path that is not there yet (0700, its last name only: the configuration's check found
     * that it can be made), as nginx makes its temp paths at start and reload. One that cannot be made now is said; the
     * bodies that need it fail then as where it went away (500, a warning naming it).
     */
    private static void makeBodySpoolDir(Path dir) {
        if (dir == null || Files.isDirectory(dir)) {
            return;
        }
        try {
            Files.createDirectory(dir,
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        } catch (FileAlreadyExistsException madeMeanwhile) {
            // by another start, or a link: judged as any directory when a body needs it
        } catch (IOException | RuntimeException e) {
            LOG.warn("client-body-temp-path {} could not be made ({}): request bodies too large for memory fail (500) "
                    + "until it is there", dir, Main.describe(e));
        }
    }

    /**
     * The spool directory for {@code run}: a configured run directory (made if nothing made it yet), else {@link
     * FastCgiResponder#DEFAULT_SPOOL_DIR}. The placeholder name of a temporary run directory that was never made is
     * no run directory, even if something is there: anyone can make {@code /tmp/edge-000…} to catch the bodies.
     */
    static Path spoolDir(Path run) {
        Path fallback = FastCgiResponder.DEFAULT_SPOOL_DIR;
        if (run == null || ConfigLoader.isTemporaryRunDirPlaceholder(run)) {
            return fallback;
        }
        if (Files.isDirectory(run)) {
            return run;
        }
        try { // a configured run-dir that nothing has made yet (no spawned backend)
            return Files.createDirectories(run,
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        } catch (IOException | RuntimeException e) {
            LOG.warn("run-dir {} could not be made ({}); large request bodies are spooled to {} instead", run,
                    Main.describe(e), fallback);
            return fallback;
        }
    }

    /**
     * The scope of {@code site}'s answers in {@code responseCache}, where sites listen on addresses of their own: one
     * host may then name this site on one address and another site on another, and each must find its own answers
     * only, share backend requests and purge among its own. The same site on two addresses gives the same answers, so
     * it is one scope on both. A site is known by what chooses it (its addresses, names and being the default): a
     * reload that leaves those as they were, reordering or changing sites around it, leaves its entries its own.
     */
    private static String cacheScope(ResponseCache responseCache, SiteSettings site) {
        return responseCache.scope(List.of(Set.copyOf(site.listen()), site.serverNames(), site.isDefault()));
    }

    /**
     * Has the response cache give a scope ({@link #groupScope}) to each group a cached location of {@code site}
     * chooses among by a variable ({@code proxy = "$pool"}): there the chosen group is part of the key, as nginx's
     * default proxy_cache_key holds $proxy_host, so that two groups' answers to one URL are two entries, coalesced
     * apart.
     */
    private static void giveChosenGroupScopes(Generation g, SiteSettings site) {
        if (g.responseCache == null) {
            return;
        }
        for (LocationSettings location : site.everyLocation()) {
            if (location.cache() && location.backendChoice() != null) {
                boolean fastCgi = location.handler() == LocationSettings.Handler.FASTCGI;
                for (String name : (fastCgi ? g.groups : g.proxyGroups).keySet()) {
                    g.responseCache.scope(new ChosenGroup(fastCgi, name));
                }
            }
        }
    }

    /**
     * The scopes of the entries of the sites of {@code cacheScope} in the response cache: their own, then, under it,
     * each of {@code chosenGroups}, the scopes the cache gave to groups a variable chose ({@link
     * #giveChosenGroupScopes}). A PURGE and an unsafe method's invalidation reach the URL in each of them: those of this
     * configuration's groups, and those an earlier configuration's variable chose: a reload that takes a group (or the
     * location) away leaves its entries in the cache, and one that brings it back finds them. The same for every site
     * but for {@code cacheScope}: a group's scope is not a site's.
     */
    private static List<String> siteScopes(String cacheScope, List<String> chosenGroups) {
        List<String> scopes = new ArrayList<>(List.of(cacheScope));
        for (String group : chosenGroups) {
            scopes.add(cacheScope + group);
        }
        return List.copyOf(scopes);
    }

    /** The scope of the answers of the group {@code name} chosen by a variable, in the site's ({@link #siteScopes}). */
    private static String groupScope(Generation g, String cacheScope, boolean fastCgi, String name) {
        // ends in the separator no host holds, as the site's: read as neither a host nor another scope
        return cacheScope + g.responseCache.scope(new ChosenGroup(fastCgi, name));
    }

    /** A group a variable chose, as {@link ResponseCache#scope} tells it apart: the same on every reload. */
    private record ChosenGroup(boolean fastCgi, String name) {
    }

    /**
     * {@code cacheScope}: the site's in the response cache ({@link #cacheScope}), empty where each host names one;
     * {@code siteScopes}: every scope of its entries ({@link #siteScopes}).
     */
    private Responder responder(Generation g, SiteSettings site, String cacheScope, List<String> siteScopes,
            LocationSettings location, StaticResponder staticResponder) {
        Responder responder = ownResponder(g, site, cacheScope, siteScopes, location, staticResponder);
        if (!(responder instanceof PurgeResponder) && site.everyLocation().stream().anyMatch(LocationSettings::cache)) {
            responder = PurgeResponder.prefixesOnly(responder, g.responseCache, siteScopes,
                    g.settings.cache().purgeAllow(), g.settings.cache().purgeMarksStale());
        }
        AuthBasic auth = location.authBasic();
        if (auth != null) {
            g.userFiles.computeIfAbsent(auth.userFile(), file -> UserFile.of(file, auth.users())); // kept current
        }
        // its rewrites, referers, limits and password, in nginx's order of phases
        return RewritePhase.guard(g.locationChecks.guard(responder, location), location);
    }

    /**
     * The site's root and its locations' own: where an X-Accel-Redirect may take a file from by default. A slash-less
     * alias's parent too, which holds the alias while it is found to be a file ({@link LocationSettings#aliasAsFile}).
     */
    private static List<Path> documentRoots(SiteSettings site) {
        List<Path> roots = new ArrayList<>();
        roots.add(site.root());
        for (LocationSettings location : site.everyLocation()) {
            if (location.root() != null) {
                roots.add(location.root());
                if (location.aliasAsFile() != null) {
                    roots.add(location.root().getParent());
                }
            }
        }
        return roots;
    }

    /**
     * The response cache in front of {@code location}, keyed in {@code scope} (the site's, or a chosen group's under it),
     * invalidating in every one of {@code siteScopes}: its X-Accel-Redirect answers are followed (a FastCGI one's and a
     * proxied one's), a FastCGI one's X-Sendfile ones where it names x-sendfile directories.
     */
    private static ResponseCacheGate responseCacheGate(Generation g, String scope, List<String> siteScopes,
            LocationSettings location) {
        boolean fastCgi = location.handler() == LocationSettings.Handler.FASTCGI;
        return new ResponseCacheGate(g.responseCache, scope, siteScopes, g.settings.cache().purgeMarksStale(),
                g.settings.cache().bypass(), g.settings.cache().noCache(),
                fastCgi && !location.sendfileRoots().isEmpty(), true,
                fastCgi ? location.fastcgiPassHeaders()
                : location.proxy() == null ? Set.of() : location.proxy().passHeaders(),
                fastCgi ? CgiResponseParser.hidden(location.fastcgiPassHeaders()) : Set.of());
    }

    /** {@code cached}, a location's responder behind the response cache, with its PURGE answered ahead of it. */
    private static PurgeResponder purging(Generation g, List<String> siteScopes, Responder cached) {
        return new PurgeResponder(cached, g.responseCache, siteScopes, g.settings.cache().purgeAllow(),
                g.settings.cache().purgeMarksStale());
    }

    private Responder ownResponder(Generation g, SiteSettings site, String cacheScope, List<String> siteScopes,
            LocationSettings location, StaticResponder staticResponder) {
        if (location.backendChoice() != null) {
            // a responder for each group of the kind, as if the location named it: each its own pool, queue and
            // timeouts, and its own scope in the cache (groupScope); a FastCGI one's directories are the
            // configuration's shared check-only resolvers (g.checkedRoot), looked at once a second each however many
            // groups
            boolean fastCgi = location.handler() == LocationSettings.Handler.FASTCGI;
            Map<String, Responder> groups = new HashMap<>();
            for (String name : (fastCgi ? g.groups : g.proxyGroups).keySet()) {
                ResponseCacheGate cacheGate = !location.cache() ? null
                        : responseCacheGate(g, groupScope(g, cacheScope, fastCgi, name), siteScopes, location);
                groups.put(name, fastCgi ? fastCgiResponder(g, site, location, staticResponder, name, cacheGate)
                        : new ProxyResponder(g.proxyPools.get(name), g.proxyGroups.get(name), spoolDir(),
                        bodySpoolDir(g), cacheGate));
            }
            // the site's gate, for what the cache makes of a value naming no group: it looks nothing up there
            Responder choice = new BackendChoice(fastCgi ? "fastcgi" : "proxy", fastCgi ? location.fastcgiBackend()
                    : location.proxy().backend(), location.backendChoice(), groups,
                    location.cache() ? responseCacheGate(g, cacheScope, siteScopes, location) : null);
            return location.cache() ? purging(g, siteScopes, choice) : choice;
        }
        if (location.handler() == LocationSettings.Handler.FASTCGI) {
            if (location.cache()) {
                return purging(g, siteScopes, fastCgiResponder(g, site, location, staticResponder,
                        location.fastcgiBackend(), responseCacheGate(g, cacheScope, siteScopes, location)));
            }
            return fastCgiResponder(g, site, location, staticResponder, location.fastcgiBackend(), null);
        }
        if (location.handler() == LocationSettings.Handler.PROXY) {
            BackendPool pool = g.proxyPools.get(location.proxy().backend());
            BackendGroupSettings group = g.proxyGroups.get(location.proxy().backend());
            if (location.cache()) {
                return purging(g, siteScopes, new ProxyResponder(pool, group, spoolDir(), bodySpoolDir(g),
                        responseCacheGate(g, cacheScope, siteScopes, location)));
            }
            return new ProxyResponder(pool, group, spoolDir(), bodySpoolDir(g));
        }
        if (location.handler() == LocationSettings.Handler.STATUS) {
            return new StatusResponder(this::statusLines, this::metrics, location.statusAllow());
        }
        if (location.handler() == LocationSettings.Handler.RETURN) {
            return RETURN;
        }
        if (location.handler() == LocationSettings.Handler.EMPTY_GIF) {
            return EMPTY_GIF;
        }
        if (location.handler() == LocationSettings.Handler.REWRITE) {
            return REWRITE;
        }
        return staticResponder;
    }

    /** {@code location}'s FastCGI responder for the group {@code name}, behind {@code cacheGate} (null: none). */
    private FastCgiResponder fastCgiResponder(Generation g, SiteSettings site, LocationSettings location,
            StaticResponder staticResponder, String name, ResponseCacheGate cacheGate) {
        BackendGroupSettings group = g.groups.get(name);
        return new FastCgiResponder(location, site.root(), g.pools.get(name), staticResponder, group.timeouts(),
                group.responseBuffer(), waitStats.get(group.name()), scriptProbe(g, site, location), cacheGate,
                spoolDir(), bodySpoolDir(g), documentRoots(site), g::checkedRoot, g.locationChecks);
    }

    /** Reads the auth-basic user files of the configuration in force again where they changed: htpasswd -b needs no reload. */
    private void refreshUserFiles() {
        try {
            current.userFiles.values().forEach(UserFile::refresh);
        } catch (RuntimeException e) {
            LOG.warn("auth-basic user files not read again (the next second tries again)", e); // would end the schedule
        }
    }

    /**
     * Reads the sites' error pages of the configuration in force again where they changed, appeared or went, as nginx
     * opens its error_page file at each request: an edited page needs no reload.
     */
    private void refreshErrorPages() {
        try {
            for (SiteSettings site : current.settings.sites()) {
                for (ErrorPage page : site.errorPages().values()) {
                    String change = page.refresh();
                    if (change != null && page.content().state() == ErrorPage.State.READ) {
                        LOG.info("{}", change);
                    } else if (change != null) {
                        LOG.warn("{}", change);
                    }
                }
            }
        } catch (RuntimeException e) {
            LOG.warn("error pages not read again (the next second tries again)", e); // would end the schedule
        }
    }

    private void logStats() {
        try {
            Generation g = current;
            logIfChanged("static files", g.staticStatsLine.next(g.engine.stats()));
            logBackendStats(g);
            logCacheStats(g);
        } catch (RuntimeException e) {
            LOG.warn("stats line failed (the next period tries again)", e); // an escaping exception ends the schedule
        }
    }

    /** The static responder, with the content cache when {@code edge.cache.content} is on (carried over if unchanged). */
    private StaticResponder staticResponder(Generation g, Generation previous) {
        MimeTypes mimeTypes = new MimeTypes(g.settings.mimeTypes());
        ContentCacheSettings content = g.heldCaches.content(); // null: off
        g.resolvers = StaticResponder.perRoot(ticker::read);
        g.resolvers.prepare(g.settings.sites()); // here, not on a loop at each root's first request
        if (content == null) {
            return new StaticResponder(g.engine, mimeTypes, g.resolvers);
        }
        if (previous != null && previous.contentCache != null && content.equals(previous.heldCaches.content())) {
            g.contentCache = previous.contentCache;
            g.revalidator = previous.revalidator;
            g.due = previous.due;
        } else {
            g.contentCache = new ContentCache(content, ticker, previous == null ? null : previous.contentCache);
            // Cached files due for revalidation are stat'ed here, never on an event loop: a loop only appends to
            // a queue (no lock, no wake-up), and one thread drains it every 100 ms. Each entry is queued at most
            // once per revalidation period, so the queue never holds more than the cache does.
            ConcurrentLinkedQueue<Runnable> due = new ConcurrentLinkedQueue<>();
            g.due = due;
            g.revalidator = Executors.newSingleThreadScheduledExecutor(daemon("edge-content-revalidate"));
            g.revalidator.scheduleWithFixedDelay(() -> {
                for (Runnable task; (task = due.poll()) != null; ) {
                    task.run();
                }
            }, 100, 100, TimeUnit.MILLISECONDS);
        }
        return new StaticResponder(g.engine, mimeTypes, g.resolvers, g.contentCache, g.due::add);
    }

    /** Logs {@code what: line} unless the previous period logged the same line. */
    private void logIfChanged(String what, String line) {
        if (!line.equals(lastLoggedStats.put(what, line))) {
            LOG.info("{}: {}", what, line);
        }
    }

    /** One log line per period for each cache, when anything changed. */
    private void logCacheStats(Generation g) {
        if (g.contentCache != null) {
            logIfChanged("content cache", contentCacheLine(g.contentCache));
        }
        if (g.responseCache != null) {
            logIfChanged("response cache", responseCacheLine(g.responseCache));
        }
    }

    private static String contentCacheLine(ContentCache contentCache) {
        ContentCacheStats stats = contentCache.stats();
        return String.format(Locale.ROOT,
                "hits=%d misses=%d evictions=%d invalidations=%d bytes=%d entries=%d admit-one-in=%d",
                stats.hits(), stats.misses(), stats.evictions(), stats.invalidations(), stats.bytesHeld(),
                stats.entries(), stats.admitOneIn());
    }

    private static String responseCacheLine(ResponseCache responseCache) {
        ResponseCacheStats stats = responseCache.stats();
        return String.format(Locale.ROOT,
                "hits=%d misses=%d stale=%d coalesced=%d bypasses=%d evictions=%d bytes=%d entries=%d",
                stats.hits(), stats.misses(), stats.staleAnswers(), stats.coalesced(), stats.bypasses(),
                stats.evictions(), stats.bytesHeld(), stats.entries());
    }

    /**
     * One log line per backend group and period, when anything changed: connections open and idle, waiters,
     * rejections, timeouts, busy and failed connects, and queue wait (mean since start, max in the period).
     */
    private void logBackendStats(Generation g) {
        g.pools.forEach((name, pool) -> {
            String line = backendLine(name, pool);
            double maxWait = waitStats.get(name).takeMaxMillis();
            if (!line.equals(lastLoggedStats.put(name, line))) {
                LOG.info("fastcgi group {}: {} wait-max-ms={}", name, line, String.format(Locale.ROOT, "%.1f", maxWait));
            }
        });
    }

    private String backendLine(String name, BackendPool pool) {
        WaitStats waits = waitStats.get(name);
        return poolLine(pool) + String.format(Locale.ROOT, " leases=%d wait-mean-ms=%.1f", waits.count(),
                waits.meanMillis());
    }

    /** A pool's connections, waiters and rejections: an HTTP group's line, the start of a FastCGI group's. */
    private static String poolLine(BackendPool pool) {
        PoolStats stats = pool.stats();
        return String.format(Locale.ROOT,
                "open=%d idle=%d lingering=%d answered=%d waiters=%d rejected-full=%d timed-out=%d busy-connects=%d "
                        + "failed-connects=%d",
                stats.open(), stats.idle(), stats.lingering(), stats.answered(), stats.waiters(), stats.rejectedFull(),
                stats.timedOut(), stats.busyConnects(), stats.failedConnects());
    }

    /**
     * The status page ({@code status = true} locations): the periodic log's lines with counters since start, the
     * static path's read latency over all reads so far, and no per-period maximum.
     */
    private List<String> statusLines() {
        Generation g = current;
        List<String> lines = new ArrayList<>();
        lines.add("connections: " + server.connectionsLine());
        lines.add("static files: " + StaticStatsLine.sinceStart(g.engine.stats()));
        // each group named as its log lines name it (BackendPool.Kind): "fastcgi group php", "proxy backend api"
        g.pools.forEach((name, pool) -> lines.add(pool.group() + ": " + backendLine(name, pool)));
        g.proxyPools.forEach((name, pool) -> lines.add(pool.group() + ": " + poolLine(pool)));
        if (g.contentCache != null) {
            lines.add("content cache: " + contentCacheLine(g.contentCache));
        }
        if (g.responseCache != null) {
            lines.add("response cache: " + responseCacheLine(g.responseCache));
        }
        lines.add("image filter: " + server.imageStats().line());
        lines.add("memory: direct=" + DirectMemory.used() + " direct-max=" + DirectMemory.limit() + " heap="
                + heapInUse() + " heap-max=" + Runtime.getRuntime().maxMemory());
        return lines;
    }

    /**
     * A backend group's pool in the metrics, {@code prefix} naming its kind ({@code edge_fastcgi}, {@code edge_proxy}):
     * the same names and labels for both. Returns the figures read.
     */
    private static PoolStats poolMetrics(PrometheusText m, String prefix, BackendPool pool, String... group) {
        PoolStats stats = pool.stats();
        m.gauge(prefix + "_connections_open", "Backend connections (connecting, leased, idle, lingering).", stats.open(),
                        group)
                .gauge(prefix + "_connections_idle", "Idle kept-alive backend connections.", stats.idle(), group)
                .gauge(prefix + "_connections_lingering", "Backend connections closed while their backend may still be "
                        + "at work on the request (timed out or cut off), still counted as open.", stats.lingering(),
                        group)
                .gauge(prefix + "_waiters", "Requests in the wait queue.", stats.waiters(), group)
                .counter(prefix + "_rejected_full_total", "Requests refused (503): wait queue full.",
                        stats.rejectedFull(), group)
                .counter(prefix + "_queue_timeouts_total", "Requests that waited out queue.timeout (503).",
                        stats.timedOut(), group)
                .counter(prefix + "_busy_connects_total", "Connects refused or busy (a restart, a full backlog): for a FastCGI "
                        + "group sent back to wait; for a proxy group passed to the next address, the last one waited for.",
                        stats.busyConnects(), group)
                .counter(prefix + "_failed_connects_total", "Other failed connects.", stats.failedConnects(), group);
        return stats;
    }

    private static final String QUEUE_WAIT_HELP =
            "Time from asking for a backend connection to having one (queue wait plus a new connection's connect), per lease.";

    /**
     * The status page's figures in the Prometheus text format ({@code ?format=prometheus}, or a scraper's
     * {@code Accept}): counters since start, gauges now. Called on an event loop: reads counters only.
     */
    private String metrics() {
        Generation g = current;
        PrometheusText m = new PrometheusText();
        HttpServerContext.ConnectionStats connections = server.connectionStats();
        m.gauge("edge_connections_open", "Client connections open.", connections.open())
                .gauge("edge_connections_max", "server.max-connections.", connections.max())
                .gauge("edge_connections_accepting", "1 while a new client is served at once, 0 at max-connections or draining.",
                        connections.accepting() ? 1 : 0)
                .counter("edge_connections_accepted_total", "Client connections accepted.", connections.accepted())
                .counter("edge_connections_refused_total", "Client connections closed at once (over the limit, draining).",
                        connections.refused())
                .counter("edge_accept_pauses_total", "Times the open connections reached max-connections.",
                        connections.pauses())
                .counter("edge_requests_total", "Request heads read from clients, well-formed or not.",
                        connections.requests());
        FileEngineStats files = g.engine.stats();
        String[] engineLabel = {"engine", files.engine()};
        m.counter("edge_static_sendfile_regions_total", "Ranges sent by sendfile from the file.",
                        files.sendfileRegions(), engineLabel)
                .counter("edge_static_resident_reads_total", "Reads answered at once (page cache, or read at open).",
                        files.residentReads(), engineLabel)
                .counter("edge_static_async_reads_total", "Reads handed to io_uring, kernel AIO or the pool.",
                        files.asyncReads(), engineLabel)
                .counter("edge_static_fallback_reads_total", "Reads the engine's own asynchronous path could not take.",
                        files.fallbackReads(), engineLabel)
                .counter("edge_static_timed_out_reads_total", "Reads and opens failed by static.read-timeout.",
                        files.timedOutReads(), engineLabel)
                .counter("edge_static_rejected_total",
                        "File operations refused (503): a queue full, or no descriptor left to the static path.",
                        files.rejected(), engineLabel)
                .gauge("edge_static_in_flight", "Reads and file operations in flight.", files.inFlight(), engineLabel)
                .gauge("edge_static_waiting", "Reads and file operations waiting for a slot.", files.waiting(), engineLabel)
                .gauge("edge_static_descriptors", "Descriptors the open-file cache holds.", files.descriptors(), engineLabel);
        Histogram latency = files.readLatencyMicros();
        String latencyHelp = "Latency of the reads handed off, since start.";
        for (double q : new double[] {0.5, 0.9, 0.99}) {
            m.summary("edge_static_read_latency_seconds", "", latencyHelp,
                    latency.getTotalCount() == 0 ? Double.NaN : latency.getValueAtPercentile(q * 100) / 1e6,
                    "engine", files.engine(), "quantile", Double.toString(q));
        }
        m.summary("edge_static_read_latency_seconds", "_sum", latencyHelp,
                        latency.getMean() * latency.getTotalCount() / 1e6, engineLabel)
                .summary("edge_static_read_latency_seconds", "_count", latencyHelp, latency.getTotalCount(), engineLabel);
        g.pools.forEach((name, pool) -> {
            WaitStats waits = waitStats.get(name);
            String[] group = {"group", name};
            PoolStats stats = poolMetrics(m, "edge_fastcgi", pool, group);
            m.gauge("edge_fastcgi_connections_answered", "Backend connections whose answer is complete, held "
                            + "until their worker is free (await-worker): as many more requests may wait.",
                            stats.answered(), group)
                    .summary("edge_fastcgi_queue_wait_seconds", "_sum", QUEUE_WAIT_HELP, waits.totalSeconds(), group)
                    .summary("edge_fastcgi_queue_wait_seconds", "_count", QUEUE_WAIT_HELP, waits.count(), group);
        });
        g.proxyPools.forEach((name, pool) -> poolMetrics(m, "edge_proxy", pool, "group", name));
        if (g.contentCache != null) {
            ContentCacheStats stats = g.contentCache.stats();
            m.counter("edge_content_cache_hits_total", "Static files answered from memory.", stats.hits())
                    .counter("edge_content_cache_misses_total", "Content cache lookups that missed.", stats.misses())
                    .counter("edge_content_cache_evictions_total", "Files evicted by size.", stats.evictions())
                    .counter("edge_content_cache_invalidations_total", "Files dropped as changed or gone.",
                            stats.invalidations())
                    .gauge("edge_content_cache_bytes", "Bytes held (contents and bookkeeping).", stats.bytesHeld())
                    .gauge("edge_content_cache_entries", "Files held.", stats.entries());
        }
        if (g.responseCache != null) {
            ResponseCacheStats stats = g.responseCache.stats();
            m.counter("edge_response_cache_hits_total", "Responses answered from the cache.", stats.hits())
                    .counter("edge_response_cache_misses_total", "Cacheable requests the cache held no fresh answer"
                            + " for at their lookup (coalesced ones waited for another's; some then met a full queue).",
                            stats.misses())
                    .counter("edge_response_cache_stale_total", "Stale responses served (while revalidating or"
                            + " updating, or for a backend failing or busy).", stats.staleAnswers())
                    .counter("edge_response_cache_coalesced_total", "Requests that waited for another's backend answer.",
                            stats.coalesced())
                    .counter("edge_response_cache_bypasses_total", "Requests kept out of the cache.", stats.bypasses())
                    .counter("edge_response_cache_evictions_total", "Responses evicted by size.", stats.evictions())
                    .gauge("edge_response_cache_bytes", "Bytes held.", stats.bytesHeld())
                    .gauge("edge_response_cache_entries", "Responses held.", stats.entries());
        }
        HttpServerContext.ImageStats images = server.imageStats();
        m.gauge("edge_image_filter_jobs", "Image-filter jobs waiting for a worker or being made.", images.jobs())
                .counter("edge_image_filter_abandoned_total", "Image-filter jobs not made, their client gone before a "
                        + "worker came to them.", images.abandoned());
        m.gauge("edge_direct_memory_bytes", "Direct memory in use: read buffers, caches, connections' buffers.",
                        DirectMemory.used())
                .gauge("edge_direct_memory_max_bytes", "The direct memory limit (-XX:MaxDirectMemorySize); reads past it"
                        + " are refused with 503.", DirectMemory.limit())
                .gauge("edge_heap_used_bytes", "Java heap in use, garbage not yet collected included.", heapInUse())
                .gauge("edge_heap_max_bytes", "The Java heap's maximum (-Xmx).", Runtime.getRuntime().maxMemory());
        return m.render();
    }

    /** Java heap in use, garbage not yet collected included: for the status page's two formats. */
    private static long heapInUse() {
        Runtime jvm = Runtime.getRuntime();
        return jvm.totalMemory() - jvm.freeMemory();
    }

    public List<InetSocketAddress> boundAddresses() {
        return server.boundAddresses();
    }

    /** The newest configuration's content cache, or null (off): for tests of what a reload lets go. */
    ContentCache contentCacheInUse() {
        return current.contentCache;
    }

    /** How many directories the newest configuration's FastCGI locations check every second: for tests. */
    int checkedRootsInUse() {
        return current.checkedRoots.size();
    }

    /** The newest configuration's response cache, or null (none): for tests of what a reload lets go. */
    ResponseCache responseCacheInUse() {
        return current.responseCache;
    }

    /**
     * Deletes the temporary run directory made for this server ({@code run-dir = ""}), with what the spawned
     * php-fpm left in it; a configured run directory is the operator's and stays. Links inside are removed, never
     * followed.
     */
    private void deleteTemporaryRunDir() {
        if (temporaryRunDir == null) {
            return;
        }
        try {
            TemporaryRunDir.deleteTree(temporaryRunDir);
        } catch (IOException | UncheckedIOException e) {
            LOG.warn("could not delete the temporary run directory {}: {}", temporaryRunDir, e.getMessage());
        }
    }

    /**
     * Ends the drain of a {@link #stop} in progress now, the connections still open closed (an operator's second
     * SIGTERM), and php-fpm stopped its fast way, its running scripts ended; returns how many connections there were.
     * Never waits for the lock {@link #stop} holds.
     */
    public int stopDraining() {
        drainOver = true;
        drainCutShort = true;
        EdgeServer running = server;
        int closed = running == null ? 0 : running.stopDraining();
        // php-fpm's fast stop too, now (one stopping already) or when the stop comes to it: scripts still running end
        supervisors.forEach(PhpFpmSupervisor::hurry);
        return closed;
    }

    /**
     * Has every php-fpm edge spawned reopen its log (SIGUSR1, php-fpm's own), as edge reopens its access log on
     * {@code signal}: a logrotate of a run-dir's php-fpm.log went on into the renamed file.
     */
    public void reopenPhpFpmLogs(String signal) {
        for (PhpFpmSupervisor supervisor : supervisors) {
            try {
                if (supervisor.reopenLog()) {
                    LOG.info("SIG{}: php-fpm for group {}: {} reopened", signal, supervisor.groupName(),
                            supervisor.logPath());
                }
            } catch (IOException e) {
                LOG.warn("SIG{}: php-fpm for group {}: its log not reopened: {}", signal, supervisor.groupName(),
                        e.getMessage());
            }
        }
    }

    /** The drain timeout a stop now has: the running configuration's, a reload's too. */
    public Duration drainTimeout() {
        return inForce.timeouts().drain();
    }

    /**
     * Drains and stops everything (the temporary run directory included); returns true if every connection
     * finished within the drain timeout. The php-fpm edge started stops last, once the drain is over: requests
     * still waiting for a PHP worker get one, and scripts running on after their answer end first (within the drain
     * timeout: {@link #closePoolsAwaitingWorkers}), as do requests at any backend whose client left (a POST runs
     * without it); one still queued for a backend then fails, logged. A start or reload waiting for a php-fpm it spawned is not
     * waited out: that php-fpm is stopped first, the start or reload fails, and this stops whatever else it had
     * started.
     */
    public boolean stop() {
        stopped = true;
        PhpFpmSupervisor abandoned = starting;
        if (abandoned != null) {
            abandoned.stop(); // the start or reload holding the lock fails at once and lets go of it
        }
        synchronized (this) {
            boolean clean = true;
            if (server != null && !serverStopped) {
                serverStopped = true; // a second stop (a failed start's, then its caller's) finds its loops gone
                try {
                    clean = server.shutdown(this::closePoolsAwaitingWorkers);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    clean = false;
                }
            }
            drainOver = true; // a retirement still waiting for scripts stops waiting
            if (statsLogger != null) {
                statsLogger.shutdownNow();
            }
            if (retirer != null) {
                retirer.shutdown(); // a retire queued from now on finds nothing left to retire
            }
            try {
                CompletableFuture.allOf(closing.values().toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (ExecutionException | TimeoutException e) {
                LOG.warn("stop: a previous configuration's parts were still closing after 30 s");
            }
            List<Generation> all = new ArrayList<>(retiring);
            retiring.clear();
            if (current != null) {
                all.add(current);
            }
            for (int i = 0; i < all.size(); i++) {
                close(all.get(i), all.subList(i + 1, all.size())); // a part shared with a later one closes with it
            }
            for (Generation outliving : List.copyOf(filesOutliving)) {
                closeFilesOf(outliving);
            }
            current = null;
            deleteTemporaryRunDir();
            removePidFile(); // last: until the drain is over, edge -s stop finds the server to cut it short
            pidFile = null;
            return clean;
        }
    }

    /** The FastCGI connections {@code settings} may open at once: each group's max-connections per address. */
    private static long backendConnections(EdgeSettings settings) {
        return settings.backends().values().stream()
                .mapToLong(group -> (long) Math.max(1, group.addresses().size()) * group.maxConnections()).sum();
    }

    /**
     * How many replaced configurations are being closed now (their php-fpm waiting for scripts that run on after their
     * answer, or being stopped): 0 once every reload's leftovers are gone.
     */
    public synchronized int generationsClosing() {
        return closing.size();
    }

    /** {@code d} as a log line says it to a person: "30 s", "1500 ms" (not Java's "PT30S"). */
    static String readable(Duration d) {
        long millis = d.toMillis();
        return millis % 1000 == 0 ? millis / 1000 + " s" : millis + " ms";
    }
}
