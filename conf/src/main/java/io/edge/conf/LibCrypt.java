package io.edge.conf;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The system's crypt(3), libxcrypt's {@code crypt_rn} through JNA: the hashes nginx checks with it on Linux that
 * commons-codec has not (bcrypt {@code $2y$}, yescrypt {@code $y$}), and SHA-crypt rounds past commons-codec's bounds.
 * {@link #AVAILABLE} is false where there is no libcrypt.so.1 (then those hashes are refused when a file is read).
 */
final class LibCrypt {

    /** Why libcrypt could not be bound, or null: it was. */
    private static final String UNAVAILABLE = register();
    /** Whether libcrypt was found. */
    static final boolean AVAILABLE = UNAVAILABLE == null;

    /** libxcrypt's {@code struct crypt_data}: 32 KiB. */
    private static final int DATA_SIZE = 32768;
    /** Each checking thread's own {@code crypt_data}: crypt_rn is reentrant only so. */
    private static final ThreadLocal<Memory> DATA = ThreadLocal.withInitial(() -> new Memory(DATA_SIZE));

    private LibCrypt() {
    }

    /** Binds {@link #crypt_rn}; null, or why it could not be (for the message that refuses a hash). */
    private static String register() {
        try {
            Native.register(LibCrypt.class, NativeLibrary.getInstance("libcrypt.so.1"));
            return null;
        } catch (UnsatisfiedLinkError | RuntimeException e) {
            return e.toString();
        }
    }

    /** Why libcrypt is not there ({@link #AVAILABLE} false), or null. */
    static String unavailabilityCause() {
        return UNAVAILABLE;
    }

    private static native Pointer crypt_rn(byte[] phrase, byte[] setting, Pointer data, int size);

    /** {@code password} hashed with {@code hash}'s method and salt, as its bytes (ISO-8859-1); null where it refuses. */
    static String crypt(byte[] password, String hash) {
        Memory data = DATA.get();
        data.clear();
        Pointer out = crypt_rn(nulTerminated(password), nulTerminated(hash.getBytes(StandardCharsets.ISO_8859_1)),
                data, DATA_SIZE);
        if (out == null) {
            return null;
        }
        String made = new String(out.getByteArray(0, (int) out.indexOf(0, (byte) 0)), StandardCharsets.ISO_8859_1);
        return made.startsWith("*") ? null : made; // "*0"/"*1": libxcrypt's failure token
    }

    private static byte[] nulTerminated(byte[] bytes) {
        return Arrays.copyOf(bytes, bytes.length + 1);
    }
}
