package io.edge.core;

import com.sun.management.UnixOperatingSystemMXBean;
import io.edge.aio.StaticIoSettings;
import java.lang.management.ManagementFactory;
import java.lang.management.OperatingSystemMXBean;

/**
 * The process's descriptor limit ({@code ulimit -n}, {@code RLIMIT_NOFILE}) as it bears on {@code max-connections}.
 * Past the limit every open fails ({@code EMFILE}). With {@code max-connections} above what is left once the server has
 * started, the clients' sockets alone could take every descriptor: each request for a file not held open already got
 * 503 while the clients that held the sockets kept asking (measured under {@code ulimit -n 256} with 300 clients and
 * the default 10000: 99 % of the answers were 503). So connections get at most three quarters of the descriptors left
 * at the start ({@link #RESERVE} fewer, for listeners, logs and spool files), the last quarter staying for the files
 * they are answered from and for FastCGI backends, as HAProxy derives its {@code maxconn} from {@code ulimit-n}; with
 * {@code linux-aio-sendfile}, whose files hold two descriptors each (the O_DIRECT one besides) and stay open longer (a
 * read from the disk each time), half of that. Measured there: with 130 connections of the 256 (65 with
 * linux-aio-sendfile) no request got 503; with linux-aio-sendfile at 87 and 104, 1.4 and 5 %. Under the usual limits
 * (65536 and more; the JVM raises the soft limit to the hard one as it starts) the default 10000 is far below it.
 *
 * @param limit              the soft limit
 * @param openAtStart        descriptors open before the first connection: the JVM's, the event loops', the caches'
 * @param descriptorsPerFile descriptors a file being sent holds: 2 with linux-aio-sendfile, else 1
 */
public record DescriptorLimit(long limit, long openAtStart, int descriptorsPerFile) {

    /** Descriptors kept for what opens after the start besides connections and their files. */
    static final int RESERVE = 32;

    /** No limit known (not a Unix JVM): {@code max-connections} is taken as configured. */
    public static final DescriptorLimit UNKNOWN = new DescriptorLimit(Long.MAX_VALUE, 0, 1);

    /** This process's limit and the descriptors it holds now, for files sent by {@code engine}. */
    public static DescriptorLimit ofThisProcess(StaticIoSettings.Engine engine) {
        OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
        if (os instanceof UnixOperatingSystemMXBean unix && unix.getMaxFileDescriptorCount() > 0) {
            return new DescriptorLimit(unix.getMaxFileDescriptorCount(), unix.getOpenFileDescriptorCount(),
                    engine == StaticIoSettings.Engine.LINUX_AIO_SENDFILE ? 2 : 1);
        }
        return UNKNOWN;
    }

    /** Client connections the limit leaves room for; at least 1. */
    public int maxConnections() {
        long room = limit - openAtStart - RESERVE;
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, (room - room / 4) / descriptorsPerFile));
    }

    /**
     * {@code io} with the static path's descriptors held to what the limit leaves once {@code maxConnections} clients
     * (as held by {@link #maxConnections}) have their sockets: {@code fd-budget} to it, the open-file cache to five
     * eighths of that (the defaults' ratio), the rest for files opened beside it. Under the budget alone (16000 by
     * default) the cache went on keeping descriptors until opens failed under the limit; the sockets
     * {@code max-connections} counts on were gone, and new clients hung in the listen backlog ({@code accept}: EMFILE)
     * with few connections open. The same share is the static path's {@code fdLimit}, for files opened past the
     * budget. {@code io} itself where no limit is known.
     */
    public StaticIoSettings forFiles(StaticIoSettings io, int maxConnections) {
        return forFiles(io, maxConnections, 0);
    }

    /**
     * As {@link #forFiles(StaticIoSettings, int)}, with {@code backendConnections} descriptors (the FastCGI groups'
     * max-connections, each address's) kept from the files' share: files being sent cannot take the descriptors
     * php-fpm is reached on.
     */
    public StaticIoSettings forFiles(StaticIoSettings io, int maxConnections, long backendConnections) {
        if (limit == Long.MAX_VALUE) {
            return io; // no limit known
        }
        long besideSockets = limit - openAtStart - RESERVE - Math.min(maxConnections, maxConnections());
        // FastCGI's at most half: files need some
        long room = besideSockets - Math.min(backendConnections, besideSockets / 2);
        int budget = (int) Math.max(2, Math.min(Integer.MAX_VALUE, room));
        int size = io.fdBudget() <= budget || io.openFileCacheSize() == 0 ? io.openFileCacheSize()
                : (int) Math.max(1, Math.min(io.openFileCacheSize(), budget * 5L / 8));
        // the share is also what the static path may hold at all: opens past the budget (files being sent, uncached)
        // stop there with 503, else downloads took the descriptors new clients are accepted on (accept: EMFILE, and
        // every new client hung unanswered in the backlog until some ended)
        return new StaticIoSettings(io.engine(), io.queueDepth(), io.threads(), size, io.revalidateAfter(),
                io.openFileCacheMinUses(), Math.min(io.fdBudget(), budget), io.sendfileChunk(), io.readTimeout(),
                io.poisonReleasedBuffers(), budget);
    }

    /** The least descriptor limit that leaves room for {@code maxConnections}: what to raise {@code ulimit -n} to. */
    long limitFor(int maxConnections) {
        long needed = (long) maxConnections * descriptorsPerFile; // room - room / 4 >= needed from this room on
        return openAtStart + RESERVE + 4 * (needed - 1) / 3 + 1;
    }
}
