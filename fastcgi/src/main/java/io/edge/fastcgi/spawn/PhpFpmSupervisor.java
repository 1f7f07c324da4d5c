package io.edge.fastcgi.spawn;

import io.edge.fastcgi.BackendGroupSettings;
import java.io.File;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.RandomAccessFile;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one php-fpm master for a backend group, like lighttpd's {@code bin-path} and H2O's
 * {@code fastcgi.spawn}: edge writes the pool config, starts php-fpm, restarts it when it dies and stops it
 * on shutdown. The group then connects to {@link #socketAddress()}.
 *
 * <p>Files in {@code runDir} (created 0700 if missing): {@code php-fpm.conf} (written by {@link #start()}),
 * {@code php-fpm.sock}, {@code php-fpm.pid}, and {@code php-fpm.log}, which receives php-fpm's error log,
 * the workers' stdout/stderr ({@code catch_workers_output}) and anything the master prints itself. A failed
 * start quotes the tail of what that php-fpm wrote there (the log is appended to, so it may hold an earlier php-fpm's
 * lines: a previous run on the same run directory, a previous reload generation); it names the log only when the
 * run directory outlives edge (not {@link BackendGroupSettings.Spawn#runDirTemporary()}), as the message is read after
 * edge has stopped. The warnings and errors a php-fpm writes there as it starts are logged in edge's log too
 * ({@link StartupLog}).
 *
 * <p>Thread safety: all methods may be called from any thread, but {@link #start()}, {@link #stop()} and
 * {@link #reload()} block (start up to 10 s, or until a {@link #stop()} from another thread; stop up to 20 s):
 * never call them on an event loop.
 */
public final class PhpFpmSupervisor implements AutoCloseable {

    /** A spawned pool's status page ({@code pm.status_path}): a location with this {@code fastcgi-script} reads it. */
    public static final String STATUS_PATH = "/fpm-status";
    /** A spawned pool's ping ({@code ping.path}), answered "pong". */
    public static final String PING_PATH = "/fpm-ping";

    /*
     * States (all guarded by `lock`) and transitions:
     *
     *   NEW        -- start() -------------------------------------------> STARTING
     *   STARTING   -- socket accepts ------------------------------------> RUNNING
     *   STARTING   -- php-fpm exits or 10 s pass: start() throws --------> STOPPED
     *   STARTING   -- stop(): start() throws "stopped while starting" ---> STOPPED
     *   RUNNING    -- the current master exits --------------------------> RESTARTING (restart scheduled after backoff)
     *   RESTARTING -- relaunched master accepts -------------------------> RUNNING
     *   RESTARTING -- relaunch fails: kill it, schedule again (backoff) -> RESTARTING
     *   any        -- stop() --------------------------------------------> STOPPED (terminal)
     *
     * Backoff: 100 ms doubling to 5 s per consecutive failure; back to 100 ms once a master ran 10 s.
     *
     * A start or restart waits for the socket on `lock` (wait/notify), so stop() ends that wait at once, whatever
     * php-fpm does: edge's SIGTERM during a start must not wait out READY_TIMEOUT. A master that never accepted has
     * no request to finish, so stop() gives it SIGTERM (php-fpm's fast stop), not SIGQUIT's graceful one, and SIGKILL
     * after UNREADY_STOP_TIMEOUT; one that ran gets SIGQUIT and SIGKILL after STOP_TIMEOUT.
     *
     * Invariants: `process` is the only php-fpm master this object owns; it is non-null in RUNNING, and in
     * STARTING/RESTARTING once launched. Only the transition RUNNING -> RESTARTING schedules a restart,
     * and it is taken only by the exit of the current `process`, so a stopped master (state STOPPED) or a
     * replaced one never triggers a restart. STOPPED is terminal. A launch happens under `lock` after
     * checking the state, so stop() either sees the new process (and stops it) or the launch never happens.
     *
     * php-fpm runs in its own session and process group (`setsid`), whose id is the master's pid. A master
     * killed with SIGKILL leaves its workers behind, still listening on the socket, and a new master then
     * refuses to start ("Another FPM instance seems to already listen"). So before a restart and after a
     * stop the whole group gets SIGKILL. The group id could only be reused by another process calling
     * setsid()/setpgid() with a recycled pid, which we accept.
     *
     * php-fpm gets SIGTERM when edge dies without stopping it (SIGKILL, a crash: no shutdown hook runs), through
     * util-linux's `setpriv --pdeathsig` where present. That signal follows the thread that forked php-fpm, so
     * every launch runs on one `launcher` thread, which ends only after the last php-fpm is stopped for good.
     */

    private static final Logger LOG = LoggerFactory.getLogger(PhpFpmSupervisor.class);

    /** How long a freshly launched php-fpm has to accept on its socket. */
    static final Duration READY_TIMEOUT = Duration.ofSeconds(10);
    /** php-fpm's {@code process_control_timeout}: how long reload and graceful stop wait for requests. */
    static final int PROCESS_CONTROL_TIMEOUT_SECONDS = 10;
    /** Graceful stop waits this long before SIGKILL: the control timeout plus slack for the exit itself. */
    static final Duration STOP_TIMEOUT = Duration.ofSeconds(PROCESS_CONTROL_TIMEOUT_SECONDS + 5);
    /** A master stopped before it accepted gets SIGTERM, then SIGKILL after this: it has no request to finish. */
    static final Duration UNREADY_STOP_TIMEOUT = Duration.ofSeconds(2);
    static final long BACKOFF_INITIAL_MILLIS = 100;
    static final long BACKOFF_MAX_MILLIS = 5_000;
    /** A master that ran this long before dying counts as healthy: the restart backoff starts over. */
    static final Duration STABLE_RUN = Duration.ofSeconds(10);
    /** How often a running php-fpm's socket file is looked for ({@link #checkSocket}). */
    static final Duration SOCKET_CHECK = Duration.ofSeconds(5);

    private static final Pattern POOL_NAME = Pattern.compile("[A-Za-z0-9_.-]+");

    enum State { NEW, STARTING, RUNNING, RESTARTING, STOPPED }

    private final String groupName;
    private final BackendGroupSettings.Spawn spawn;
    private final List<String> adminValues;
    private final Path configFile;
    private final Path socketFile;
    private final Path pidFile;
    private final Path logFile;
    private final String setsid;
    /**
     * Sets php-fpm's parent-death signal (PR_SET_PDEATHSIG) before it runs; null where missing. Taken in the
     * constructor, so the one-time probe runs there, never under {@code lock} in a launch.
     */
    private final String setpriv;

    private final Object lock = new Object();
    private final Object stopLock = new Object();
    private final ScheduledExecutorService restarter;
    /** Looks in a row that found the socket file gone ({@link #checkSocket}, on the restarter's thread only). */
    private int socketMisses;
    /** Starts every php-fpm ({@link #onLauncher}); its thread ends only once php-fpm is stopped for good. */
    private final ExecutorService launcher;
    private final Thread shutdownHook;
    /** Whether {@link #shutdownHook} is registered while php-fpm runs. */
    private final boolean stopAtExit;

    /** {@link #hurry} was called: a stop is php-fpm's fast one. */
    private volatile boolean hurried;
    /** The php-fpm a {@link #stop} is signalling and waiting for, for {@link #hurry} to cut short. */
    private volatile Process stoppingProcess;

    // guarded by lock
    private State state = State.NEW;
    private Process process;
    private long processStartNanos;
    private long backoffMillis = BACKOFF_INITIAL_MILLIS;
    private int restarts;
    private boolean launchedAny; // the socket file is ours to remove only once we started a php-fpm on it
    private long logStart; // php-fpm.log's size when `process` was launched: where its lines begin

    /**
     * Checks the settings; starts nothing.
     *
     * @param groupName the backend group's name, also the php-fpm pool's name ({@code [A-Za-z0-9_.-]+})
     * @param spawn     binary, worker count, extra ini lines ({@code key = value}) and run directory
     * @throws IllegalArgumentException naming the setting, its value and what was expected
     */
    public PhpFpmSupervisor(String groupName, BackendGroupSettings.Spawn spawn) {
        this(groupName, spawn, true);
    }

    /**
     * As {@link #PhpFpmSupervisor(String, BackendGroupSettings.Spawn)}; with {@code stopAtExit} false no JVM
     * shutdown hook stops php-fpm: the owner stops it, in its own order. Edge does, after draining its clients:
     * the JVM runs its shutdown hooks at once, so a hook here would stop php-fpm as the drain began, and the
     * requests still waiting for a worker would find none.
     */
    public PhpFpmSupervisor(String groupName, BackendGroupSettings.Spawn spawn, boolean stopAtExit) {
        this.stopAtExit = stopAtExit;
        this.groupName = Objects.requireNonNull(groupName, "groupName");
        this.spawn = Objects.requireNonNull(spawn, "spawn");
        if (!POOL_NAME.matcher(groupName).matches()) {
            throw new IllegalArgumentException(
                    "group name: \"" + groupName + "\" (expected: letters, digits, '_', '.', '-' for a php-fpm pool name)");
        }
        if (spawn.workers() < 1) {
            throw new IllegalArgumentException("spawn.workers: " + spawn.workers() + " (expected: >= 1)");
        }
        Path runDir = spawn.runDir().toAbsolutePath().normalize();
        checkIniSafe("spawn.run-dir", runDir.toString());
        checkIniSafe("spawn.command", spawn.command().toString());
        this.adminValues = spawn.extraIni().stream().filter(line -> !line.isBlank()).map(PhpFpmSupervisor::adminValue).toList();
        this.configFile = runDir.resolve("php-fpm.conf");
        this.socketFile = runDir.resolve(BackendGroupSettings.Spawn.SOCKET_NAME);
        this.pidFile = runDir.resolve("php-fpm.pid");
        this.logFile = runDir.resolve("php-fpm.log");
        int socketPathBytes = BackendGroupSettings.Spawn.socketPathBytes(socketFile);
        if (socketPathBytes > BackendGroupSettings.Spawn.MAX_SOCKET_PATH_BYTES) {
            throw new IllegalArgumentException("server.run-dir: socket path " + socketFile + " is " + socketPathBytes
                    + " bytes (expected: <= " + BackendGroupSettings.Spawn.MAX_SOCKET_PATH_BYTES
                    + ", the Unix socket path limit)");
        }
        this.setsid = findTool("setsid");
        this.setpriv = Pdeathsig.SETPRIV;
        this.launcher = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "php-fpm-" + groupName + "-launcher");
            t.setDaemon(true);
            return t;
        });
        this.restarter = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "php-fpm-" + groupName + "-supervisor");
            t.setDaemon(true);
            return t;
        });
        this.shutdownHook = new Thread(this::stop, "php-fpm-" + groupName + "-shutdown");
    }

    /** {@code "unix:<runDir>/php-fpm.sock"}, in the form {@link BackendGroupSettings#addresses()} takes. */
    public String socketAddress() {
        return "unix:" + socketFile;
    }

    /** The group this php-fpm serves. */
    public String groupName() {
        return groupName;
    }

    /** The socket php-fpm listens on. */
    public Path socketPath() {
        return socketFile;
    }

    /** php-fpm's own log, the first place to look when it misbehaves. */
    public Path logPath() {
        return logFile;
    }

    /**
     * Creates the run directory, writes {@code php-fpm.conf}, starts php-fpm and returns once its socket accepts
     * a connection. From then on php-fpm is restarted (with backoff) whenever it exits, until {@link #stop()}.
     * May be called once.
     *
     * @throws IOException if php-fpm exits or does not accept within 10 s; the message carries the tail of its
     *                     log (and names the log, unless the run directory is temporary). The supervisor is then
     *                     stopped. Also if {@link #stop()} is called meanwhile, which ends the wait at once: the
     *                     message then says php-fpm "was stopped while starting", and once it is thrown the php-fpm
     *                     this start launched is gone.
     * @throws IllegalStateException if called twice or after {@link #stop()}
     */
    public void start() throws IOException {
        Process launched;
        synchronized (lock) {
            if (state != State.NEW) {
                throw new IllegalStateException("php-fpm for group " + groupName + " is " + state + ", not NEW");
            }
            state = State.STARTING;
        }
        try {
            makeRunDir();
            refuseForeignListener(); // before touching its config
            Files.writeString(configFile, config(runningAsRoot()));
            Files.deleteIfExists(socketFile); // stale, nobody accepts on it
            launched = onLauncher(() -> {
                synchronized (lock) {
                    if (state != State.STARTING) {
                        throw stoppedWhileStarting();
                    }
                    return launch();
                }
            });
            awaitReady(launched);
        } catch (IOException | RuntimeException e) {
            stop();
            throw e;
        }
        synchronized (lock) {
            if (state != State.STARTING) {
                throw stoppedWhileStarting();
            }
            state = State.RUNNING;
        }
        if (stopAtExit) {
            Runtime.getRuntime().addShutdownHook(shutdownHook);
        }
        launched.onExit().thenAccept(this::exited);
        relayStartupLog(launched);
        try {
            restarter.scheduleWithFixedDelay(this::checkSocket, SOCKET_CHECK.toMillis(), SOCKET_CHECK.toMillis(),
                    TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException stopped) {
            // stop() ran meanwhile: nothing to watch
        }
        LOG.info("php-fpm for group {} ready: pid {}, {} workers, socket {}", groupName, launched.pid(), spawn.workers(), socketFile);
        String account = accountWarning(groupName, spawn, runningAsRoot());
        if (account != null) {
            LOG.warn("{}", account);
        }
    }

    /**
     * What to warn of about the account PHP runs as, for a server running as root ({@code asRoot}) or not: PHP as root,
     * or a spawn.user not applied; null when neither. Said at the start, and by {@code --check-config}.
     */
    public static String accountWarning(String groupName, BackendGroupSettings.Spawn spawn, boolean asRoot) {
        if (asRoot && spawn.user() == null) {
            return "php-fpm for group " + groupName + " runs PHP as root, as edge runs: set fastcgi.backends."
                    + groupName + ".spawn.user (such as www-data, who must be able to read the scripts)";
        }
        if (!asRoot && spawn.user() != null) {
            return "php-fpm for group " + groupName + ": spawn.user " + spawn.user() + " is not applied, edge does not"
                    + " run as root: PHP runs as edge";
        }
        return null;
    }

    /**
     * Gracefully reloads php-fpm (SIGUSR2): the master re-executes itself with the same pid and socket, new
     * workers read the config and php.ini again, old ones get up to {@code process_control_timeout} (10 s) to
     * finish their requests. Connections made meanwhile wait in the socket's backlog.
     *
     * @throws IllegalStateException if php-fpm is not running (not started, restarting or stopped)
     */
    public void reload() throws IOException {
        long pid = runningPid();
        if (pid < 0) {
            throw new IllegalStateException("php-fpm for group " + groupName + " is " + state() + ", not RUNNING");
        }
        LOG.info("php-fpm for group {}: reloading (SIGUSR2 to pid {})", groupName, pid);
        signal("-USR2", Long.toString(pid));
    }

    /**
     * The master's pid while it runs (accepting), -1 otherwise (starting, restarting, stopped): what a signal of
     * php-fpm's own (kill(1) sends what the JDK cannot) goes to. By its id: the master it names exits only by a stop
     * or its own death, which the supervisor sees, so the id is not another process's in this moment.
     */
    private long runningPid() {
        synchronized (lock) {
            return state == State.RUNNING ? process.pid() : -1;
        }
    }

    /**
     * Has php-fpm reopen its log, php-fpm.log (SIGUSR1, its own signal for that), after a logrotate renamed it. Returns
     * false when no php-fpm runs (starting, restarting or stopped), which is then not signalled.
     */
    public boolean reopenLog() throws IOException {
        long pid = runningPid();
        if (pid < 0) {
            return false;
        }
        signal("-USR1", Long.toString(pid));
        return true;
    }

    /**
     * Stops php-fpm gracefully: SIGQUIT lets every worker finish its request (up to
     * {@code process_control_timeout}); after {@link #STOP_TIMEOUT} it is killed. A php-fpm still starting (not yet
     * accepting) has none to finish: it gets SIGTERM and SIGKILL after {@link #UNREADY_STOP_TIMEOUT}, and the
     * {@link #start()} waiting for it fails at once. Also kills any worker left over, removes the socket file, and
     * ends supervision for good. Idempotent; returns once php-fpm is gone.
     */
    public void stop() {
        synchronized (stopLock) {
            Process stopping;
            boolean ready;
            boolean ownsSocket;
            synchronized (lock) {
                if (state == State.STOPPED) {
                    return;
                }
                ready = state == State.RUNNING;
                state = State.STOPPED;
                lock.notifyAll(); // a start waiting for the socket gives up now (awaitReady)
                stopping = process;
                process = null;
                ownsSocket = launchedAny;
            }
            restarter.shutdownNow(); // interrupts a restart waiting for readiness; its process is `stopping`
            if (stopping != null) {
                stopProcess(stopping, ready);
            }
            // Only now, php-fpm gone: the launcher's thread ending sends it its death signal. A launch not begun is
            // cancelled, for start() to see.
            launcher.shutdownNow().forEach(task -> {
                if (task instanceof Future<?> queued) {
                    queued.cancel(false);
                }
            });
            try {
                if (ownsSocket) {
                    Files.deleteIfExists(socketFile);
                }
            } catch (IOException e) {
                LOG.warn("php-fpm for group {}: cannot remove {}: {}", groupName, socketFile, e.toString());
            }
            try {
                if (stopAtExit) {
                    Runtime.getRuntime().removeShutdownHook(shutdownHook);
                }
            } catch (IllegalStateException shuttingDown) {
                // the JVM is exiting: this may be the hook itself
            }
        }
    }

    /** Same as {@link #stop()}. */
    @Override
    public void close() {
        stop();
    }

    /** The current master's pid, if one is running or starting. */
    OptionalLong pid() {
        synchronized (lock) {
            return process == null ? OptionalLong.empty() : OptionalLong.of(process.pid());
        }
    }

    State state() {
        synchronized (lock) {
            return state;
        }
    }

    /** Restarts that reached a ready php-fpm. */
    int restarts() {
        synchronized (lock) {
            return restarts;
        }
    }

    /**
     * The pool config. {@code asRoot}: the workers run as the spawn's user and group, or, with none, as root (a
     * reminder says so).
     */
    String config(boolean asRoot) {
        Path runDir = configFile.getParent();
        StringBuilder sb = new StringBuilder();
        sb.append("; written by edge for backend group ").append(groupName).append(": edits are overwritten\n");
        sb.append("[global]\n");
        sb.append("pid = \"").append(pidFile).append("\"\n");
        // A file, not /proc/self/fd/2: php-fpm reopens its error_log on SIGUSR1 and re-execs on SIGUSR2, and a
        // file stays valid across both whatever edge's own stderr is.
        sb.append("error_log = \"").append(logFile).append("\"\n");
        sb.append("daemonize = no\n");
        sb.append("process_control_timeout = ").append(PROCESS_CONTROL_TIMEOUT_SECONDS).append('\n');
        sb.append('\n');
        sb.append('[').append(groupName).append("]\n");
        if (asRoot && spawn.user() != null) {
            // Quoted: unquoted, php's INI parser reads yes, on, true as "1" (uid 1) and none, no, off as "".
            sb.append("user = \"").append(spawn.user()).append("\"\n");
            if (spawn.group() != null) {
                sb.append("group = \"").append(spawn.group()).append("\"\n");
            }
        } else if (asRoot) {
            sb.append("; edge runs as root: php-fpm is started with -R and, without a 'user', its workers run as root\n");
        }
        sb.append("listen = \"").append(socketFile).append("\"\n");
        // Only edge connects, and it runs as the socket's owner; the run directory is 0700 when edge creates it.
        sb.append("listen.mode = 0600\n");
        // edge holds at most pm.max_children connections, so the backlog only absorbs connects made while the
        // master re-execs on reload. 511 is nginx's default and Linux's SOMAXCONN before 5.4.
        sb.append("listen.backlog = 511\n");
        sb.append("pm = static\n");
        sb.append("pm.max_children = ").append(spawn.workers()).append('\n');
        Duration terminate = spawn.requestTerminateTimeout();
        // whole seconds, rounded up: "0.5 ms" was 0, php-fpm's "none"
        long seconds = terminate.getSeconds() + (terminate.getNano() > 0 ? 1 : 0);
        // php-fpm reads it into an int: a longer one (a read timeout of decades) would wrap to a few seconds
        if (seconds > 0 && seconds <= Integer.MAX_VALUE) {
            // php-fpm does not stop a script when edge closes its connection (a read timeout, a client gone): the
            // worker stays busy, and edge counts its slot as taken for the read timeout after closing. This kills
            // a hung script about then (php-fpm counts from the request's start), so the worker is free by then.
            sb.append("request_terminate_timeout = ").append(seconds).append("s\n");
        }
        // php-fpm's own status page and ping, for monitoring: reached only through a location's fastcgi-script, since
        // edge names no other script that is not an existing .php file (and php-fpm matches them on SCRIPT_NAME)
        sb.append("pm.status_path = ").append(STATUS_PATH).append('\n');
        sb.append("ping.path = ").append(PING_PATH).append('\n');
        sb.append("catch_workers_output = yes\n");
        sb.append("decorate_workers_output = no\n");
        // php-fpm's default, spelled out: scripts get the FastCGI params, not edge's environment (which may
        // hold credentials). Use extraIni / fastcgi params for what PHP needs.
        sb.append("clear_env = yes\n");
        for (String adminValue : adminValues) {
            sb.append(adminValue).append('\n');
        }
        if (spawn.maxBody() >= 0) {
            // PHP takes the bodies edge takes: with its defaults (post_max_size 8M, upload_max_filesize 2M) a larger
            // upload edge passed on reached the script as an empty form. php_value, not php_admin_value: an
            // application's .user.ini may still lower them. 0 is no limit to both, as to edge.
            for (String key : BODY_LIMIT_KEYS) {
                if (spawn.extraIni().stream().map(BackendGroupSettings.Spawn::iniKey).noneMatch(key::equals)) {
                    sb.append("php_value[").append(key).append("] = ").append(spawn.maxBody()).append('\n');
                }
            }
        }
        return sb.toString();
    }

    /**
     * PHP's limits of a request body, which follow edge's unless {@code spawn.ini} sets them
     * ({@link BackendGroupSettings.Spawn#maxBody}).
     */
    private static final List<String> BODY_LIMIT_KEYS = List.of("post_max_size", "upload_max_filesize");

    /** {@code "key = value"} -> {@code "php_admin_value[key] = value"}. */
    static String adminValue(String line) {
        String problem = BackendGroupSettings.Spawn.iniLineProblem(line);
        if (problem != null) {
            throw new IllegalArgumentException("spawn.extra-ini: \"" + line + "\" " + problem
                    + " (expected: key = value, the key of [A-Za-z0-9_.], the value on one line)");
        }
        return "php_admin_value[" + BackendGroupSettings.Spawn.iniKey(line) + "] = "
                + line.substring(line.indexOf('=') + 1).strip();
    }

    private static void checkIniSafe(String setting, String path) {
        String problem = BackendGroupSettings.Spawn.iniPathProblem(path);
        if (problem != null) {
            throw new IllegalArgumentException(setting + ": \"" + path + "\" " + problem
                    + " (expected: " + BackendGroupSettings.Spawn.INI_PATH_EXPECTED + ")");
        }
    }

    /** util-linux's {@code setpriv} if it takes {@code --pdeathsig} (2.33 and later), asked once; else null. */
    private static final class Pdeathsig {
        static final String SETPRIV = probe();

        private static String probe() {
            String setpriv = findTool("setpriv");
            String noop = findTool("true");
            String missing = setpriv == null ? "no setpriv(1)" : noop == null ? "no true(1) to try setpriv with" : null;
            if (missing == null) {
                try {
                    Process probe = new ProcessBuilder(setpriv, "--pdeathsig", "TERM", noop)
                            .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
                    if (!probe.waitFor(10, TimeUnit.SECONDS)) {
                        probe.destroyForcibly();
                        missing = setpriv + " --pdeathsig did not answer";
                    } else if (probe.exitValue() != 0) {
                        missing = setpriv + " does not take --pdeathsig (util-linux before 2.33)";
                    }
                } catch (IOException e) {
                    missing = setpriv + ": " + e.getMessage();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    missing = "interrupted while trying " + setpriv;
                }
            }
            if (missing != null) {
                LOG.warn("php-fpm: {}; a php-fpm edge spawns outlives edge if edge is killed (SIGKILL, a crash)", missing);
                return null;
            }
            return setpriv;
        }
    }

    /** The path of a system tool ({@code setsid}, {@code setpriv}) in /usr/bin or /bin, or null. */
    static String findTool(String name) {
        for (String candidate : List.of("/usr/bin/" + name, "/bin/" + name)) {
            if (Files.isExecutable(Path.of(candidate))) {
                return candidate;
            }
        }
        return null;
    }

    /** Whether this process runs as root: only then is a spawn's user and group applied. */
    public static boolean runningAsRoot() {
        try {
            return ((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")) == 0;
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return "root".equals(System.getProperty("user.name"));
        }
    }

    /**
     * Runs {@code launch} on the launcher thread, where every php-fpm is started: php-fpm's death signal
     * ({@link #setpriv}) follows the thread that started it, which lives until php-fpm is stopped for good.
     */
    private Process onLauncher(Callable<Process> launch) throws IOException {
        Future<Process> launched;
        try {
            launched = launcher.submit(launch);
        } catch (RejectedExecutionException e) {
            throw stoppedWhileStarting();
        }
        try {
            return launched.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while starting php-fpm for group " + groupName, e);
        } catch (CancellationException e) {
            throw stoppedWhileStarting();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            if (e.getCause() instanceof RuntimeException runtime) {
                throw runtime;
            }
            throw new IOException("starting php-fpm for group " + groupName, e.getCause());
        }
    }

    /** What a start that a stop overtook fails with. */
    private IOException stoppedWhileStarting() {
        return new IOException("php-fpm for group " + groupName + " was stopped while starting");
    }

    // Called with `lock` held, so that stop() sees every process we start, and on the launcher thread.
    private Process launch() throws IOException {
        List<String> command = new ArrayList<>();
        if (setsid != null) {
            command.add(setsid); // not a group leader (Java does not setpgid), so setsid execs without forking
        }
        if (setpriv != null) {
            // SIGTERM (a fast stop: its workers go too) when the thread that started it dies, as all of edge's
            // threads do on SIGKILL or a crash: no php-fpm is left behind holding its workers and socket.
            command.addAll(List.of(setpriv, "--pdeathsig", "TERM"));
        }
        command.add(spawn.command().toString());
        if (runningAsRoot() && spawn.user() == null) {
            command.add("-R"); // php-fpm refuses to run a pool as root without it
        }
        command.addAll(List.of("-F", "-y", configFile.toString()));
        ProcessBuilder builder = new ProcessBuilder(command)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()));
        // php-fpm is built with systemd support: under a Type=notify unit it would report readiness as edge.
        builder.environment().remove("NOTIFY_SOCKET");
        if (setsid == null) {
            LOG.warn("php-fpm for group {}: no setsid(1); workers orphaned by a crashed master may block restarts", groupName);
        }
        logStart = logSize(); // what is in the log already was written by an earlier php-fpm
        Process launched = builder.start();
        launchedAny = true;
        process = launched;
        processStartNanos = System.nanoTime();
        return launched;
    }

    /**
     * Returns once {@code launched} accepts on the socket. Throws if it exits, if {@link #READY_TIMEOUT} passes, or
     * as {@link #stoppedWhileStarting()} as soon as {@link #stop()} is called.
     */
    private void awaitReady(Process launched) throws IOException {
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        long pauseMillis = 5;
        while (true) {
            // Asked before the state: a php-fpm that stop() killed is then reported as stopped, not as exited.
            boolean alive = launched.isAlive();
            synchronized (lock) {
                if (state == State.STOPPED) {
                    throw stoppedWhileStarting();
                }
            }
            if (!alive) {
                throw new IOException("php-fpm for group " + groupName + " exited with status " + launched.exitValue()
                        + " before accepting on " + socketFile + "; " + logEnding());
            }
            if (Files.exists(socketFile) && accepts()) {
                return;
            }
            if (System.nanoTime() - deadline >= 0) {
                throw new IOException("php-fpm for group " + groupName + " (pid " + launched.pid() + ") did not accept on "
                        + socketFile + " within " + READY_TIMEOUT.toSeconds() + " s; " + logEnding());
            }
            try {
                synchronized (lock) {
                    if (state != State.STOPPED) {
                        lock.wait(pauseMillis); // stop() wakes it; a supervisor or caller thread, never an event loop
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while waiting for php-fpm of group " + groupName);
            }
            pauseMillis = Math.min(pauseMillis * 2, 100);
        }
    }

    private boolean accepts() {
        try (SocketChannel probe = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            probe.connect(UnixDomainSocketAddress.of(socketFile));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** SIGKILL is delivered asynchronously: wait (bounded) until no killed worker accepts on the socket. */
    private void awaitSocketReleased() throws IOException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (Files.exists(socketFile) && accepts() && System.nanoTime() - deadline < 0) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while waiting for old php-fpm workers of group " + groupName);
            }
        }
    }

    /** A php-fpm we do not own (an earlier edge killed with SIGKILL?) still serves our socket: refuse to guess. */
    private void refuseForeignListener() throws IOException {
        if (Files.exists(socketFile) && accepts()) {
            throw new IOException("another process accepts on " + socketFile + " (a php-fpm left over by an earlier edge?"
                    + " its pid may be in " + pidFile + "); stop it before starting group " + groupName);
        }
    }

    /** Creates the run directory, 0700, if it is not there. */
    private void makeRunDir() throws IOException {
        Path runDir = configFile.getParent();
        if (!Files.isDirectory(runDir)) {
            Files.createDirectories(runDir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        }
    }

    /**
     * Restarts a running php-fpm whose socket file is gone: nothing could connect to it again (a temporary-file cleaner
     * that removed the run directory, an operator's rm), and a php-fpm that lives on is never restarted for dying. Its
     * run directory and config are made again by the restart, once the old master has ended gracefully (its requests
     * in flight finish; ending, it unlinks its socket's path, which must not be the new master's yet). On the
     * supervisor's thread, every {@link #SOCKET_CHECK}; gone at two looks in a row, and only when the file system
     * says so (a look that fails otherwise, a hung NFS mount's, a permission, tells nothing). The look is not made
     * under {@code lock}, which a stop and the signals' handling take.
     */
    private void checkSocket() {
        synchronized (lock) {
            if (state != State.RUNNING) {
                socketMisses = 0;
                return;
            }
        }
        boolean gone;
        try {
            Files.readAttributes(socketFile, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            gone = false;
        } catch (NoSuchFileException missing) {
            gone = true;
        } catch (IOException cannotTell) {
            gone = false;
        }
        socketMisses = gone ? socketMisses + 1 : 0;
        if (socketMisses < 2) {
            return;
        }
        socketMisses = 0;
        Process running;
        synchronized (lock) {
            if (state != State.RUNNING) {
                return;
            }
            state = State.RESTARTING;
            running = process;
        }
        LOG.warn("php-fpm for group {} (pid {}): its socket {} is gone (a temporary-file cleaner, or rm?), so nothing "
                + "connects to it; restarting it", groupName, running.pid(), socketFile);
        schedule(0);
    }

    private void exited(Process exited) {
        long delay;
        synchronized (lock) {
            if (state != State.RUNNING || process != exited) {
                return; // stopped, or an old master
            }
            state = State.RESTARTING;
            delay = nextBackoff();
        }
        LOG.warn("php-fpm for group {} (pid {}) exited with status {}; restarting in {} ms. {} ends with:\n{}",
                groupName, exited.pid(), exited.exitValue(), delay, logFile, logTail());
        schedule(delay);
    }

    // With `lock` held.
    private long nextBackoff() {
        if (System.nanoTime() - processStartNanos >= STABLE_RUN.toNanos()) {
            backoffMillis = BACKOFF_INITIAL_MILLIS;
        }
        long delay = backoffMillis;
        backoffMillis = Math.min(backoffMillis * 2, BACKOFF_MAX_MILLIS);
        return delay;
    }

    private void schedule(long delayMillis) {
        try {
            restarter.schedule(this::restart, delayMillis, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException stopped) {
            // stop() shut the executor down: nothing to restart
        }
    }

    private void restart() {
        Process old;
        Process launched;
        try {
            synchronized (lock) {
                if (state != State.RESTARTING) {
                    return;
                }
                old = process;
            }
            if (old != null) {
                if (old.isAlive()) {
                    stopProcess(old, true); // its socket lost (checkSocket): gracefully, killed past STOP_TIMEOUT
                } else {
                    killGroup(old.pid()); // its orphaned workers
                }
                awaitSocketReleased();
            }
            refuseForeignListener();
            makeRunDir(); // removed with the socket in it (checkSocket)
            if (!Files.exists(configFile)) {
                Files.writeString(configFile, config(runningAsRoot()));
            }
            Files.deleteIfExists(socketFile);
            launched = onLauncher(() -> {
                synchronized (lock) {
                    return state == State.RESTARTING ? launch() : null;
                }
            });
            if (launched == null) {
                return;
            }
            awaitReady(launched);
        } catch (IOException | RuntimeException e) {
            long delay;
            Process failed;
            synchronized (lock) {
                if (state != State.RESTARTING) {
                    return; // stop() interrupted us and owns the process
                }
                failed = process;
                delay = nextBackoff();
            }
            if (failed != null) {
                failed.destroyForcibly();
                killGroup(failed.pid());
            }
            LOG.warn("php-fpm for group {}: restart failed, next try in {} ms: {}", groupName, delay, e.getMessage());
            schedule(delay);
            return;
        }
        synchronized (lock) {
            if (state != State.RESTARTING) {
                return;
            }
            state = State.RUNNING;
            restarts++;
        }
        launched.onExit().thenAccept(this::exited);
        relayStartupLog(launched);
        LOG.info("php-fpm for group {} restarted: pid {}, socket {}", groupName, launched.pid(), socketFile);
    }

    /**
     * Logs, at WARN, the warnings and errors {@code launched} wrote to php-fpm.log as it started ({@link StartupLog}),
     * which an operator reading only edge's log would otherwise miss: read on the supervisor's thread every
     * {@link StartupLog#POLL} until {@link StartupLog#SETTLE} after its socket accepted, while it is the php-fpm run.
     */
    private void relayStartupLog(Process launched) {
        long start;
        synchronized (lock) {
            start = logStart;
        }
        StartupLog startup = new StartupLog(groupName, logFile, start, line -> LOG.warn("{}", line));
        long deadline = System.nanoTime() + StartupLog.SETTLE.toNanos();
        pollStartupLog(launched, startup, deadline, 0);
    }

    private void pollStartupLog(Process launched, StartupLog startup, long deadline, long delayMillis) {
        try {
            restarter.schedule(() -> {
                synchronized (lock) {
                    if (process != launched || state == State.STOPPED) {
                        return; // restarted or stopped: its lines are no longer news
                    }
                }
                if (startup.poll(System.nanoTime() - deadline >= 0)) {
                    pollStartupLog(launched, startup, deadline, StartupLog.POLL.toMillis());
                }
            }, delayMillis, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException stopped) {
            // stop() shut the executor down
        }
    }

    /**
     * Makes a stop php-fpm's fast one from now on: SIGTERM, which ends the scripts still running rather than wait for
     * them (up to {@code process_control_timeout}); a php-fpm being stopped gracefully now gets it too. For an
     * operator's second signal, which cuts edge's own drain short. Does not wait.
     */
    public void hurry() {
        hurried = true;
        Process quitting = stoppingProcess; // read after the write above; stopProcess writes, then reads `hurried`
        if (quitting != null && quitting.isAlive()) {
            // SIGTERM through the Process, which knows whether it was reaped: never a pid another process has since
            quitting.destroy();
            LOG.info("php-fpm for group {} (pid {}): SIGTERM, its scripts still running end now", groupName,
                    quitting.pid());
        }
    }

    /**
     * Stops {@code stopping}, then kills what is left of its process group. {@code ready}: it accepted, so it gets
     * SIGQUIT, which lets every worker finish its request, and SIGKILL after {@link #STOP_TIMEOUT}. Else it never
     * served a request, or the stop is {@link #hurry hurried}: SIGTERM, and SIGKILL after
     * {@link #UNREADY_STOP_TIMEOUT}.
     */
    private void stopProcess(Process stopping, boolean ready) {
        long pid = stopping.pid();
        stoppingProcess = stopping;
        boolean graceful = ready && !hurried; // a hurry() from here on signals it itself
        String signal = graceful ? "QUIT" : "TERM";
        Duration patience = graceful ? STOP_TIMEOUT : UNREADY_STOP_TIMEOUT;
        try {
            if (stopping.isAlive()) {
                signal("-" + signal, Long.toString(pid));
                if (!stopping.waitFor(patience.toMillis(), TimeUnit.MILLISECONDS)) {
                    LOG.warn("php-fpm for group {} (pid {}) still running {} s after SIG{}: killing it",
                            groupName, pid, patience.toSeconds(), signal);
                    stopping.destroyForcibly();
                    stopping.waitFor(5, TimeUnit.SECONDS);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stopping.destroyForcibly();
        } catch (IOException e) {
            LOG.warn("php-fpm for group {}: SIG{} to pid {} failed ({}): killing it", groupName, signal, pid, e.toString());
            stopping.destroyForcibly();
        }
        stoppingProcess = null;
        killGroup(pid);
        LOG.info("php-fpm for group {} (pid {}) stopped", groupName, pid);
    }

    /** SIGKILL to whatever is left of the master's process group (its orphaned workers). */
    private void killGroup(long masterPid) {
        if (setsid == null) {
            return;
        }
        try {
            signal("-KILL", "-" + masterPid);
        } catch (SignalRefused e) {
            LOG.debug("php-fpm for group {}: no process group {} left: {}", groupName, masterPid, e.getMessage());
        } catch (InterruptedIOException e) {
            // a stop interrupted the restart that was killing it: kill(1) ran, and the stop kills the group itself
            LOG.debug("php-fpm for group {}: interrupted killing process group {}", groupName, masterPid);
        } catch (IOException e) {
            // kill(1) did not run (no descriptor or process left to start it with) or did not finish: the workers may
            // live on, holding the socket, and a restart then finds them accepting there
            LOG.warn("php-fpm for group {}: could not kill what is left of its process group {}: {}; its workers may "
                    + "still accept on {}", groupName, masterPid, e.getMessage(), socketFile);
        }
    }

    /** kill(1) ran and refused (no such process group: it is empty already). */
    private static final class SignalRefused extends IOException {
        SignalRefused(String message) {
            super(message);
        }
    }

    /** Java can send only SIGTERM and SIGKILL to a process, so kill(1) sends the others. */
    private static void signal(String signal, String target) throws IOException {
        Process kill = new ProcessBuilder("kill", signal, "--", target)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
        try {
            if (!kill.waitFor(5, TimeUnit.SECONDS)) {
                kill.destroyForcibly();
                throw new IOException("kill " + signal + " " + target + " did not finish");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while sending " + signal + " to " + target);
        }
        if (kill.exitValue() != 0) {
            throw new SignalRefused("kill " + signal + " " + target + " exited with status " + kill.exitValue());
        }
    }

    /**
     * The tail of php-fpm.log for a failed start, which is read once edge has stopped: a temporary run directory
     * is gone by then, so the log is named only where it stays.
     */
    private String logEnding() {
        String log = spawn.runDirTemporary() ? "its log (in the temporary run directory, removed when edge stops; set"
                + " server.run-dir to keep it)" : logFile.toString();
        String tail = logTail();
        return tail.isEmpty() ? "it wrote nothing to " + log : log + " ends with:\n" + tail;
    }

    /** php-fpm.log's size now; 0 while there is none. */
    private long logSize() {
        try {
            return Files.size(logFile);
        } catch (IOException e) {
            return 0;
        }
    }

    /**
     * The last lines, at most 4 KiB, that the current (or last) master wrote to php-fpm.log: what was there before it
     * was launched is left out. A log now shorter than it was then (truncated, or rotated and reopened) is all its own.
     */
    String logTail() {
        long start;
        synchronized (lock) {
            start = logStart;
        }
        try (RandomAccessFile log = new RandomAccessFile(logFile.toFile(), "r")) {
            long length = log.length();
            long from = length < start ? 0 : start;
            int size = (int) Math.min(length - from, 4096);
            byte[] tail = new byte[size];
            log.seek(length - size);
            log.readFully(tail);
            String text = new String(tail, StandardCharsets.UTF_8);
            return length - size > from ? "..." + text.substring(Math.max(0, text.indexOf('\n') + 1)) : text;
        } catch (IOException e) {
            return "(cannot read " + logFile + ": " + e + ")";
        }
    }
}
