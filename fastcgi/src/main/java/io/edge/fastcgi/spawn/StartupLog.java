package io.edge.fastcgi.spawn;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * The warnings and errors one php-fpm writes to its log (php-fpm.log, which also takes its standard error) as it
 * starts, for edge's own log: php-fpm's "WARNING:", "ERROR:", "ALERT:" lines and PHP's start-up ones ("PHP Warning:
 * PHP Startup: Unable to load dynamic library ..."), which otherwise only php-fpm.log holds. Read from where that
 * php-fpm's lines begin, at most {@link #MAX_BYTES} bytes of them; each line at most once (every worker repeats its
 * pool's), at most {@link #MAX_LINES} of them, so that a broken configuration cannot flood edge's log. Not thread-safe:
 * {@link #poll} runs on the supervisor's thread only.
 */
final class StartupLog {

    /** Lines relayed at most; one more then says the rest are in php-fpm.log. */
    static final int MAX_LINES = 20;
    /** Bytes of the log read at most, from where the php-fpm's lines begin. */
    static final int MAX_BYTES = 64 * 1024;
    /** A longer line is cut here. */
    static final int MAX_LINE_CHARS = 1000;
    /**
     * How long after its socket accepts php-fpm's log is still read: the workers start after the master listens, and
     * apply the pool's settings (spawn.ini: an extension, a memory_limit) only then, each writing its own warnings.
     */
    static final Duration SETTLE = Duration.ofSeconds(2);
    /** How often the log is read meanwhile. */
    static final Duration POLL = Duration.ofMillis(200);

    /** php-fpm's own time stamp, "[05-Dec-2026 19:17:26] ". */
    private static final Pattern STAMP = Pattern.compile("^\\[[^\\]]*\\]\\s*");
    /** A worker's PHP message as php-fpm passes it on. */
    private static final String PHP_MESSAGE = "NOTICE: PHP message: ";
    private static final Pattern RELAYED = Pattern.compile(
            "^(?:WARNING|ERROR|ALERT|EMERGENCY): |^PHP (?:Warning|Fatal error|Parse error|Core Warning|Core Error|Startup):");

    private final String groupName;
    private final Path logFile;
    private final Consumer<String> warn;
    private final long end;
    private final Set<String> seen = new HashSet<>();
    private long offset;
    private int relayed;
    private boolean done;

    /**
     * @param start where the php-fpm's lines begin in {@code logFile}
     * @param warn  takes each line to relay, already prefixed with the group
     */
    StartupLog(String groupName, Path logFile, long start, Consumer<String> warn) {
        this.groupName = groupName;
        this.logFile = logFile;
        this.offset = start;
        this.end = start + MAX_BYTES;
        this.warn = warn;
    }

    /**
     * Relays what the log gained since the last poll, whole lines only unless {@code last}. Returns whether there is
     * more to read: false once the byte or line bound is reached, or the log is shorter than read so far (truncated
     * or rotated: the lines there are not this start's).
     */
    boolean poll(boolean last) {
        if (done) {
            return false;
        }
        byte[] bytes;
        try (RandomAccessFile log = new RandomAccessFile(logFile.toFile(), "r")) {
            long length = Math.min(log.length(), end);
            if (length < offset) {
                done = true;
                return false;
            }
            bytes = new byte[(int) (length - offset)];
            log.seek(offset);
            log.readFully(bytes);
        } catch (IOException e) {
            return !last; // none yet, or it went: nothing to relay now
        }
        boolean full = offset + bytes.length >= end;
        int taken = bytes.length;
        if (!last && !full) {
            int lastNewline = bytes.length - 1;
            while (lastNewline >= 0 && bytes[lastNewline] != '\n') {
                lastNewline--;
            }
            taken = lastNewline + 1; // a line being written is read whole at the next poll
        }
        offset += taken;
        String text = new String(bytes, 0, taken, StandardCharsets.UTF_8);
        for (String line : text.split("\n")) {
            if (!relay(line)) {
                done = true;
                return false;
            }
        }
        done = full || last;
        return !done;
    }

    /** Relays {@code line} if it is a warning or an error not relayed yet; false once the line bound is reached. */
    private boolean relay(String line) {
        String message = STAMP.matcher(line.strip()).replaceFirst("");
        if (message.startsWith(PHP_MESSAGE)) {
            message = message.substring(PHP_MESSAGE.length());
        }
        if (!RELAYED.matcher(message).find() || !seen.add(message)) {
            return true;
        }
        if (relayed == MAX_LINES) {
            warn.accept("php-fpm for group " + groupName + ": more warnings as it started, in " + logFile);
            return false;
        }
        relayed++;
        if (message.length() > MAX_LINE_CHARS) {
            message = message.substring(0, MAX_LINE_CHARS) + "...";
        }
        warn.accept("php-fpm for group " + groupName + ": " + message);
        return true;
    }
}
