package io.edge.core;

/** Command-line entry point (wired to the configuration loader once it lands). */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        System.err.println("edge: not wired yet");
        System.exit(1);
    }
}
