package io.edge.core.statics;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * Parses a {@code Range} request header (RFC 9110 §14.1.2, §14.2) against a representation length.
 *
 * <ul>
 *   <li>absent, another unit, malformed (including {@code first > last}) or more than {@link #MAX_RANGES}
 *       specs: ignored, the whole representation is sent (200), as RFC 9110 allows (nginx's {@code max_ranges}
 *       does so when set; it sets no limit by default);</li>
 *   <li>no spec satisfiable (first byte at or past the end, suffix {@code -0}): 416 with
 *       {@code Content-Range: bytes *}{@code /len};</li>
 *   <li>an empty file asked for a suffix ({@code bytes=-500}): 200 with the (empty) whole. Such a suffix is
 *       satisfiable (RFC 9110 §14.1.1: for a zero-length representation it is the only satisfiable form), so 416 is
 *       wrong, and no 206 can say {@code Content-Range} of zero bytes; nginx sends the 200 too;</li>
 *   <li>otherwise the satisfiable ranges, clamped to the length, overlapping or adjacent ones merged (so a
 *       client cannot make one byte go out many times), in the order they were asked for; one range left is a
 *       plain 206, several a {@code multipart/byteranges} 206.</li>
 * </ul>
 */
public final class ByteRanges {

    /**
     * Range specs beyond which the header is ignored: Apache's MaxRanges default. A reader of PDFs or archives may ask
     * for dozens in one request; with overlapping ones merged, more cost no byte twice, only a part's head each.
     */
    public static final int MAX_RANGES = 200;

    private static final String BYTES = "bytes=";

    private ByteRanges() {
    }

    /** The outcome of {@link #parse}. */
    public sealed interface Result permits Full, Partial, Unsatisfiable {
    }

    /** Send the whole representation (200). */
    public record Full() implements Result {
    }

    /**
     * Send these ranges (206), in the order the client asked for them, disjoint and not adjacent.
     *
     * @param ranges at least one
     */
    public record Partial(List<Range> ranges) implements Result {
        public Partial {
            ranges = List.copyOf(ranges);
            if (ranges.isEmpty()) {
                throw new IllegalArgumentException("a partial response needs a range");
            }
        }

        /** More than one range: a {@code multipart/byteranges} body. */
        public boolean isMultipart() {
            return ranges.size() > 1;
        }
    }

    /**
     * No range can be satisfied (416).
     *
     * @param length the representation length
     */
    public record Unsatisfiable(long length) implements Result {
        /** The {@code Content-Range} value of the 416: {@code bytes *}{@code /length}. */
        public String contentRange() {
            return "bytes */" + length;
        }
    }

    /**
     * Bytes {@code first} to {@code last}, both inclusive.
     */
    public record Range(long first, long last) {
        public Range {
            if (first < 0 || last < first) {
                throw new IllegalArgumentException("range " + first + "-" + last);
            }
        }

        public long length() {
            return last - first + 1;
        }

        /** The {@code Content-Range} value for this range of a representation of {@code total} bytes. */
        public String contentRange(long total) {
            return "bytes " + first + '-' + last + '/' + total;
        }
    }

    private static final Full FULL = new Full();

    /**
     * @param header  the {@code Range} header value, or {@code null}
     * @param length  the representation length in bytes
     */
    public static Result parse(String header, long length) {
        if (header == null || length < 0) {
            return FULL;
        }
        String value = header.trim();
        if (value.length() < BYTES.length() || !value.substring(0, BYTES.length()).toLowerCase(Locale.ROOT).equals(BYTES)) {
            return FULL;
        }
        List<Range> satisfiable = new ArrayList<>();
        boolean wholeOfEmpty = false;
        int specs = 0;
        for (String element : value.substring(BYTES.length()).split(",", -1)) {
            String spec = element.trim();
            if (spec.isEmpty()) {
                continue; // RFC 9110 §5.6.1: empty list elements are allowed and ignored
            }
            if (++specs > MAX_RANGES) {
                return FULL;
            }
            int dash = spec.indexOf('-');
            if (dash < 0) {
                return FULL;
            }
            String firstText = spec.substring(0, dash);
            String lastText = spec.substring(dash + 1);
            if (firstText.isEmpty()) {
                long suffix = number(lastText);
                if (suffix < 0) {
                    return FULL;
                }
                if (suffix > 0 && length > 0) {
                    satisfiable.add(new Range(Math.max(0, length - suffix), length - 1));
                } else if (suffix > 0) {
                    wholeOfEmpty = true;
                }
                continue;
            }
            long first = number(firstText);
            if (first < 0) {
                return FULL;
            }
            long last;
            if (lastText.isEmpty()) {
                last = Long.MAX_VALUE;
            } else {
                last = number(lastText);
                if (last < 0 || last < first) {
                    return FULL;
                }
            }
            if (first < length) {
                satisfiable.add(new Range(first, Math.min(last, length - 1)));
            } else if (first == 0) {
                wholeOfEmpty = true; // "bytes=0-" of an empty file: nginx sends it whole (200), as curl -C - expects
            }
        }
        if (specs == 0 || wholeOfEmpty) {
            return FULL;
        }
        if (satisfiable.isEmpty()) {
            return new Unsatisfiable(length);
        }
        return new Partial(coalesce(satisfiable));
    }

    /**
     * Merges overlapping or adjacent ranges and keeps the order the client asked for them in (RFC 9110 §15.3.7.2:
     * the parts SHOULD come in the order of their specs, those coalesced into others excepted): a merged range takes
     * the place of its earliest spec.
     */
    private static List<Range> coalesce(List<Range> ranges) {
        if (ranges.size() == 1) {
            return ranges;
        }
        List<Asked> byFirst = new ArrayList<>(ranges.size());
        for (int i = 0; i < ranges.size(); i++) {
            byFirst.add(new Asked(ranges.get(i), i));
        }
        byFirst.sort(Comparator.comparingLong(asked -> asked.range().first()));
        List<Asked> merged = new ArrayList<>(ranges.size());
        Asked current = byFirst.get(0);
        for (Asked next : byFirst.subList(1, byFirst.size())) {
            if (next.range().first() <= current.range().last() + 1) {
                current = new Asked(new Range(current.range().first(),
                        Math.max(current.range().last(), next.range().last())), Math.min(current.place(), next.place()));
            } else {
                merged.add(current);
                current = next;
            }
        }
        merged.add(current);
        merged.sort(Comparator.comparingInt(Asked::place));
        return merged.stream().map(Asked::range).toList();
    }

    /** A range and the place of its spec in the header (the earliest of those merged into it). */
    private record Asked(Range range, int place) {
    }

    /** A non-empty run of ASCII digits, saturating at {@code Long.MAX_VALUE}; -1 if not digits. */
    private static long number(String text) {
        if (text.isEmpty()) {
            return -1;
        }
        long value = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            int digit = c - '0';
            value = value > (Long.MAX_VALUE - digit) / 10 ? Long.MAX_VALUE : value * 10 + digit;
        }
        return value;
    }
}
