package io.edge.aio.linux;

import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Field;
import java.nio.channels.FileChannel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link FileChannel} over a descriptor opened natively ({@code openat2}), without opening the file a second
 * time: Netty's {@code sendfile} and positional reads need a JDK channel, and going through
 * {@code /proc/self/fd} costs an open, a stat and a close per file.
 *
 * <p>How: a {@link FileDescriptor} whose {@code fd} field is set through {@code sun.misc.Unsafe} (the
 * {@code jdk.unsupported} module, which Netty uses the same way), wrapped in a {@link FileInputStream}. Such a
 * stream registers no cleaner: the descriptor is closed when the channel is, and only then. Where the JDK does
 * not allow it, {@link #isAvailable()} is false and callers reopen through {@code /proc/self/fd}.
 */
public final class FdChannels {

    private static final Logger log = LoggerFactory.getLogger(FdChannels.class);

    /** {@code (FileDescriptor, int) -> void}: Unsafe.putInt bound to the instance and the field's offset; null if unavailable. */
    private static final MethodHandle SET_FD;

    static {
        MethodHandle setFd = null;
        try {
            Class<?> unsafeClass = Class.forName("sun.misc.Unsafe");
            Field theUnsafe = unsafeClass.getDeclaredField("theUnsafe");
            theUnsafe.setAccessible(true);
            Object unsafe = theUnsafe.get(null);
            long offset = (long) unsafeClass.getMethod("objectFieldOffset", Field.class)
                    .invoke(unsafe, FileDescriptor.class.getDeclaredField("fd"));
            MethodHandle putInt = MethodHandles.lookup().findVirtual(unsafeClass, "putInt",
                    MethodType.methodType(void.class, Object.class, long.class, int.class));
            setFd = MethodHandles.insertArguments(MethodHandles.insertArguments(putInt, 0, unsafe), 1, offset)
                    .asType(MethodType.methodType(void.class, FileDescriptor.class, int.class));
            FileDescriptor probe = new FileDescriptor();
            setFd.invokeExact(probe, 0);
            if (!probe.valid()) {
                throw new IllegalStateException("FileDescriptor.fd did not take the value");
            }
        } catch (Throwable e) {
            log.debug("channels over native descriptors unavailable, reopening through /proc/self/fd: {}", e.toString());
            setFd = null;
        }
        SET_FD = setFd;
    }

    private FdChannels() {
    }

    /** Whether {@link #wrap} works here. */
    public static boolean isAvailable() {
        return SET_FD != null;
    }

    /**
     * A read-only channel over {@code fd}, which it takes over: closing the channel closes {@code fd}.
     *
     * @throws IllegalStateException if not {@link #isAvailable()}
     */
    public static FileChannel wrap(int fd) {
        if (SET_FD == null) {
            throw new IllegalStateException("channels over native descriptors are unavailable");
        }
        FileDescriptor descriptor = new FileDescriptor();
        try {
            SET_FD.invokeExact(descriptor, fd);
        } catch (Throwable e) {
            throw new IllegalStateException("setting a FileDescriptor's fd failed", e);
        }
        return new FileInputStream(descriptor).getChannel();
    }
}
