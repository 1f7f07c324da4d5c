package io.edge.it;

/** Waits for what a test can only poll for: a file a script wrote, a figure of the status page. */
final class Awaits {

    private Awaits() {
    }

    interface Condition {
        boolean holds() throws Exception;
    }

    /** Returns once {@code condition} holds; fails after 30 s (a guard: nothing is measured). */
    static void await(Condition condition, String what) throws Exception {
        for (int i = 0; i < 3000; i++) {
            if (condition.holds()) {
                return;
            }
            Thread.sleep(10);
        }
        throw new AssertionError("never: " + what);
    }
}
