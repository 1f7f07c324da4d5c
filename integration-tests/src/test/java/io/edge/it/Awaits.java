package io.edge.it;

import java.util.concurrent.Callable;
import java.util.function.Predicate;

/**
 * Waits for what a test can only poll for: a file a script wrote, a figure of the status page, a line in a log, an
 * answer that changes once a background stat ran. One bound for all (a guard: nothing is measured).
 */
final class Awaits {

    /** How long a wait polls before it fails: 3000 tries 10 ms apart, 30 s and more on a loaded machine. */
    private static final int TRIES = 3000;

    private Awaits() {
    }

    interface Condition {
        boolean holds() throws Exception;
    }

    /** Returns once {@code condition} holds; fails naming {@code what} when it never did. */
    static void await(Condition condition, String what) throws Exception {
        until(condition::holds, Boolean::booleanValue, what);
    }

    /**
     * {@code probe}'s first value that {@code done} accepts, asked every 10 ms; fails naming {@code what} and the last
     * value when none did.
     */
    static <T> T until(Callable<T> probe, Predicate<T> done, String what) throws Exception {
        T value = probe.call();
        for (int i = 0; i < TRIES && !done.test(value); i++) {
            Thread.sleep(10);
            value = probe.call();
        }
        if (!done.test(value)) {
            throw new AssertionError("never: " + what + "; last: " + value);
        }
        return value;
    }
}
