package io.edge.core;

import com.github.benmanes.caffeine.cache.Ticker;
import io.edge.aio.PathPolicy;
import io.edge.aio.StaticIoSettings;
import io.edge.aio.file.FileEngine;
import io.edge.aio.file.FileEngineStats;
import io.edge.aio.file.FileEngines;
import io.edge.cache.ContentCacheSettings;
import io.edge.cache.content.ContentCache;
import io.edge.cache.content.ContentCacheStats;
import io.edge.cache.http.ResponseCache;
import io.edge.cache.http.ResponseCacheStats;
import io.edge.conf.ConfigLoader;
import io.edge.conf.EdgeSettings;
import io.edge.conf.LocationSettings;
import io.edge.conf.SiteSettings;
import io.edge.core.cache.PurgeResponder;
import io.edge.core.cache.ResponseCacheGate;
import io.edge.core.fastcgi.CachedFileProbe;
import io.edge.core.fastcgi.FastCgiResponder;
import io.edge.core.fastcgi.PolicyFileProbe;
import io.edge.core.fastcgi.WaitStats;
import io.edge.core.http.HttpServerContext;
import io.edge.core.http.Responder;
import io.edge.core.statics.MimeTypes;
import io.edge.core.statics.StaticResponder;
import io.edge.core.status.PrometheusText;
import io.edge.core.status.StatusResponder;
import io.edge.fastcgi.BackendGroupSettings;
import io.edge.fastcgi.cgi.ScriptResolver;
import io.edge.fastcgi.pool.BackendPool;
import io.edge.fastcgi.pool.PoolStats;
import io.edge.fastcgi.spawn.PhpFpmSupervisor;
import io.netty.util.HashedWheelTimer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.HdrHistogram.Histogram;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A whole edge instance built from one configuration: the file engine, spawned php-fpm pools, the backend
 * pools, a responder per location, and the HTTP server. Stopped in reverse: the server drains first, so no
 * request loses its backend. {@link Main} runs one; tests start them in-process.
 */
public final class Edge {

    private static final Logger LOG = LoggerFactory.getLogger(Edge.class);
    private static final long STATS_PERIOD_S = 10;

    /** Set by {@link #stop}: a start after it (a shutdown hook ran first) starts nothing. */
    private boolean stopped;
    private final EdgeSettings settings;
    private final Ticker ticker;
    private ResponseCache responseCache;
    private ContentCache contentCache;
    private ScheduledExecutorService revalidator;
    private HashedWheelTimer cacheTimer;
    private final Map<String, BackendPool> pools = new LinkedHashMap<>();
    /** Where FastCGI request bodies too large for memory go ({@link #spoolDir()}); decided on the first need. */
    private Path spoolDir;
    private final List<PhpFpmSupervisor> supervisors = new ArrayList<>();
    private final Map<String, WaitStats> waitStats = new LinkedHashMap<>();
    private final Map<String, String> lastLoggedStats = new LinkedHashMap<>();
    private final StaticStatsLine staticStatsLine = new StaticStatsLine();
    private ScheduledExecutorService statsLogger;
    private FileEngine engine;
    private final Map<ScriptRoot, ScriptResolver.FileProbe> scriptProbes = new LinkedHashMap<>();
    private EdgeServer server;

    public Edge(EdgeSettings settings) {
        this(settings, Ticker.systemTicker());
    }

    /** An instance whose caches age on {@code ticker}: tests expire entries without sleeping. */
    public Edge(EdgeSettings settings, Ticker ticker) {
        this.settings = settings;
        this.ticker = ticker;
    }

    /**
     * Starts backends, pools and listeners; on failure, whatever started is stopped again. A {@link #stop} called
     * meanwhile (a shutdown hook) waits for it.
     */
    public synchronized void start() throws Exception {
        if (stopped) {
            throw new IllegalStateException("stopped before it started (a signal during the start)");
        }
        try {
            engine = fileEngine(settings.staticIo());
            StaticResponder staticResponder = staticResponder();
            for (BackendGroupSettings group : settings.backends().values()) {
                if (group.spawn() != null) {
                    PhpFpmSupervisor supervisor = new PhpFpmSupervisor(group.name(), group.spawn(), false); // see stop()
                    supervisors.add(supervisor);
                    supervisor.start();
                    LOG.info("fastcgi group {}: started php-fpm with {} workers on {}", group.name(),
                            group.spawn().workers(), supervisor.socketAddress());
                }
                pools.put(group.name(), BackendPool.create(group));
                waitStats.put(group.name(), new WaitStats());
            }
            boolean cached = settings.sites().stream().flatMap(s -> s.locations().stream()).anyMatch(LocationSettings::cache);
            if (cached) {
                cacheTimer = new HashedWheelTimer(r -> {
                    Thread t = new Thread(r, "edge-cache-timer");
                    t.setDaemon(true);
                    return t;
                }, 10, TimeUnit.MILLISECONDS);
                responseCache = new ResponseCache(settings.cache().responses(), cacheTimer, ticker);
            }
            statsLogger = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "edge-stats");
                t.setDaemon(true);
                return t;
            });
            statsLogger.scheduleAtFixedRate(this::logStats, STATS_PERIOD_S, STATS_PERIOD_S, TimeUnit.SECONDS);
            Map<LocationSettings, Responder> responders = new IdentityHashMap<>();
            for (SiteSettings site : settings.sites()) {
                for (LocationSettings location : site.locations()) {
                    responders.put(location, responder(site, location, staticResponder));
                }
            }
            server = new EdgeServer(settings, responders::get);
            server.start();
        } catch (Exception | Error e) {
            stop();
            throw e;
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
    private ScriptResolver.FileProbe scriptProbe(SiteSettings site, LocationSettings location) {
        Path root = location.root() != null ? location.root() : site.root();
        return scriptProbes.computeIfAbsent(new ScriptRoot(root, site.pathPolicy()), key -> {
            StaticIoSettings io = settings.staticIo();
            // The resolver's memory of directories ages on the same clock as the probe's answers.
            PolicyFileProbe probe = new PolicyFileProbe(key.root(), key.policy(), ticker::read,
                    StaticResponder.DIRECTORY_TTL);
            return new CachedFileProbe(probe,
                    io.openFileCacheSize() == 0 ? Duration.ZERO : io.revalidateAfter(), ticker);
        });
    }

    /**
     * Where request bodies too large for memory are spooled: the run directory where there is one (configured, or
     * made for a spawned php-fpm), else {@code java.io.tmpdir}.
     */
    private Path spoolDir() {
        if (spoolDir == null) {
            Path run = settings.server().runDir();
            spoolDir = FastCgiResponder.DEFAULT_SPOOL_DIR;
            if (run != null && Files.isDirectory(run)) {
                spoolDir = run;
            } else if (run != null && !ConfigLoader.isTemporaryRunDirPlaceholder(run)) {
                try { // a configured run-dir that nothing has made yet (no spawned backend)
                    spoolDir = Files.createDirectories(run,
                            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
                } catch (IOException | RuntimeException e) {
                    LOG.warn("run-dir {} could not be made ({}); large request bodies are spooled to {} instead", run,
                            e.toString(), spoolDir);
                }
            }
        }
        return spoolDir;
    }

    private Responder responder(SiteSettings site, LocationSettings location, StaticResponder staticResponder) {
        if (location.handler() == LocationSettings.Handler.FASTCGI) {
            BackendGroupSettings group = settings.backends().get(location.fastcgiBackend());
            ScriptResolver.FileProbe probe = scriptProbe(site, location);
            if (location.cache()) {
                FastCgiResponder fastCgi = new FastCgiResponder(location, site.root(), pools.get(location.fastcgiBackend()),
                        staticResponder, group.timeouts(), waitStats.get(group.name()), probe,
                        new ResponseCacheGate(responseCache), spoolDir());
                return new PurgeResponder(fastCgi, responseCache, settings.cache().purgeAllow(),
                        settings.cache().purgeMarksStale());
            }
            return new FastCgiResponder(location, site.root(), pools.get(location.fastcgiBackend()), staticResponder,
                    group.timeouts(), waitStats.get(group.name()), probe, null, spoolDir());
        }
        if (location.handler() == LocationSettings.Handler.STATUS) {
            return new StatusResponder(this::statusLines, this::metrics, location.statusAllow());
        }
        return staticResponder;
    }

    /** The configured engine; {@code auto} logs once why it chose io_uring or threads. */
    private static FileEngine fileEngine(StaticIoSettings io) throws IOException {
        return FileEngines.create(io);
    }

    private void logStats() {
        try {
            logIfChanged("static files", staticStatsLine.next(engine.stats()));
            logBackendStats();
            logCacheStats();
        } catch (RuntimeException e) {
            LOG.warn("stats line failed (the next period tries again)", e); // an escaping exception ends the schedule
        }
    }

    /** The static responder, with the content cache when {@code edge.cache.content} is on. */
    private StaticResponder staticResponder() {
        MimeTypes mimeTypes = new MimeTypes(settings.mimeTypes());
        ContentCacheSettings content = settings.cache().content();
        if (content == null || content.maxBytes() == 0) {
            return new StaticResponder(engine, mimeTypes, StaticResponder.perRoot(ticker::read));
        }
        contentCache = new ContentCache(content, ticker);
        // Cached files due for revalidation are stat'ed here, never on an event loop: a loop only appends to
        // a queue (no lock, no wake-up), and one thread drains it every 100 ms. Each entry is queued at most
        // once per revalidation period, so the queue never holds more than the cache does.
        ConcurrentLinkedQueue<Runnable> due = new ConcurrentLinkedQueue<>();
        revalidator = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "edge-content-revalidate");
            t.setDaemon(true);
            return t;
        });
        revalidator.scheduleWithFixedDelay(() -> {
            for (Runnable task; (task = due.poll()) != null; ) {
                task.run();
            }
        }, 100, 100, TimeUnit.MILLISECONDS);
        return new StaticResponder(engine, mimeTypes, StaticResponder.perRoot(ticker::read), contentCache, due::add);
    }

    /** Logs {@code what: line} unless the previous period logged the same line. */
    private void logIfChanged(String what, String line) {
        if (!line.equals(lastLoggedStats.put(what, line))) {
            LOG.info("{}: {}", what, line);
        }
    }

    /** One log line per period for each cache, when anything changed. */
    private void logCacheStats() {
        if (contentCache != null) {
            logIfChanged("content cache", contentCacheLine());
        }
        if (responseCache != null) {
            logIfChanged("response cache", responseCacheLine());
        }
    }

    private String contentCacheLine() {
        ContentCacheStats stats = contentCache.stats();
        return String.format(Locale.ROOT,
                "hits=%d misses=%d evictions=%d invalidations=%d bytes=%d entries=%d admit-one-in=%d",
                stats.hits(), stats.misses(), stats.evictions(), stats.invalidations(), stats.bytesHeld(),
                stats.entries(), stats.admitOneIn());
    }

    private String responseCacheLine() {
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
    private void logBackendStats() {
        pools.forEach((name, pool) -> {
            String line = backendLine(name, pool);
            double maxWait = waitStats.get(name).takeMaxMillis();
            if (!line.equals(lastLoggedStats.put(name, line))) {
                LOG.info("fastcgi group {}: {} wait-max-ms={}", name, line, String.format(Locale.ROOT, "%.1f", maxWait));
            }
        });
    }

    private String backendLine(String name, BackendPool pool) {
        PoolStats stats = pool.stats();
        WaitStats waits = waitStats.get(name);
        return String.format(Locale.ROOT,
                "open=%d idle=%d waiters=%d rejected-full=%d timed-out=%d busy-connects=%d failed-connects=%d leases=%d "
                        + "wait-mean-ms=%.1f",
                stats.open(), stats.idle(), stats.waiters(), stats.rejectedFull(), stats.timedOut(),
                stats.busyConnects(), stats.failedConnects(), waits.count(), waits.meanMillis());
    }

    /**
     * The status page ({@code status = true} locations): the periodic log's lines with counters since start, the
     * static path's read latency over all reads so far, and no per-period maximum.
     */
    private List<String> statusLines() {
        List<String> lines = new ArrayList<>();
        lines.add("connections: " + server.connectionsLine());
        lines.add("static files: " + StaticStatsLine.sinceStart(engine.stats()));
        pools.forEach((name, pool) -> lines.add("fastcgi group " + name + ": " + backendLine(name, pool)));
        if (contentCache != null) {
            lines.add("content cache: " + contentCacheLine());
        }
        if (responseCache != null) {
            lines.add("response cache: " + responseCacheLine());
        }
        return lines;
    }

    private static final String QUEUE_WAIT_HELP =
            "Time from asking for a backend connection to having one (queue wait plus a new connection's connect), per lease.";

    /**
     * The status page's figures in the Prometheus text format ({@code ?format=prometheus}, or a scraper's
     * {@code Accept}): counters since start, gauges now. Called on an event loop: reads counters only.
     */
    private String metrics() {
        PrometheusText m = new PrometheusText();
        HttpServerContext.ConnectionStats connections = server.connectionStats();
        m.gauge("edge_connections_open", "Client connections open.", connections.open())
                .gauge("edge_connections_max", "server.max-connections.", connections.max())
                .gauge("edge_connections_accepting", "1 while the listeners accept, 0 at max-connections or draining.",
                        connections.accepting() ? 1 : 0)
                .counter("edge_connections_accepted_total", "Client connections accepted.", connections.accepted())
                .counter("edge_connections_refused_total", "Client connections closed at once (over the limit, draining).",
                        connections.refused())
                .counter("edge_accept_pauses_total", "Times the listeners stopped accepting at max-connections.",
                        connections.pauses());
        FileEngineStats files = engine.stats();
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
                .counter("edge_static_rejected_total", "File operations refused because a queue was full.",
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
        pools.forEach((name, pool) -> {
            PoolStats stats = pool.stats();
            WaitStats waits = waitStats.get(name);
            String[] group = {"group", name};
            m.gauge("edge_fastcgi_connections_open", "Backend connections (connecting, leased, idle).", stats.open(), group)
                    .gauge("edge_fastcgi_connections_idle", "Idle kept-alive backend connections.", stats.idle(), group)
                    .gauge("edge_fastcgi_waiters", "Requests in the wait queue.", stats.waiters(), group)
                    .counter("edge_fastcgi_rejected_full_total", "Requests refused (503): wait queue full.",
                            stats.rejectedFull(), group)
                    .counter("edge_fastcgi_queue_timeouts_total", "Requests that waited out queue.timeout (503).",
                            stats.timedOut(), group)
                    .counter("edge_fastcgi_busy_connects_total", "Connects refused as busy or restarting, sent back to wait.",
                            stats.busyConnects(), group)
                    .counter("edge_fastcgi_failed_connects_total", "Other failed connects.", stats.failedConnects(), group)
                    .summary("edge_fastcgi_queue_wait_seconds", "_sum", QUEUE_WAIT_HELP, waits.totalSeconds(), group)
                    .summary("edge_fastcgi_queue_wait_seconds", "_count", QUEUE_WAIT_HELP, waits.count(), group);
        });
        if (contentCache != null) {
            ContentCacheStats stats = contentCache.stats();
            m.counter("edge_content_cache_hits_total", "Static files answered from memory.", stats.hits())
                    .counter("edge_content_cache_misses_total", "Content cache lookups that missed.", stats.misses())
                    .counter("edge_content_cache_evictions_total", "Files evicted by size.", stats.evictions())
                    .counter("edge_content_cache_invalidations_total", "Files dropped as changed or gone.",
                            stats.invalidations())
                    .gauge("edge_content_cache_bytes", "Bytes held (contents and bookkeeping).", stats.bytesHeld())
                    .gauge("edge_content_cache_entries", "Files held.", stats.entries());
        }
        if (responseCache != null) {
            ResponseCacheStats stats = responseCache.stats();
            m.counter("edge_response_cache_hits_total", "Responses answered from the cache.", stats.hits())
                    .counter("edge_response_cache_misses_total", "Cacheable requests that went to the backend.", stats.misses())
                    .counter("edge_response_cache_stale_total", "Stale responses served (backend failing or busy).",
                            stats.staleAnswers())
                    .counter("edge_response_cache_coalesced_total", "Requests that waited for another's backend answer.",
                            stats.coalesced())
                    .counter("edge_response_cache_bypasses_total", "Requests kept out of the cache.", stats.bypasses())
                    .counter("edge_response_cache_evictions_total", "Responses evicted by size.", stats.evictions())
                    .gauge("edge_response_cache_bytes", "Bytes held.", stats.bytesHeld())
                    .gauge("edge_response_cache_entries", "Responses held.", stats.entries());
        }
        return m.render();
    }

    public List<InetSocketAddress> boundAddresses() {
        return server.boundAddresses();
    }

    /**
     * Deletes the temporary run directory the loader made for this server ({@code run-dir = ""}), with what
     * the spawned php-fpm left in it; a configured run directory is the operator's and stays. Links inside are
     * removed, never followed.
     */
    private void deleteTemporaryRunDir() {
        if (!settings.server().runDirTemporary()) {
            return;
        }
        Path runDir = settings.server().runDir();
        try (Stream<Path> paths = Files.walk(runDir)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        } catch (NoSuchFileException e) {
            // already gone (a second stop)
        } catch (IOException | UncheckedIOException e) {
            LOG.warn("could not delete the temporary run directory {}: {}", runDir, e.getMessage());
        }
    }

    /**
     * Drains and stops everything (the temporary run directory included); returns true if every connection
     * finished within the drain timeout. The php-fpm edge started stops last, once the drain is over: requests
     * still waiting for a PHP worker get one.
     */
    public synchronized boolean stop() {
        stopped = true;
        boolean clean = true;
        if (server != null) {
            try {
                clean = server.shutdown();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                clean = false;
            }
        }
        if (statsLogger != null) {
            statsLogger.shutdownNow();
        }
        pools.values().forEach(BackendPool::close);
        if (responseCache != null) {
            responseCache.close();
            responseCache = null;
        }
        if (revalidator != null) {
            revalidator.shutdownNow();
            revalidator = null;
        }
        if (contentCache != null) {
            contentCache.close();
            contentCache = null;
        }
        if (cacheTimer != null) {
            cacheTimer.stop();
            cacheTimer = null;
        }
        pools.clear();
        supervisors.forEach(PhpFpmSupervisor::stop);
        supervisors.clear();
        deleteTemporaryRunDir();
        if (engine != null) {
            try {
                engine.close();
            } catch (Exception e) {
                LOG.warn("closing the file engine: {}", e.toString());
            }
        }
        return clean;
    }
}
