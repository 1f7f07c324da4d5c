package io.edge.aio.file;

/**
 * A read buffer would pass the JVM's direct memory limit ({@code -XX:MaxDirectMemorySize}): the read is refused at
 * once rather than waited for. A temporary condition, as the buffers of reads and responses in flight come back
 * when they end: the core answers 503, never 500.
 */
public final class DirectMemoryExhaustedException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public DirectMemoryExhaustedException(String message) {
        super(message);
    }
}
