package io.edge.core;

import ch.qos.logback.classic.AsyncAppender;
import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.FileAppender;
import ch.qos.logback.core.recovery.ResilientFileOutputStream;
import ch.qos.logback.core.status.Status;
import ch.qos.logback.core.status.StatusListener;
import io.edge.core.http.ThrottledWarnings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.LoggerFactory;

/** Points the access log where the configuration says: standard output (the default), a file, or nowhere. */
final class Logging {

    private static final org.slf4j.Logger LOG = LoggerFactory.getLogger(Logging.class);
    private static boolean listening;

    private Logging() {
    }

    /**
     * Tells the error log when the access log's file cannot be written (a full disk: its lines are lost meanwhile):
     * logback only notes such failures in its own status list, which nothing prints, so a full disk silenced the
     * access log without a word. At most one warning a minute, as nginx's alert (logback retries the file with pauses,
     * and reopening it counts as a recovery there even while every write still fails).
     */
    static final class AccessLogFailures implements StatusListener {
        private static final long EVERY_NANOS = TimeUnit.MINUTES.toNanos(1);
        private final AtomicLong warnedAt = new AtomicLong(System.nanoTime() - EVERY_NANOS);

        @Override
        public boolean isResetResistant() {
            return true; // registered once, for the process's life
        }

        @Override
        public void addStatusEvent(Status status) {
            if (!(status.getOrigin() instanceof ResilientFileOutputStream out) || status.getLevel() != Status.ERROR) {
                return;
            }
            long now = System.nanoTime();
            long at = warnedAt.get();
            if (now - at >= EVERY_NANOS && warnedAt.compareAndSet(at, now)) {
                Throwable cause = status.getThrowable();
                LOG.warn("access log {}: cannot be written ({}); its lines are lost until it can", out.getFile(),
                        cause == null ? status.getMessage() : cause.getMessage());
            }
        }
    }

    /**
     * Points the access log at {@code file}, or standard output when it is null, or nowhere when {@code enabled} is
     * false. Called at the start and again by a reload: each call replaces what the one before set up (a file's lines
     * queued so far are written out first).
     *
     * @throws IOException when {@code file} cannot be opened for appending (nothing is changed then): a server whose
     *                     access log would silently go nowhere does not start, and a reload that asks for one fails
     */
    static synchronized void configureAccessLog(boolean enabled, Path file) throws IOException {
        if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext context)) {
            return;
        }
        if (!listening) {
            listening = context.getStatusManager().add(new AccessLogFailures());
        }
        Logger access = context.getLogger("edge.access");
        if (!enabled) {
            access.setLevel(Level.OFF);
            replaceAppenders(access, null); // a file is closed, not held while nothing is written
            return;
        }
        AsyncAppender async;
        if (file == null) {
            if (access.getAppender("ACCESS") != null) { // logback.xml's standard output, still in place
                access.setLevel(Level.INFO);
                return;
            }
            ConsoleAppender<ILoggingEvent> console = new ConsoleAppender<>();
            console.setContext(context);
            console.setName("ACCESS_OUT");
            console.setEncoder(lineEncoder(context));
            console.start();
            async = async(context, "ACCESS", console);
        } else {
            FileAppender<ILoggingEvent> fileAppender = new FileAppender<>();
            fileAppender.setContext(context);
            fileAppender.setName("ACCESS_FILE");
            fileAppender.setFile(file.toString());
            fileAppender.setAppend(true);
            fileAppender.setEncoder(lineEncoder(context));
            fileAppender.start();
            if (!fileAppender.isStarted()) {
                String why = whyNotOpened(context, fileAppender);
                throw new IOException("edge.server.access-log: cannot open " + file + " for appending"
                        + (why == null ? "" : " (" + why + ")"));
            }
            async = async(context, "ACCESS_FILE_ASYNC", fileAppender);
        }
        replaceAppenders(access, async);
        access.setLevel(Level.INFO);
    }

    /**
     * Why {@code appender} did not start, as the system said it ({@code No such file or directory} for a link leading
     * nowhere, {@code Permission denied}, {@code Is a directory}): logback keeps it in its status list, where the
     * file's stream left it as {@code path (reason)}. Null if it is not there.
     */
    private static String whyNotOpened(LoggerContext context, FileAppender<ILoggingEvent> appender) {
        List<Status> statuses = context.getStatusManager().getCopyOfStatusList();
        for (int i = statuses.size() - 1; i >= 0; i--) {
            Status status = statuses.get(i);
            Throwable cause = status.getThrowable();
            if (status.getOrigin() == appender && status.getLevel() == Status.ERROR && cause != null
                    && cause.getMessage() != null) {
                String message = cause.getMessage();
                int open = message.lastIndexOf(" (");
                return open >= 0 && message.endsWith(")") ? message.substring(open + 2, message.length() - 1) : message;
            }
        }
        return null;
    }

    /**
     * Puts {@code next} (null: none) in place of {@code access}'s appenders: added before the old ones go, and an old
     * one stopped (its queue written out) only once no line can reach it, so no line is dropped in between.
     */
    private static void replaceAppenders(Logger access, Appender<ILoggingEvent> next) {
        List<Appender<ILoggingEvent>> old = new ArrayList<>();
        access.iteratorForAppenders().forEachRemaining(old::add);
        if (next != null) {
            access.addAppender(next);
        }
        for (Appender<ILoggingEvent> appender : old) {
            access.detachAppender(appender);
            appender.stop();
        }
    }

    /** One access-log line per event, as written. */
    private static PatternLayoutEncoder lineEncoder(LoggerContext context) {
        PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setContext(context);
        encoder.setPattern("%msg%n");
        encoder.start();
        return encoder;
    }

    /**
     * An asynchronous appender in front of {@code target} that drops lines rather than block an event loop, and says
     * so in the error log ({@link LineLossTellingAppender}).
     */
    private static AsyncAppender async(LoggerContext context, String name, Appender<ILoggingEvent> target) {
        return async(context, name, target, 8192, LOST_LINES);
    }

    /** As {@link #async(LoggerContext, String, Appender)}, with a queue of {@code queueSize} lines; for tests. */
    static AsyncAppender async(LoggerContext context, String name, Appender<ILoggingEvent> target, int queueSize,
            ThrottledWarnings lost) {
        AsyncAppender async = new LineLossTellingAppender(lost);
        async.setContext(context);
        async.setName(name);
        async.setQueueSize(queueSize);
        async.setDiscardingThreshold(0);
        async.setNeverBlock(true);
        async.addAppender(target);
        async.start();
        return async;
    }

    /** Access-log lines dropped, told in the error log: the first at once, then at most one every 10 s. */
    private static final ThrottledWarnings LOST_LINES = new ThrottledWarnings(LOG, System::nanoTime);

    /**
     * An asynchronous appender whose full queue drops a line (it never blocks an event loop) and says so: logback's
     * drops it without a word, so a stalled reader of stdout (journald, a container's log driver) or a slow disk lost
     * thousands of lines with nothing to tell anyone billing or counting from the log.
     */
    static final class LineLossTellingAppender extends AsyncAppender {
        private final ThrottledWarnings lost;

        LineLossTellingAppender(ThrottledWarnings lost) {
            this.lost = lost;
        }

        @Override
        protected void append(ILoggingEvent event) {
            // full now: the line would be dropped by the queue's offer (one that fills between this look and the
            // offer is dropped untold: the count is a floor)
            if (isStarted() && getRemainingCapacity() == 0) {
                lost.warn(LineLossTellingAppender.class, "access log: a line lost: its writer does not keep up (a "
                        + "stalled reader of stdout, a slow or full disk), and lines are dropped rather than hold an "
                        + "event loop");
                return;
            }
            super.append(event);
        }
    }

    /**
     * Opens the access log file again by its name (after logrotate renamed it, as nginx does on SIGUSR1): the
     * lines written so far stay in the renamed file, the next go to a new one. Returns the file, or null when the
     * access log is not a file. Safe against concurrent writes (the appender's own lock).
     *
     * @throws IOException the file cannot be opened (its message says so, for the log): the appender keeps writing to
     *     the one it had open (renamed, if logrotate moved it), as nginx does, until a reopen succeeds
     */
    static synchronized String reopenAccessLog() throws IOException {
        if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext context)
                || !(context.getLogger("edge.access").getAppender("ACCESS_FILE_ASYNC") instanceof AsyncAppender async)
                || !(async.getAppender("ACCESS_FILE") instanceof FileAppender<ILoggingEvent> file)) {
            return null;
        }
        try {
            // logback makes missing directories: one removed since is not made again (root's, where the
            // configuration check refuses a missing one), as nginx's reopen fails there
            Path directory = Path.of(file.getFile()).toAbsolutePath().getParent();
            if (directory != null && !Files.isDirectory(directory)) {
                throw new IOException("directory " + directory + " does not exist");
            }
            file.openFile(file.getFile()); // throws before it replaces the stream it had
        } catch (IOException e) {
            throw new IOException("access log " + file.getFile() + " not reopened, its lines go on to the file open before: "
                    + e.getMessage(), e);
        }
        return file.getFile();
    }

    /** Flushes asynchronous appenders; called last on shutdown. */
    static void stop() {
        if (LoggerFactory.getILoggerFactory() instanceof LoggerContext context) {
            context.stop();
        }
    }
}
