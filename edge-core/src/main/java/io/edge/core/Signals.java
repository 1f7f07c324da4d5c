package io.edge.core;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Handlers for the signals an operator sends a running server besides SIGTERM: without one, the JVM's default
 * for SIGHUP runs the shutdown hooks (a drained stop with status 0, which a supervisor's {@code on-failure}
 * restart does not undo) and SIGUSR1 ends the process at once. Through {@code sun.misc.Signal}, reached by
 * reflection: javac warns of it as internal API at every use, and the build fails on warnings. The handler runs
 * on a thread the JVM starts for the signal, never an event loop.
 */
final class Signals {

    private static final Logger LOG = LoggerFactory.getLogger(Signals.class);

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
            signalClass.getMethod("handle", signalClass, handlerClass).invoke(null, signal, handler);
            return true;
        } catch (InvocationTargetException e) {
            LOG.warn("SIG{} cannot be handled here ({}); it keeps the JVM's default", name, e.getCause().toString());
        } catch (ReflectiveOperationException | RuntimeException e) {
            LOG.warn("SIG{} cannot be handled here ({}); it keeps the JVM's default", name, e.toString());
        }
        return false;
    }

    private static Object dispatch(Object proxy, Method method, Object[] args, String name, Runnable action) {
        switch (method.getName()) {
            case "handle" -> {
                try {
                    action.run();
                } catch (RuntimeException e) {
                    LOG.error("handling SIG{}", name, e);
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
