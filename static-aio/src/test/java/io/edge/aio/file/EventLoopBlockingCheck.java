package io.edge.aio.file;

import io.netty.channel.EventLoop;
import io.netty.util.internal.ThreadExecutorMap;
import java.lang.invoke.MethodType;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import reactor.blockhound.BlockHound;
import reactor.blockhound.BlockingMethod;
import reactor.blockhound.integration.BlockHoundIntegration;

/**
 * Fails a test during which a Netty event loop made a blocking call: sleeping or waiting, parking on a lock
 * another thread holds, blocking socket I/O, starting a process, or a call into the file system through
 * {@code java.io} or {@code java.nio} (an open, a stat, a read, a directory listing: each may wait for a disk
 * seek, or for a FUSE or NFS server), or a host name lookup. BlockHound instruments those methods once per test
 * JVM; a call on an event loop thread is recorded, not thrown, so the server goes on as it would have, and the test
 * that was running fails afterwards with where the call came from. Registered for every test class by JUnit's extension
 * auto-detection (the test JVM arguments turn it on, and add the flag BlockHound needs on Java 13 and later).
 *
 * <p>Calls into native code through JNA are seen where they go through {@code Syscalls}' wrappers that can wait for
 * the disk (opens, stats, a blocking pread): those are marked too. The {@code sendfile} engine, the documented
 * blocking baseline, opens and reads files on its loop: its calls are allowed here.
 */
public final class EventLoopBlockingCheck implements BeforeAllCallback, BeforeEachCallback, AfterEachCallback,
        AfterAllCallback {

    /**
     * The file system calls BlockHound does not list itself: the JDK's natives behind {@code Files},
     * {@code File}, {@code Path.toRealPath} and {@code FileChannel}, and edge's own; and the JDK's host name
     * lookups; by class and method name. One of edge's not found fails the installation, so that a change renaming
     * it cannot silently turn the check off; the JDK's differ between releases, and are marked where found.
     */
    private static final Map<String, Set<String>> FILE_SYSTEM_CALLS = Map.of(
            // edge's own calls into libc that resolve a path or read a file without RWF_NOWAIT (not eventfd's
            // read, fstat of an open descriptor, or the statfs of one); a name may carry its descriptor
            "io.edge.aio.linux.Syscalls", Set.of("openRaw", "openReadWrite", "reopenDirect", "openat2ReadOnly",
                    "openat2File", "openDirectoryPath", "stat", "fileSystemType(Ljava/lang/String;)J", "pread"),
            "sun.nio.fs.UnixNativeDispatcher", Set.of("open0", "openat0", "stat0", "stat1", "lstat0", "fstatat0",
                    "realpath0", "readlink0", "opendir0", "readdir", "access0", "exists0", "unlink0", "rename0",
                    "mkdir0", "rmdir0", "link0", "symlink0"),
            "java.io.UnixFileSystem", Set.of("canonicalize0", "getBooleanAttributes0", "checkAccess",
                    "getLastModifiedTime", "getLength", "list", "delete0", "rename0", "createFileExclusively",
                    "createDirectory"),
            "sun.nio.ch.FileDispatcherImpl", Set.of("read0", "pread0", "readv0", "write0", "pwrite0", "writev0",
                    "force0", "truncate0"),
            "sun.nio.ch.UnixFileDispatcherImpl", Set.of("read0", "pread0", "readv0", "write0", "pwrite0", "writev0",
                    "force0", "truncate0"),
            // host name lookups (getaddrinfo, getnameinfo): they wait for DNS
            "java.net.Inet6AddressImpl", Set.of("lookupAllHostAddr", "getHostByAddr"),
            "java.net.Inet4AddressImpl", Set.of("lookupAllHostAddr", "getHostByAddr"));

    /**
     * Where a loop may wait: short critical sections guarded by a lock that only other short critical sections
     * take (as Netty's own integration allows its arenas' locks), and the blocking baseline engine.
     */
    private static final List<String[]> ALLOWED = List.of(
            // the local transport's loop (tests' in-JVM channels) parks while it has nothing to do, as epoll waits
            new String[] {"io.netty.channel.local.LocalIoHandler", "run"},
            // an asynchronous appender's queue: offer, never put (neverBlock); its lock is held for an array store or
            // a count
            new String[] {"ch.qos.logback.core.AsyncAppenderBase", "append"},
            // edge's error log queue in front of it, which reads the room left first (the same lock, held for a count)
            new String[] {"io.edge.core.ErrorLogQueue", "append"},
            // a hand-off to a pool or a timer thread: the queue's lock, held for a link or a heap insertion, and
            // the pool's own while it adds a thread (not a rejection handler, which might wait)
            new String[] {"java.util.concurrent.LinkedBlockingQueue", "offer"},
            new String[] {"java.util.concurrent.ArrayBlockingQueue", "offer"},
            new String[] {"java.util.concurrent.ThreadPoolExecutor", "addWorker"},
            new String[] {"java.util.concurrent.ScheduledThreadPoolExecutor", "delayedExecute"},
            new String[] {"java.util.concurrent.ScheduledThreadPoolExecutor$ScheduledFutureTask", "cancel"},
            // Caffeine's maintenance: its eviction lock, held for bookkeeping in memory
            new String[] {"com.github.benmanes.caffeine.cache.BoundedLocalCache", "afterWrite"},
            new String[] {"com.github.benmanes.caffeine.cache.BoundedLocalCache", "performCleanUp"},
            new String[] {"com.github.benmanes.caffeine.cache.BoundedLocalCache", "cleanUp"},
            // names built by the kernel from dentries in memory (/proc/self/fd), or files in memory (/dev/shm's
            // slab, once per loop); the one stat of /proc, at class initialisation
            new String[] {"io.edge.aio.file.OpenFile", "realPath"},
            // an open that fails with EAGAIN rather than wait (RESOLVE_CACHED: every directory in the dentry cache,
            // on a local file system), or a cached file
            new String[] {"io.edge.aio.file.OpenFileCache", "acquireInline"},
            // a pread of a range cachestat or mincore has just found in the page cache: a memory copy
            new String[] {"io.edge.aio.file.FileReads", "readResident"},
            new String[] {"io.edge.aio.linux.ShmSlab", "create"},
            new String[] {"io.edge.core.statics.DirectoryListing", "<clinit>"},
            // a $request_id maker's seed, once per thread: the kernel's CRNG, memory, which waits only at boot
            new String[] {"io.edge.core.http.Variables", "seeded"},
            // a class loaded, once (BlockHound allows ClassLoader.loadClass; newer JDKs come here by other frames)
            new String[] {"jdk.internal.loader.URLClassPath$FileLoader", "getResource"},
            new String[] {"jdk.internal.loader.URLClassPath$JarLoader", "getResource"},
            // a native library loaded, once (the JDK's libnet at the first host name; JNA's stub)
            new String[] {"jdk.internal.loader.NativeLibraries", "loadLibrary"},
            new String[] {"com.sun.jna.Native", "<clinit>"},
            // the documented blocking baseline: opens, stats and reads on the loop by design
            new String[] {"io.edge.aio.file.SendfileEngine", "open"},
            new String[] {"io.edge.aio.file.SendfileEngine", "read"});

    private static final int MAX_RECORDED = 20;

    /** Blocking calls on a loop since the last check, each with its thread and stack. */
    private static final ConcurrentLinkedQueue<String> CALLS = new ConcurrentLinkedQueue<>();

    private static boolean installed;

    /**
     * The test running, named in each call recorded: one a loop makes after its test ended (an exchange's tail, a
     * server shutting down) fails the next, which the message then says came before it.
     */
    private static volatile String running = "no test yet";

    @Override
    public void beforeAll(ExtensionContext context) {
        install();
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        running = context.getRequiredTestClass().getSimpleName() + "." + context.getRequiredTestMethod().getName();
    }

    @Override
    public void afterEach(ExtensionContext context) {
        failOnCalls();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        failOnCalls();
    }

    /** Instruments the blocking methods, once per JVM. */
    static synchronized void install() {
        if (installed) {
            return;
        }
        BlockHound.Builder builder = BlockHound.builder();
        // Netty's own allowances (its arenas' locks, its timer's and executors' waits), not BlockHound's
        // integrations for logging and standard output: a write to stdout from a loop is the kind of call sought
        for (BlockHoundIntegration integration : ServiceLoader.load(BlockHoundIntegration.class)) {
            if (integration.getClass().getName().startsWith("io.netty.")) {
                integration.applyTo(builder);
            }
        }
        FILE_SYSTEM_CALLS.forEach((className, names) -> markAsBlocking(builder, className, names));
        ALLOWED.forEach(allowed -> builder.allowBlockingCallsInside(allowed[0], allowed[1]));
        // Netty's predicate counts every FastThreadLocalThread, a pool's made by DefaultThreadFactory too; only a
        // thread running an event loop is meant, and the predicate is asked on that thread
        builder.nonBlockingThreadPredicate(netty -> thread -> thread == Thread.currentThread()
                && ThreadExecutorMap.currentExecutor() instanceof EventLoop);
        builder.blockingMethodCallback(EventLoopBlockingCheck::record);
        builder.install();
        installed = true;
    }

    /** The calls recorded since the last check, and forgets them. */
    static List<String> drain() {
        List<String> calls = new ArrayList<>();
        for (String call; (call = CALLS.poll()) != null; ) {
            calls.add(call);
        }
        return calls;
    }

    private static void failOnCalls() {
        List<String> calls = drain();
        if (!calls.isEmpty()) {
            throw new AssertionError(calls.size() + " blocking call(s) on an event loop:\n"
                    + String.join("\n", calls));
        }
    }

    private static void markAsBlocking(BlockHound.Builder builder, String className, Set<String> names) {
        boolean ours = className.startsWith("io.edge.");
        Class<?> type;
        try {
            type = Class.forName(className, false, EventLoopBlockingCheck.class.getClassLoader());
        } catch (ClassNotFoundException e) {
            if (!ours) {
                return; // another JDK's (FileDispatcherImpl's natives are UnixFileDispatcherImpl's from JDK 21)
            }
            throw new IllegalStateException("no " + className + ": update FILE_SYSTEM_CALLS", e);
        }
        Set<String> found = new HashSet<>();
        for (Method method : type.getDeclaredMethods()) {
            String descriptor = descriptor(method);
            for (String name : List.of(method.getName(), method.getName() + descriptor)) {
                if (names.contains(name)) {
                    builder.markAsBlocking(type, method.getName(), descriptor);
                    found.add(name);
                }
            }
        }
        // edge's own must all be there; a JDK's natives differ between releases (JDK 25 has no stat1 or exists0),
        // so those found will do: EventLoopBlockingCheckTest shows the ones that matter are seen on this JDK
        if (ours && !found.equals(names)) {
            throw new IllegalStateException("not in " + className + ": "
                    + names.stream().filter(name -> !found.contains(name)).sorted().toList()
                    + " (update FILE_SYSTEM_CALLS)");
        }
    }

    private static String descriptor(Method method) {
        return MethodType.methodType(method.getReturnType(), method.getParameterTypes()).toMethodDescriptorString();
    }

    private static void record(BlockingMethod method) {
        if (CALLS.size() >= MAX_RECORDED) {
            return;
        }
        StringBuilder call = new StringBuilder()
                .append(method).append(" on ").append(Thread.currentThread().getName())
                .append(" (while ").append(running).append(" ran)");
        for (StackTraceElement frame : new Throwable().getStackTrace()) {
            String className = frame.getClassName();
            if (!className.startsWith("reactor.blockhound.")
                    && !className.equals(EventLoopBlockingCheck.class.getName())) {
                call.append("\n\tat ").append(frame);
            }
        }
        CALLS.add(call.toString());
    }
}
