package io.edge.core;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * {@code server.pid-file}: the running server's process id in a file, as nginx's {@code pid}, for {@code edge -s} and
 * for scripts. Written whole or not at all (a new file beside it, renamed over it), so a reader never sees it half
 * written; removed only by the process it names.
 */
final class PidFile {

    /** What the command line of an edge process holds: the class it runs, or the jar bin/edge runs. */
    private static final String MAIN_CLASS = "io.edge.core.Main";
    private static final String JAR = "edge-core.jar";

    private PidFile() {
    }

    /** Writes this process's id to {@code file}, replacing what was there. */
    static void write(Path file) throws IOException {
        Path directory = file.toAbsolutePath().getParent();
        Path fresh = Files.createTempFile(directory, "." + file.getFileName() + ".", ".tmp");
        try {
            Files.setPosixFilePermissions(fresh, PosixFilePermissions.fromString("rw-r--r--")); // others read it too
            Files.writeString(fresh, ProcessHandle.current().pid() + "\n", StandardCharsets.US_ASCII);
            try {
                Files.move(fresh, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(fresh, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(fresh);
        }
    }

    /**
     * The process id of another edge that {@code file} names and that runs, whose file a write would take over: an edge
     * still draining after a stop (a restart that does not wait for it), or another server given the same file, which
     * {@code edge -s} would no longer reach (the lifecycle audit). Only a process whose command line is edge's counts:
     * an id a killed edge left that a kernel thread, a zombie or another program has now is a stale file.
     */
    static OptionalLong otherEdge(Path file) {
        try {
            long pid = read(file);
            Optional<ProcessHandle> process = ProcessHandle.of(pid).filter(ProcessHandle::isAlive);
            if (pid == ProcessHandle.current().pid() || process.isEmpty()
                    || !commandLine(process.get()).map(PidFile::isEdge).orElse(false)) {
                return OptionalLong.empty();
            }
            return OptionalLong.of(pid);
        } catch (IOException | NumberFormatException e) {
            return OptionalLong.empty(); // none, or unreadable: nothing to take over
        }
    }

    /** Whether {@code commandLine} is an edge server's: its main class, or the jar bin/edge runs. */
    static boolean isEdge(String commandLine) {
        return commandLine.contains(MAIN_CLASS) || commandLine.contains(JAR);
    }

    /**
     * Removes {@code file} if it names this process; another edge that wrote its own id there since keeps it. Returns
     * whether it was removed.
     */
    static boolean removeIfOwn(Path file) throws IOException {
        try {
            if (read(file) != ProcessHandle.current().pid()) {
                return false;
            }
        } catch (NoSuchFileException | NumberFormatException e) {
            return false;
        }
        return Files.deleteIfExists(file);
    }

    /** The process id {@code file} holds; {@link NumberFormatException} if it holds none. */
    static long read(Path file) throws IOException {
        String text = Files.readString(file, StandardCharsets.US_ASCII).strip();
        long pid = Long.parseLong(text);
        if (pid <= 0) {
            throw new NumberFormatException(text);
        }
        return pid;
    }

    /**
     * The running process {@code file} names. One whose command line is not edge's is not the one that wrote it: its id
     * was used again after that one ended without removing the file (killed), and it is refused; so is one with none (a
     * kernel thread or a zombie has it after a reboot, with the file on disk). (Not judged by its
     * start time against the file's: the JVM dates a process from the boot time the kernel derives from the wall clock,
     * and a clock stepped forward after the start, NTP's first step, would refuse edge itself.)
     *
     * @throws IOException the file cannot be read, names no process or one that is not edge; the message says which,
     *                     for an operator
     */
    static ProcessHandle running(Path file) throws IOException {
        long pid;
        try {
            pid = read(file);
        } catch (NoSuchFileException e) {
            throw new IOException(file + " does not exist (is edge running?)");
        } catch (NumberFormatException e) {
            throw new IOException(file + " holds no process id");
        }
        Optional<ProcessHandle> process = ProcessHandle.of(pid).filter(ProcessHandle::isAlive);
        if (process.isEmpty()) {
            throw new IOException(file + " names process " + pid + ", which is not running (edge was killed?)");
        }
        Optional<String> command = commandLine(process.get());
        if (command.isEmpty() || !isEdge(command.get())) {
            String executable = process.get().info().command().orElse(command.map(c -> c.split(" ")[0])
                    .orElse("no command line: a kernel thread or a zombie"));
            throw new IOException(file + " names process " + pid + ", which is not edge (" + executable
                    + "): another process has that id now (edge was killed?)");
        }
        return process.get();
    }

    /**
     * The whole command line, from /proc: the JDK's {@code ProcessHandle.Info} reads at most a page of it, and an edge
     * started with a long class path or many JVM options has its main class further on (that edge was taken for
     * another process).
     */
    private static Optional<String> commandLine(ProcessHandle process) {
        try {
            byte[] line = Files.readAllBytes(Path.of("/proc", Long.toString(process.pid()), "cmdline"));
            // empty for a zombie or a kernel thread: not known, as the JDK's info has it
            return line.length == 0 ? Optional.empty()
                    : Optional.of(new String(line, StandardCharsets.ISO_8859_1).replace('\0', ' '));
        } catch (IOException e) {
            return process.info().commandLine(); // no /proc mounted
        }
    }
}
