package io.edge.core;

import com.sun.jna.LastErrorException;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;
import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.Arrays;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Handlers for the signals an operator sends a running server besides SIGTERM, and their sending ({@code edge -s}).
 * Without a handler, the JVM's default for SIGHUP runs the shutdown hooks (a drained stop with status 0, which a
 * supervisor's {@code on-failure} restart does not undo) and SIGUSR1 ends the process at once. Through
 * {@code sun.misc.Signal}, reached by reflection: javac warns of it as internal API at every use, and the build fails
 * on warnings. The handler runs on a thread the JVM starts for the signal, never an event loop.
 */
final class Signals {

    /** Looked up when first needed: handlers are set before anything else, and logging takes a while to start. */
    private static Logger log() {
        return LoggerFactory.getLogger(Signals.class);
    }

    private Signals() {
    }

    /**
     * Runs {@code action} each time the process gets {@code name} ({@code "HUP"}, {@code "USR1"}). Returns false,
     * having logged why, where the signal cannot be handled here.
     */
    static boolean handle(String name, Runnable action) {
        try {
            Class<?> signalClass = Class.forName("sun.misc.Signal");
            Class<?> handlerClass = Class.forName("sun.misc.SignalHandler");
            Object signal = signalClass.getConstructor(String.class).newInstance(name);
            Object handler = Proxy.newProxyInstance(Signals.class.getClassLoader(), new Class<?>[] {handlerClass},
                    (proxy, method, args) -> dispatch(proxy, method, args, name, action));
            Method handle = signalClass.getMethod("handle", signalClass, handlerClass);
            Object previous = handle.invoke(null, signal, handler);
            if (previous == handlerClass.getField("SIG_IGN").get(null)) {
                // The JVM leaves a signal the process was started ignoring (nohup, some supervisors) ignored, and
                // says so only by this answer. nginx handles SIGHUP whatever it inherited: so does edge, once the
                // inherited SIG_IGN is undone.
                int number = (int) signalClass.getMethod("getNumber").invoke(signal);
                if (!toDefault(number)) {
                    log().warn("SIG{} is ignored by this process (started under nohup?) and cannot be handled here", name);
                    return false;
                }
                handle.invoke(null, signal, handler);
                if (!ignoredByLauncher(name)) {
                    log().info("SIG{} was ignored by this process (started under nohup?); edge handles it all the same",
                            name);
                }
            }
            return true;
        } catch (InvocationTargetException e) {
            log().warn("SIG{} cannot be handled here ({}); it keeps the JVM's default", name, e.getCause().toString());
        } catch (ReflectiveOperationException | RuntimeException e) {
            log().warn("SIG{} cannot be handled here ({}); it keeps the JVM's default", name, e.toString());
        }
        return false;
    }

    /**
     * Whether bin/edge ignored {@code name} until edge handles it (the JVM's default would end a process just
     * started), which is no news: named in {@code EDGE_SIGNALS_IGNORED_UNTIL_START}.
     */
    private static boolean ignoredByLauncher(String name) {
        String names = System.getenv("EDGE_SIGNALS_IGNORED_UNTIL_START");
        return names != null && Arrays.asList(names.trim().split("\\s+")).contains(name);
    }

    /** Sets {@code number}'s disposition back to the default (signal(2), through JNA); false if that fails. */
    private static boolean toDefault(int number) {
        try {
            Pointer previous = Libc.signal(number, Pointer.NULL); // null: SIG_DFL was the previous one
            return previous == null || !previous.equals(Libc.SIG_ERR);
        } catch (LinkageError | RuntimeException e) {
            log().debug("signal({}, SIG_DFL) failed: {}", number, e.toString());
            return false;
        }
    }

    /**
     * Sends {@code name} ({@code "HUP"}) to process {@code pid}, as kill(1).
     *
     * @throws IOException it could not be sent: the message says why, for an operator
     */
    static void send(long pid, String name) throws IOException {
        int number;
        try {
            Class<?> signalClass = Class.forName("sun.misc.Signal");
            Object signal = signalClass.getConstructor(String.class).newInstance(name);
            number = (int) signalClass.getMethod("getNumber").invoke(signal);
        } catch (InvocationTargetException e) {
            throw new IOException("SIG" + name + " is not known here: " + e.getCause().getMessage());
        } catch (ReflectiveOperationException e) {
            throw new IOException("SIG" + name + " cannot be sent from here: " + e);
        }
        try {
            Libc.kill((int) pid, number);
        } catch (LastErrorException e) {
            throw new IOException(switch (e.getErrorCode()) {
                case ESRCH -> "process " + pid + " has ended";
                case EPERM -> "process " + pid + " may not be signalled by this user (run it as edge's user, or root)";
                default -> "SIG" + name + " to process " + pid + " failed (errno " + e.getErrorCode() + ")";
            });
        }
    }

    private static final int EPERM = 1;
    private static final int ESRCH = 3;

    /** libc's signal(2) and kill(2), loaded on first use. */
    private static final class Libc {
        /** signal(2)'s error answer, (void (*)(int)) -1. */
        static final Pointer SIG_ERR = new Pointer(-1);

        static {
            Native.register(Libc.class, NativeLibrary.getInstance(Platform.C_LIBRARY_NAME));
        }

        static native Pointer signal(int number, Pointer handler);

        static native int kill(int pid, int number) throws LastErrorException;
    }

    private static Object dispatch(Object proxy, Method method, Object[] args, String name, Runnable action) {
        switch (method.getName()) {
            case "handle" -> {
                try {
                    action.run();
                } catch (RuntimeException e) {
                    log().error("handling SIG{}", name, e);
                }
                return null;
            }
            case "equals" -> {
                return proxy == args[0];
            }
            case "hashCode" -> {
                return System.identityHashCode(proxy);
            }
            default -> {
                return "SIG" + name + " handler";
            }
        }
    }
}
