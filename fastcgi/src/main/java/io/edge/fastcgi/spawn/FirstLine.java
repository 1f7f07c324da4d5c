package io.edge.fastcgi.spawn;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The first line a short command writes (its standard error with its output), read as it comes for at most
 * {@link #TIMEOUT_SECONDS} and {@link #MAX_LINE} bytes: a command that writes on and on fills its pipe and waits, and
 * takes no disk; one still running a moment after its line, and what it started, are ended. What the configuration
 * check asks of the machine ({@link PhpSapi}, {@link SpawnAccess}).
 */
final class FirstLine {

    private static final long TIMEOUT_SECONDS = 5;
    /** php -v's first line is ~50 bytes. */
    private static final int MAX_LINE = 4096;

    private FirstLine() {
    }

    /** The first line {@code command} writes, without its line end; null where it could not be run or read. */
    static String of(List<String> command) {
        Process process;
        try {
            process = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        } catch (IOException | RuntimeException e) {
            return null;
        }
        try {
            return read(process);
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        } finally {
            try {
                process.waitFor(200, TimeUnit.MILLISECONDS); // a short command ends as its last line is written
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (process.isAlive()) { // not what was meant: it, and what it started, go
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
            }
            try {
                process.getInputStream().close();
            } catch (IOException e) {
                // nothing more to read from it
            }
        }
    }

    private static String read(Process process) throws IOException, InterruptedException {
        InputStream out = process.getInputStream();
        byte[] line = new byte[MAX_LINE];
        int length = 0;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_SECONDS);
        while (length < MAX_LINE && System.nanoTime() < deadline) {
            int ready = out.available();
            if (ready > 0) {
                int n = out.read(line, length, Math.min(ready, MAX_LINE - length));
                if (n < 0) {
                    break;
                }
                length += n;
                if (new String(line, 0, length, StandardCharsets.ISO_8859_1).indexOf('\n') >= 0) {
                    break;
                }
            } else if (!process.isAlive()) {
                if (out.available() == 0) {
                    break;
                }
            } else {
                Thread.sleep(5);
            }
        }
        String text = new String(line, 0, length, StandardCharsets.ISO_8859_1);
        int newline = text.indexOf('\n');
        return newline < 0 ? text : text.substring(0, newline);
    }
}
