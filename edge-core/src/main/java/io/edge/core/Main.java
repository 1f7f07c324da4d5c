package io.edge.core;

import io.edge.conf.ConfigException;
import io.edge.conf.ConfigLoader;
import io.edge.conf.EdgeSettings;
import io.edge.core.http.ServerField;
import io.edge.core.route.Router;
import io.edge.fastcgi.spawn.PhpFpmSupervisor;
import java.io.IOException;
import java.net.BindException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code edge [-c FILE] [--check-config | -s SIGNAL]}. Exit codes: 0 after a clean shutdown, a valid
 * {@code --check-config} (which prints what a start would warn of too) or a signal sent; 2 for a bad configuration
 * (every problem printed, one per line); 1 when the server could not start (a port in use, say) or the signal could
 * not be sent.
 */
@Command(name = "edge", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "HTTP edge server: static files and FastCGI backends with a bounded wait queue.")
public final class Main implements Callable<Integer> {

    static final int EXIT_BAD_CONFIG = 2;

    @Option(names = {"-c", "--config"}, paramLabel = "FILE", description = "configuration file (default: ${DEFAULT-VALUE})")
    Path config = Path.of("edge.conf");

    @Option(names = "--check-config", description = "validate the configuration, print the result and exit")
    boolean checkConfig;

    @Option(names = {"-s", "--signal"}, paramLabel = "SIGNAL", description = "signal the server running on this"
            + " configuration (its server.pid-file), as nginx -s: ${COMPLETION-CANDIDATES}")
    ServerSignal signal;

    /** {@code edge --version}: "edge" and the build's version, which no annotation can hold as a constant. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"edge " + ServerField.VERSION};
        }
    }

    /** What {@code -s} asks of a running server, and the signal that asks it. */
    enum ServerSignal {
        /** Reload the configuration file (and reopen the access log). */
        reload("HUP"),
        /** Reopen the access log. */
        reopen("USR1"),
        /** A drained stop. */
        quit("TERM"),
        /** As {@link #quit}; sent while edge drains, it closes the connections still open at once. */
        stop("TERM");

        final String signal;

        ServerSignal(String signal) {
            this.signal = signal;
        }
    }

    /**
     * SIGHUP and SIGUSR1 that came before the server ran (while the configuration loaded, or the server started): acted
     * on once it runs. Without a handler of edge's this early the JVM's defaults would end the process. Guarded by
     * {@link #SIGNALS}, with {@link #running}.
     */
    private static boolean earlyHup;
    private static boolean earlyUsr1;
    private static boolean running;
    private static final Object SIGNALS = new Object();

    public static void main(String[] args) {
        if (runsServer(args)) {
            // While the configuration loads (a url include may take its time): a stop then is a success too, status
            // 0 as the drained stop's, not the JVM's 143 (a systemd unit counts that as a failure). run() replaces it.
            for (String name : new String[] {"TERM", "INT"}) {
                Signals.handle(name, () -> new Thread(() -> System.exit(0), "edge-exit").start());
            }
            Signals.handle("HUP", () -> whenRunning(() -> earlyHup = true, null));
            Signals.handle("USR1", () -> whenRunning(() -> earlyUsr1 = true, null));
            if (usr2IsFree()) {
                Signals.handle("USR2", () -> whenRunning(() -> earlyHup = true, null));
            }
        }
        int code = new CommandLine(new Main()).execute(args);
        if (code != 0 || !runsServer(args)) {
            System.exit(code);
        }
    }

    /**
     * Whether edge may take SIGUSR2, which then reloads as SIGHUP does (HAProxy's master reloads on it; an nginx
     * operator sends it for a binary upgrade, which a reload is the nearest thing to here). HotSpot suspends and
     * resumes threads with SIGUSR2 unless {@code _JAVA_SR_SIGNUM} names another signal, and one sent from outside then
     * crashes the JVM: bin/edge names another. Started otherwise, SIGUSR2 stays the JVM's.
     */
    private static boolean usr2IsFree() {
        String signal = System.getenv("_JAVA_SR_SIGNUM");
        try {
            // HotSpot takes a signal above SIGSEGV/SIGBUS and below NSIG (65) and keeps SIGUSR2 (12) otherwise
            int number = signal == null ? 12 : Integer.parseInt(signal.strip());
            return number > 12 && number < 65;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    private static boolean runsServer(String[] args) {
        for (String arg : args) {
            if (arg.equals("--check-config") || arg.equals("-h") || arg.equals("--help") || arg.equals("-V")
                    || arg.equals("--version") || arg.startsWith("-s") || arg.startsWith("--signal")) {
                return false;
            }
        }
        return true;
    }

    @Override
    public Integer call() throws Exception {
        if (checkConfig && signal != null) {
            System.err.println("edge: --check-config and -s " + signal + " cannot be asked together");
            return EXIT_BAD_CONFIG;
        }
        EdgeSettings settings;
        try {
            settings = (checkConfig || signal != null ? ConfigLoader.checkOnly() : new ConfigLoader()).load(config);
        } catch (ConfigException e) {
            System.err.println(e.getMessage());
            e.warnings().forEach(warning -> System.err.println("warning: " + warning));
            if (signal != null) {
                // a reload of this file would fail as well; the running server is left as it is
                System.err.println("edge: no signal sent (" + signal + "): the configuration has problems");
            }
            return EXIT_BAD_CONFIG;
        }
        if (checkConfig) {
            // what a start would warn of, as nginx -t does: the configuration is still ok
            settings.warnings().forEach(warning -> System.err.println("warning: " + warning));
            new Router(settings.sites(), settings.defaultSite()).conflicts()
                    .forEach(conflict -> System.err.println("warning: " + conflict));
            settings.backends().values().stream().filter(group -> group.spawn() != null)
                    .map(group -> PhpFpmSupervisor.accountWarning(group.name(), group.spawn(),
                            PhpFpmSupervisor.runningAsRoot()))
                    .filter(Objects::nonNull).forEach(warning -> System.err.println("warning: " + warning));
            System.out.println("configuration ok");
            return 0;
        }
        if (signal != null) {
            return send(signal, settings.server().pidFile());
        }
        return run(settings, config);
    }

    /**
     * {@code -s}: sends the server named by {@code pidFile} the signal of {@code command}, as {@code nginx -s} does,
     * once the configuration has loaded without a problem (a reload of a file with problems would be refused anyway).
     * Prints what it did, or why it could not (then exits 1).
     */
    private int send(ServerSignal command, Path pidFile) {
        if (pidFile == null) {
            System.err.println("edge: -s " + command + ": " + config + " names no pid file (set edge.server.pid-file)");
            return 1;
        }
        try {
            ProcessHandle server = PidFile.running(pidFile);
            Signals.send(server.pid(), command.signal);
            System.out.println("edge: sent SIG" + command.signal + " (" + command + ") to process " + server.pid());
            return 0;
        } catch (IOException e) {
            System.err.println("edge: -s " + command + ": " + e.getMessage());
            return 1;
        }
    }

    /** Runs {@code action} if the server runs, else {@code hold} (which notes the signal for when it does). */
    private static void whenRunning(Runnable hold, Runnable action) {
        synchronized (SIGNALS) {
            if (!running) {
                hold.run();
                return;
            }
        }
        action.run();
    }

    /**
     * {@link #describe} of {@code e}, then of each address it found it could not bind either (suppressed by it,
     * {@link EdgeServer#bindNew}): a line each.
     */
    static List<String> describeEach(Throwable e) {
        List<String> each = new ArrayList<>();
        each.add(describe(e));
        if (e instanceof BindException) {
            for (Throwable more : e.getSuppressed()) {
                if (more instanceof BindException) {
                    each.add(describe(more));
                }
            }
        }
        return each;
    }

    /**
     * The message alone: an operator reads it, and a Java class name tells them nothing. A file system's refusal
     * without a reason (the JDK's message is then the path alone: "could not start: /srv/run/php") says what its kind
     * means, as the system's own error would.
     */
    static String describe(Throwable e) {
        if (e instanceof FileSystemException refused && refused.getReason() == null && refused.getFile() != null) {
            String what = e instanceof FileAlreadyExistsException ? "exists, and is no directory (a file, or a link "
                            + "leading nowhere) where a directory is made"
                    : e instanceof NoSuchFileException ? "no such file or directory"
                    : e instanceof NotDirectoryException ? "not a directory"
                    : e instanceof AccessDeniedException ? "permission denied"
                    : e instanceof DirectoryNotEmptyException ? "directory not empty" : null;
            if (what != null) {
                return refused.getFile() + (refused.getOtherFile() == null ? "" : " -> " + refused.getOtherFile())
                        + ": " + what;
            }
        }
        String message = e.getMessage();
        if (e instanceof IllegalStateException && "failed to create a child event loop".equals(message)
                && e.getCause() != null) {
            // Netty's words alone: the cause (out of descriptors: each loop takes a few) was lost
            Throwable cause = e.getCause();
            while (cause.getCause() != null && cause.getCause() != cause) {
                cause = cause.getCause();
            }
            return "edge.server.io-threads: its event loops could not all be made (" + describe(cause) + "); each takes"
                    + " a few file descriptors and threads: lower io-threads (0 = one per core), or raise the limits"
                    + " (ulimit -n, LimitNOFILE= in a systemd unit)";
        }
        return message == null || message.isBlank() ? e.getClass().getSimpleName() : message;
    }

    /**
     * The JVM names files in its locale's charset, which JDK 17 takes from the environment alone (no option sets it):
     * without a UTF-8 locale, a file whose name is not ASCII cannot be opened (404). bin/edge starts it under one;
     * another launcher (a systemd unit without LANG running java itself) is told here, once.
     */
    private static void warnOfFileNameCharset(Logger log) {
        String names = System.getProperty("sun.jnu.encoding", "");
        if (!names.equalsIgnoreCase("UTF-8") && !names.equalsIgnoreCase("UTF8")) {
            log.warn("file names are read as {} (the locale's charset: LANG and LC_ALL unset or not UTF-8): files whose"
                    + " names are not ASCII cannot be served; start edge under a UTF-8 locale"
                    + " (LC_ALL=C.UTF-8), as bin/edge does", names);
        }
    }

    private static int run(EdgeSettings settings, Path config) throws InterruptedException {
        Logger log = LoggerFactory.getLogger(Main.class);
        warnOfFileNameCharset(log);
        Edge edge = new Edge(settings);
        // SIGTERM and SIGINT run shutdown hooks. This one drains, then halts with status 0: a graceful stop
        // is a success, not the JVM's default 143. Registered before anything starts, so that a signal during
        // the start abandons it: Edge.stop stops a php-fpm being spawned rather than wait for its socket, then
        // stops what started. The hook then waits for the start's failure to be logged (startOver), or the halt
        // would lose that line. The wait is bounded, as the drain is, should the start hang before Edge.start.
        CountDownLatch stopped = new CountDownLatch(1);
        AtomicBoolean drainCut = new AtomicBoolean(); // by a second SIGTERM or SIGINT, below
        CountDownLatch startOver = new CountDownLatch(1);
        Thread shutdown = new Thread(() -> {
            Duration drain = edge.drainTimeout(); // a reload's, if one changed it
            log.info("shutting down: draining for at most {}", Edge.readable(drain));
            boolean clean = edge.stop();
            try {
                startOver.await(drain.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            log.info("stopped{}", clean ? "" : drainCut.get() ? " (drain cut short by a second signal)"
                    : " (drain timeout passed)");
            Logging.stop();
            stopped.countDown();
            Runtime.getRuntime().halt(0);
        }, "edge-shutdown");
        Runtime.getRuntime().addShutdownHook(shutdown);
        // The first SIGTERM or SIGINT starts the drain as the JVM's own handler would (the hook above); a second one
        // during it closes the connections still open and lets the stop go on at once, as nginx's fast stop (and
        // Ctrl-C twice). Where the signals cannot be taken here, the JVM's handler runs the hook all the same.
        AtomicBoolean stopSignalled = new AtomicBoolean();
        for (String name : new String[] {"TERM", "INT"}) {
            Signals.handle(name, () -> {
                if (stopSignalled.compareAndSet(false, true)) {
                    new Thread(() -> System.exit(0), "edge-exit").start(); // runs the hook, which halts with 0
                } else {
                    drainCut.set(true);
                    log.info("SIG{} during the drain: ending it now, the {} connections still open closed and scripts still "
                            + "running not waited for", name, edge.stopDraining());
                }
            });
        }
        // nginx's signals where a JVM can take them: USR1 reopens the logs (logrotate's postrotate); HUP reopens them
        // too and reloads the configuration file, on a thread of its own (a reload may start a php-fpm), one at a
        // time. Before the start, which may take seconds (php-fpm): the JVM's defaults would end the process meanwhile.
        Runnable onUsr1 = () -> reopenLogs("USR1", edge);
        Signals.handle("USR1", () -> whenRunning(() -> earlyUsr1 = true, onUsr1));
        ExecutorService reloads = Executors.newSingleThreadExecutor(Edge.daemon("edge-sighup"));
        AtomicBoolean reloadRefusedLogged = new AtomicBoolean();
        // merged: signals sent while a reload waits to start make that one reload
        Runnable onHup = new MergedRuns(reloads, () -> {
            if (stopSignalled.get()) {
                // as nginx: a stopping server reloads nothing (and says so once)
                if (reloadRefusedLogged.compareAndSet(false, true)) {
                    log.info("a reload signal while edge stops: not reloading");
                }
                return;
            }
            try {
                reopenLogs("HUP", edge);
            } catch (RuntimeException e) {
                log.error("SIGHUP: reopening the access log failed: {}", describe(e));
            }
            reload(edge, config);
        });
        Signals.handle("HUP", () -> whenRunning(() -> earlyHup = true, onHup));
        if (usr2IsFree()) {
            Signals.handle("USR2", () -> whenRunning(() -> earlyHup = true, () -> {
                if (!stopSignalled.get()) {
                    log.info("SIGUSR2: reloading the configuration, as on SIGHUP");
                }
                onHup.run();
            }));
        } else {
            log.info("SIGUSR2 is the JVM's own here and would crash it: start edge through bin/edge, which gives the JVM"
                    + " another signal for it (_JAVA_SR_SIGNUM); SIGHUP reloads");
        }
        try {
            Logging.configureAccessLog(settings.server().accessLogEnabled(), settings.server().accessLog());
            edge.start();
            boolean hup;
            boolean usr1;
            synchronized (SIGNALS) {
                running = true;
                hup = earlyHup;
                usr1 = earlyUsr1;
            }
            if (usr1) {
                onUsr1.run();
            }
            if (hup) {
                log.info("SIGHUP came while edge started: the configuration is reloaded now");
                onHup.run();
            }
        } catch (Exception e) {
            boolean failing;
            try {
                failing = Runtime.getRuntime().removeShutdownHook(shutdown); // the exit below is a failure: status 1
            } catch (IllegalStateException shuttingDown) {
                failing = false; // a signal came meanwhile: the hook stops what started, logs and exits 0
            }
            if (failing) {
                describeEach(e).forEach(problem -> log.error("could not start: {}", problem));
            } else {
                log.info("start abandoned: shutting down ({})", describe(e));
            }
            edge.stop(); // whatever started, and the temporary run directory
            if (failing) {
                Logging.stop(); // the error log is asynchronous: written out before the exit
            }
            return 1;
        } finally {
            startOver.countDown();
        }
        stopped.await();
        return 0;
    }

    /**
     * Loads {@code file} again and applies it ({@link Edge#reload}). A configuration with problems is refused with
     * every problem logged, as {@code --check-config} prints them; the running one stays.
     */
    static void reload(Edge edge, Path file) {
        Logger log = LoggerFactory.getLogger(Main.class);
        log.info("SIGHUP: reloading {}", file);
        try {
            edge.reload(file, Logging::configureAccessLog);
        } catch (ConfigException e) {
            // a line each, timestamped and leveled: a log shipper that splits lines keeps each problem whole
            log.error("reload refused, the running configuration stays: {} problem(s)", e.problems().size());
            e.problems().forEach(problem -> log.error("reload refused: {}", problem));
            e.warnings().forEach(warning -> log.warn("reload: {}", warning));
        } catch (Exception | Error e) { // an operator reads this: the message, never a stack trace
            if (edge.isStopping()) {
                // a SIGTERM during the reload (its php-fpm stopped while starting, the server no longer running)
                log.info("reload abandoned: edge stops ({})", e.getMessage());
                return;
            }
            describeEach(e).forEach(problem -> log.error("reload failed, the running configuration stays: {}", problem));
        }
    }

    private static void reopenLogs(String signal, Edge edge) {
        Logger log = LoggerFactory.getLogger(Main.class);
        edge.reopenPhpFpmLogs(signal);
        String file;
        try {
            file = Logging.reopenAccessLog();
        } catch (IOException e) {
            log.error("SIG{}: {}", signal, e.getMessage());
            return;
        }
        log.info("SIG{}: {}", signal, file == null ? "no access log file to reopen" : "access log " + file + " reopened");
    }
}
