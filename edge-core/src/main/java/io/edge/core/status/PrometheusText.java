package io.edge.core.status;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Metrics in the Prometheus text exposition format (version 0.0.4): one {@code # HELP} and {@code # TYPE} line per
 * metric name, then its samples, in the order first added. Names are the caller's ({@code edge_...}, counters end
 * in {@code _total}); label values are escaped as the format requires.
 */
public final class PrometheusText {

    /** The content type of {@link #render()}. */
    public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private record Family(String help, String type, StringBuilder samples) {
    }

    private final Map<String, Family> families = new LinkedHashMap<>();

    /** A value that only grows (since start). */
    public PrometheusText counter(String name, String help, double value, String... labels) {
        return sample(name, name, help, "counter", value, labels);
    }

    /** A value as it is now. */
    public PrometheusText gauge(String name, String help, double value, String... labels) {
        return sample(name, name, help, "gauge", value, labels);
    }

    /**
     * One sample of summary {@code name}: its {@code _count}, its {@code _sum}, or a quantile (a {@code quantile}
     * label among {@code labels}); all three share the family's HELP and TYPE.
     */
    public PrometheusText summary(String name, String suffix, String help, double value, String... labels) {
        return sample(name, name + suffix, help, "summary", value, labels);
    }

    /** @param labels names and values, alternating */
    private PrometheusText sample(String family, String name, String help, String type, double value, String... labels) {
        if (labels.length % 2 != 0) {
            throw new IllegalArgumentException("labels: " + labels.length + " strings (expected: name, value pairs)");
        }
        Family f = families.computeIfAbsent(family, n -> new Family(help, type, new StringBuilder()));
        StringBuilder out = f.samples().append(name);
        if (labels.length > 0) {
            out.append('{');
            for (int i = 0; i < labels.length; i += 2) {
                if (i > 0) {
                    out.append(',');
                }
                out.append(labels[i]).append("=\"");
                escape(out, labels[i + 1]);
                out.append('"');
            }
            out.append('}');
        }
        out.append(' ').append(format(value)).append('\n');
        return this;
    }

    /** The page: every family's HELP, TYPE and samples. */
    public String render() {
        StringBuilder page = new StringBuilder(4096);
        families.forEach((name, family) -> page.append("# HELP ").append(name).append(' ').append(family.help())
                .append("\n# TYPE ").append(name).append(' ').append(family.type()).append('\n')
                .append(family.samples()));
        return page.toString();
    }

    private static String format(double value) {
        if (Double.isNaN(value)) {
            return "NaN";
        }
        if (Double.isInfinite(value)) {
            return value > 0 ? "+Inf" : "-Inf";
        }
        if (value == Math.rint(value) && Math.abs(value) < 1e15) {
            return Long.toString((long) value);
        }
        return Double.toString(value); // the shortest that reads back exactly; Prometheus takes its E notation
    }

    /** Backslash, double quote and line feed are escaped in label values. */
    private static void escape(StringBuilder out, String value) {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            switch (c) {
                case '\\' -> out.append("\\\\");
                case '"' -> out.append("\\\"");
                case '\n' -> out.append("\\n");
                default -> out.append(c);
            }
        }
    }
}
