package io.edge.aio.file;

import java.util.Objects;
import org.HdrHistogram.Histogram;

/**
 * What a {@link FileEngine} did since it started: where each range went and how long the reads it handed off took.
 * A snapshot; counters only grow, {@code inFlight} and {@code waiting} are the values at the time it was taken.
 *
 * @param engine            the engine in use, as {@code static.engine} names it
 * @param sendfileRegions   ranges sent by {@code sendfile} straight from the file (a big file's chunk found in the
 *                          page cache, or every chunk where no residency check exists)
 * @param residentReads     small reads done at once on the caller because their range was in the page cache, or
 *                          answered with the bytes a file server's file was read into when it was opened
 * @param asyncReads        reads handed to the kernel's queue (io_uring, kernel AIO) or to the thread pool
 * @param fallbackReads     reads the engine's own asynchronous path could not take: linux-aio-sendfile's reads
 *                          by the thread pool (no {@code O_DIRECT}, no kernel AIO), the sendfile engine's blocking
 *                          reads on the caller
 * @param timedOutReads     reads, and opens on the file threads, failed by {@code static.read-timeout}
 * @param rejected          operations refused at once (503): a queue full, or no descriptor left to the static path
 * @param inFlight          reads the kernel is working on now, plus operations (opens, reads) on pool threads
 * @param waiting           reads waiting for a free slot (queue depth), plus operations waiting for a pool thread
 * @param descriptors       descriptors the open-file cache holds now (cached and in use)
 * @param readLatencyMicros how long the asynchronous and fallback reads took, from the request for the read to its
 *                          completion, microseconds (a copy the caller owns)
 */
public record FileEngineStats(
        String engine,
        long sendfileRegions,
        long residentReads,
        long asyncReads,
        long fallbackReads,
        long timedOutReads,
        long rejected,
        int inFlight,
        int waiting,
        int descriptors,
        Histogram readLatencyMicros) {

    public FileEngineStats {
        Objects.requireNonNull(engine, "engine");
        Objects.requireNonNull(readLatencyMicros, "readLatencyMicros");
    }
}
