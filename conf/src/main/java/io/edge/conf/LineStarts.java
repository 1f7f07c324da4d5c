package io.edge.conf;

import java.util.Arrays;

/**
 * Where each line of a text starts, found in one pass, so that the line of an offset is a binary search: a check
 * that names the line of every value of a file of thousands of sites does not count the lines from the top for each.
 * Lines are counted as HOCON counts them: from 1, each ended by LF.
 */
final class LineStarts {

    /** The offset each line starts at, in order: line {@code i + 1} at {@code starts[i]}. */
    private final int[] starts;

    private LineStarts(int[] starts) {
        this.starts = starts;
    }

    static LineStarts of(String text) {
        int[] starts = new int[16];
        int count = 1; // line 1 starts at 0
        for (int i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) {
            if (count == starts.length) {
                starts = Arrays.copyOf(starts, count * 2);
            }
            starts[count++] = i + 1;
        }
        return new LineStarts(Arrays.copyOf(starts, count));
    }

    /** The 1-based line of {@code offset} in the text; a line end is on the line it ends. */
    int lineOf(int offset) {
        int at = Arrays.binarySearch(starts, offset);
        return at >= 0 ? at + 1 : -at - 1; // not a start: the line of the start before it
    }
}
