package io.edge.aio.linux;

import com.sun.jna.Native;
import com.sun.jna.Pointer;
import io.netty.util.concurrent.FastThreadLocal;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A thread's own native memory for the arguments and results of one system call at a time: a path, a
 * {@code struct open_how}, a {@code struct statx}... Fields are written and read through a direct
 * {@link ByteBuffer} in native order, which the JIT compiles to plain loads and stores; JNA's {@code Memory}
 * accessors make one JNI call per field (some twenty per static file: open, stat and read).
 */
final class Scratch {

    /** The memory, in native byte order; absolute puts and gets only (its position is never used). */
    final ByteBuffer buffer;
    /** Where it starts, for the system call's pointer arguments. */
    final long address;

    private Scratch(int size) {
        buffer = ByteBuffer.allocateDirect(size).order(ByteOrder.nativeOrder());
        address = Pointer.nativeValue(Native.getDirectBufferPointer(buffer));
    }

    /** One {@code size}-byte scratch per thread that asks, made on its first use there. */
    static FastThreadLocal<Scratch> perThread(int size) {
        return new FastThreadLocal<>() {
            @Override
            protected Scratch initialValue() {
                return new Scratch(size);
            }
        };
    }
}
