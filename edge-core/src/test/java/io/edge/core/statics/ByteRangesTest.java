package io.edge.core.statics;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.core.statics.ByteRanges.Full;
import io.edge.core.statics.ByteRanges.Partial;
import io.edge.core.statics.ByteRanges.Range;
import io.edge.core.statics.ByteRanges.Unsatisfiable;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ByteRangesTest {

    private static List<Range> ranges(String header, long length) {
        return ((Partial) ByteRanges.parse(header, length)).ranges();
    }

    @Test
    void singleRanges() {
        assertThat(ranges("bytes=0-499", 10_000)).containsExactly(new Range(0, 499));
        assertThat(ranges("bytes=500-", 10_000)).containsExactly(new Range(500, 9_999));
        assertThat(ranges("bytes=-500", 10_000)).containsExactly(new Range(9_500, 9_999));
        assertThat(ranges("bytes=-500", 100)).containsExactly(new Range(0, 99));
        assertThat(ranges("bytes=9000-99999", 10_000)).containsExactly(new Range(9_000, 9_999));
        assertThat(ranges("bytes=0-99999999999999999999999", 10)).containsExactly(new Range(0, 9));
        assertThat(ranges("Bytes = 1-2".replace(" ", ""), 10)).containsExactly(new Range(1, 2));
        assertThat(ranges(" bytes=1-2 , ", 10)).containsExactly(new Range(1, 2));
        assertThat(((Partial) ByteRanges.parse("bytes=1-2", 10)).isMultipart()).isFalse();
        assertThat(new Range(1, 2).contentRange(10)).isEqualTo("bytes 1-2/10");
    }

    @Test
    void multipleRangesKeepTheOrderAskedForAndAreCoalesced() {
        // RFC 9110 §15.3.7.2: parts SHOULD come in the order of their specs (a PDF reader asks for what it needs first)
        Partial p = (Partial) ByteRanges.parse("bytes=500-599,0-99", 1000);
        assertThat(p.isMultipart()).isTrue();
        assertThat(p.ranges()).containsExactly(new Range(500, 599), new Range(0, 99));
        assertThat(ranges("bytes=0-99,50-149,150-199", 1000)).containsExactly(new Range(0, 199));
        assertThat(ranges("bytes=0-0,0-0,0-0", 1000)).containsExactly(new Range(0, 0));
        assertThat(ranges("bytes=-10,0-9", 100)).containsExactly(new Range(90, 99), new Range(0, 9));
        // a merged range takes the place of its earliest spec
        assertThat(ranges("bytes=800-899,300-399,0-9,350-449", 1000))
                .containsExactly(new Range(800, 899), new Range(300, 449), new Range(0, 9));
        assertThat(ranges("bytes=700-799,0-9,5-705", 1000)).containsExactly(new Range(0, 799));
        assertThat(ranges("bytes=0-9,5000-6000", 100)).containsExactly(new Range(0, 9));
    }

    /** As many ranges as Apache's MaxRanges are served (a PDF reader asks for dozens); one more, the whole file. */
    @Test
    void tooManyRangesAreIgnored() {
        StringBuilder sb = new StringBuilder("bytes=");
        for (int i = 0; i < ByteRanges.MAX_RANGES; i++) {
            sb.append(i * 10).append('-').append(i * 10 + 1).append(',');
        }
        assertThat(ranges(sb.toString(), 100_000)).hasSize(200).startsWith(new Range(0, 1))
                .endsWith(new Range(1990, 1991));
        sb.append("5000-5001");
        assertThat(ByteRanges.parse(sb.toString(), 100_000)).isInstanceOf(Full.class);
    }

    /**
     * RFC 9110 §14.1.1: a suffix is the one range an empty file can satisfy, and no 206 can carry zero bytes: the
     * whole (empty) file, 200, as nginx sends it. It was a 416, which says no range could be satisfied. So is a range
     * from its start, as nginx 1.22 answers "bytes=0-" and "bytes=0-0" of an empty file (RFC 9110 §14.2 lets a server
     * ignore Range; a 416 there stops {@code curl -C -} resuming it), while one past its start stays a 416, as there.
     */
    @Test
    void aSuffixOrTheStartOfAnEmptyFileIsTheWholeFile() {
        assertThat(ByteRanges.parse("bytes=-5", 0)).isInstanceOf(Full.class);
        assertThat(ByteRanges.parse("bytes=0-0,-1", 0)).isInstanceOf(Full.class);
        assertThat(ByteRanges.parse("bytes=-5", 3)).isEqualTo(new Partial(List.of(new Range(0, 2))));
        assertThat(ByteRanges.parse("bytes=0-", 0)).isInstanceOf(Full.class);
        assertThat(ByteRanges.parse("bytes=0-0", 0)).isInstanceOf(Full.class);
        assertThat(ByteRanges.parse("bytes=5-10", 0)).isEqualTo(new Unsatisfiable(0));
    }

    @Test
    void unsatisfiable() {
        assertThat(ByteRanges.parse("bytes=1000-", 1000)).isEqualTo(new Unsatisfiable(1000));
        assertThat(ByteRanges.parse("bytes=-0", 1000)).isInstanceOf(Unsatisfiable.class);
        assertThat(ByteRanges.parse("bytes=5000-6000,7000-", 1000)).isInstanceOf(Unsatisfiable.class);
        assertThat(ByteRanges.parse("bytes=1-,-0", 0)).isInstanceOf(Unsatisfiable.class);
        assertThat(new Unsatisfiable(1000).contentRange()).isEqualTo("bytes */1000");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "bytes", "bytes=", "bytes=,", "items=0-1", "bytes=abc", "bytes=1-0", "bytes=5",
        "bytes=-", "bytes=1-2-3", "bytes=0x1-2", "bytes=+1-2", "bytes=1--2", "bytes=0-1,junk", "bytes=- 5"})
    void malformedHeadersAreIgnored(String header) {
        assertThat(ByteRanges.parse(header, 1000)).isInstanceOf(Full.class);
    }

    @Test
    void absentHeader() {
        assertThat(ByteRanges.parse(null, 1000)).isInstanceOf(Full.class);
    }
}
