package io.edge.core.statics;

import static io.edge.core.statics.Preconditions.Outcome.NOT_MODIFIED;
import static io.edge.core.statics.Preconditions.Outcome.PRECONDITION_FAILED;
import static io.edge.core.statics.Preconditions.Outcome.PROCEED;
import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.DateFormatter;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.Date;
import org.junit.jupiter.api.Test;

class PreconditionsTest {

    static final String ETAG = "\"18c1f2-1f40\"";
    static final long MTIME = 1_700_000_000_123L;
    static final String MTIME_DATE = DateFormatter.format(new Date(MTIME));
    static final String EARLIER = DateFormatter.format(new Date(MTIME - 60_000));
    static final String LATER = DateFormatter.format(new Date(MTIME + 60_000));
    /** The server's clock in these tests: an hour after the modification. */
    static final long NOW = MTIME + 3_600_000;

    private static HttpHeaders headers(String... nameValues) {
        HttpHeaders h = new DefaultHttpHeaders();
        for (int i = 0; i < nameValues.length; i += 2) {
            h.add(nameValues[i], nameValues[i + 1]);
        }
        return h;
    }

    private static Preconditions.Outcome get(String... nameValues) {
        return Preconditions.evaluate(headers(nameValues), true, ETAG, MTIME, () -> NOW);
    }

    @Test
    void comparisons() {
        assertThat(Preconditions.strongMatch("\"a\"", "\"a\"")).isTrue();
        assertThat(Preconditions.strongMatch("W/\"a\"", "\"a\"")).isFalse();
        assertThat(Preconditions.strongMatch("W/\"a\"", "W/\"a\"")).isFalse();
        assertThat(Preconditions.weakMatch("W/\"a\"", "\"a\"")).isTrue();
        assertThat(Preconditions.weakMatch("\"a\"", "\"b\"")).isFalse();
        assertThat(Preconditions.weakMatch("a", "a")).isFalse();
    }

    @Test
    void ifNoneMatch() {
        assertThat(get()).isEqualTo(PROCEED);
        assertThat(get("If-None-Match", ETAG)).isEqualTo(NOT_MODIFIED);
        assertThat(get("If-None-Match", "W/" + ETAG)).isEqualTo(NOT_MODIFIED);
        assertThat(get("If-None-Match", "\"x\", " + ETAG)).isEqualTo(NOT_MODIFIED);
        assertThat(get("If-None-Match", "\"a,b\",\"c\"")).isEqualTo(PROCEED);
        assertThat(get("If-None-Match", "*")).isEqualTo(NOT_MODIFIED);
        assertThat(get("If-None-Match", "\"other\"")).isEqualTo(PROCEED);
        assertThat(get("If-None-Match", "garbage")).isEqualTo(PROCEED);
        assertThat(Preconditions.evaluate(headers("If-None-Match", ETAG), false, ETAG, MTIME))
                .isEqualTo(PRECONDITION_FAILED);
    }

    /** {@code *} is the whole field or nothing: among tags it makes the list malformed (nginx 1.22 reads it so too). */
    @Test
    void aStarAmongTagsMatchesNothing() {
        assertThat(get("If-None-Match", "\"x\", *")).isEqualTo(PROCEED);
        assertThat(get("If-None-Match", "*, \"x\"")).isEqualTo(PROCEED);
        assertThat(get("If-None-Match", "*x")).isEqualTo(PROCEED);
        assertThat(get("If-Match", "\"x\", *")).isEqualTo(PRECONDITION_FAILED);
        assertThat(get("If-Match", "*", "If-Match", "\"x\"")).as("over two lines").isEqualTo(PRECONDITION_FAILED);
    }

    /**
     * Tags follow each other only after a comma: an element without one matches nothing, and the list is read on
     * from the next comma (nginx).
     */
    @Test
    void tagsNotSeparatedByCommasMatchNothing() {
        assertThat(get("If-None-Match", "\"x\" \"y\", " + ETAG)).as("read on").isEqualTo(NOT_MODIFIED);
        assertThat(get("If-None-Match", "\"x\", *, " + ETAG)).isEqualTo(NOT_MODIFIED);
        assertThat(get("If-None-Match", "\"x\" " + ETAG)).isEqualTo(PROCEED);
        assertThat(get("If-None-Match", ETAG + " \"x\"")).isEqualTo(PROCEED);
        assertThat(get("If-None-Match", ETAG + "garbage")).isEqualTo(PROCEED);
        assertThat(get("If-None-Match", ETAG + " \t, \"x\"")).as("white space before the comma").isEqualTo(NOT_MODIFIED);
        assertThat(get("If-Match", "\"x\"" + ETAG)).isEqualTo(PRECONDITION_FAILED);
    }

    @Test
    void listHeadersSplitOverSeveralLinesAreReadWhole() {
        assertThat(get("If-Match", "\"other\"", "If-Match", ETAG)).isEqualTo(PROCEED);
        assertThat(get("If-None-Match", "\"other\"", "If-None-Match", ETAG)).isEqualTo(NOT_MODIFIED);
        assertThat(get("If-Match", "\"other\"", "If-Match", "\"more\"")).isEqualTo(PRECONDITION_FAILED);
    }

    @Test
    void ifModifiedSinceIsIgnoredWhenIfNoneMatchIsPresent() {
        assertThat(get("If-Modified-Since", MTIME_DATE)).isEqualTo(NOT_MODIFIED);
        assertThat(get("If-Modified-Since", LATER)).isEqualTo(NOT_MODIFIED);
        assertThat(get("If-Modified-Since", EARLIER)).isEqualTo(PROCEED);
        assertThat(get("If-Modified-Since", "not a date")).isEqualTo(PROCEED);
        assertThat(get("If-None-Match", "\"other\"", "If-Modified-Since", LATER)).isEqualTo(PROCEED);
        assertThat(Preconditions.evaluate(headers("If-Modified-Since", LATER), false, ETAG, MTIME)).isEqualTo(PROCEED);
    }

    /**
     * RFC 9110 13.1.3-13.1.5: a date that is no HTTP-date is ignored, a long one too (Netty's parser refuses more than
     * 64 characters with an exception, which was a 500).
     */
    @Test
    void anIfModifiedSinceOrIfUnmodifiedSinceThatIsNoDateIsIgnored() {
        String longer = MTIME_DATE + " " + "x".repeat(64);
        assertThat(get("If-Modified-Since", longer)).isEqualTo(PROCEED);
        assertThat(get("If-Modified-Since", "yesterday")).isEqualTo(PROCEED);
        assertThat(get("If-Unmodified-Since", longer)).isEqualTo(PROCEED);
        assertThat(Preconditions.ifRangeAllows(longer, ETAG, MTIME)).as("If-Range: the whole file").isFalse();
    }

    /**
     * A modification time ahead of the clock is sent as the time of the answer (RFC 9110 8.8.2.1), so a client's
     * If-Unmodified-Since of that Last-Modified is earlier than the mtime: the field is ignored (no usable
     * modification time, 13.1.4), not 412 for a file that did not change.
     */
    @Test
    void anIfUnmodifiedSinceIsIgnoredForAModificationTimeAheadOfTheClock() {
        long now = MTIME - 3_600_000;
        String sentAsLastModified = DateFormatter.format(new Date(now));
        assertThat(Preconditions.evaluate(headers("If-Unmodified-Since", sentAsLastModified), true, ETAG, MTIME,
                () -> now)).isEqualTo(PROCEED);
        assertThat(Preconditions.evaluate(headers("If-Unmodified-Since", sentAsLastModified), true, ETAG, MTIME,
                () -> MTIME + 1000)).as("once the clock passed it").isEqualTo(PRECONDITION_FAILED);
    }

    /**
     * RFC 9110 13.1.3, 13.1.4: a field of more than one member, or a date with more after it or in another zone, is
     * ignored (Netty's parser read the first date of each and the zone as GMT: 412 and 304 where the file is due).
     */
    @Test
    void anIfModifiedSinceOrIfUnmodifiedSinceOfMoreThanOneDateIsIgnored() {
        assertThat(get("If-Unmodified-Since", EARLIER + ", " + EARLIER)).isEqualTo(PROCEED);
        assertThat(get("If-Unmodified-Since", EARLIER + " garbage")).isEqualTo(PROCEED);
        assertThat(get("If-Modified-Since", LATER + ", " + EARLIER)).isEqualTo(PROCEED);
        assertThat(get("If-Modified-Since", LATER.replace("GMT", "PST"))).isEqualTo(PROCEED);
        assertThat(get("If-Unmodified-Since", EARLIER)).as("one date, earlier").isEqualTo(PRECONDITION_FAILED);
    }

    @Test
    void anIfModifiedSinceLaterThanTheServersClockIsIgnored() {
        String future = DateFormatter.format(new Date(NOW + 1000));
        assertThat(get("If-Modified-Since", future)).isEqualTo(PROCEED);
        assertThat(get("If-Modified-Since", DateFormatter.format(new Date(NOW)))).as("now itself")
                .isEqualTo(NOT_MODIFIED);
        assertThat(Preconditions.evaluate(headers("If-Modified-Since", future), true, ETAG, MTIME, () -> NOW + 1000))
                .as("once the clock has reached it").isEqualTo(NOT_MODIFIED);
    }

    /** As nginx's {@code if_modified_since exact}: a future mtime is matched by itself, by no other future date. */
    @Test
    void anIfModifiedSinceInTheFutureThatIsTheModificationTimeIsNotModified() {
        long clock = MTIME - 3_600_000; // the file was modified an hour ahead of the server's clock
        assertThat(Preconditions.evaluate(headers("If-Modified-Since", MTIME_DATE), true, ETAG, MTIME, () -> clock))
                .isEqualTo(NOT_MODIFIED);
        assertThat(Preconditions.evaluate(headers("If-Modified-Since", LATER), true, ETAG, MTIME, () -> clock))
                .as("later still: ignored").isEqualTo(PROCEED);
        assertThat(Preconditions.evaluate(headers("If-Modified-Since", EARLIER), true, ETAG, MTIME, () -> clock))
                .as("before the modification").isEqualTo(PROCEED);
        assertThat(Preconditions.evaluate(headers("If-Modified-Since", MTIME_DATE), false, ETAG, MTIME, () -> clock))
                .as("not a GET or HEAD").isEqualTo(PROCEED);
    }

    @Test
    void ifMatchAndIfUnmodifiedSince() {
        assertThat(get("If-Match", ETAG)).isEqualTo(PROCEED);
        assertThat(get("If-Match", "*")).isEqualTo(PROCEED);
        assertThat(get("If-Match", "W/" + ETAG)).isEqualTo(PRECONDITION_FAILED);
        assertThat(get("If-Match", "\"other\"")).isEqualTo(PRECONDITION_FAILED);
        assertThat(get("If-Unmodified-Since", EARLIER)).isEqualTo(PRECONDITION_FAILED);
        assertThat(get("If-Unmodified-Since", MTIME_DATE)).isEqualTo(PROCEED);
        assertThat(get("If-Match", ETAG, "If-Unmodified-Since", EARLIER)).isEqualTo(PROCEED);
        assertThat(get("If-Match", "\"other\"", "If-None-Match", ETAG)).isEqualTo(PRECONDITION_FAILED);
    }

    @Test
    void ifRange() {
        assertThat(Preconditions.ifRangeAllows(null, ETAG, MTIME)).isTrue();
        assertThat(Preconditions.ifRangeAllows(ETAG, ETAG, MTIME)).isTrue();
        assertThat(Preconditions.ifRangeAllows("W/" + ETAG, ETAG, MTIME)).isFalse();
        assertThat(Preconditions.ifRangeAllows("\"other\"", ETAG, MTIME)).isFalse();
        assertThat(Preconditions.ifRangeAllows(MTIME_DATE, ETAG, MTIME)).isTrue();
        assertThat(Preconditions.ifRangeAllows(EARLIER, ETAG, MTIME)).isFalse();
        assertThat(Preconditions.ifRangeAllows("junk", ETAG, MTIME)).isFalse();
    }

    /**
     * §13.1.5 and §8.8.2.2: a date is a strong validator only once the second it names is over; a file written twice
     * within that second keeps the date for other bytes, and a range of them would be spliced onto the first ones.
     * Within it the whole file is sent, as for a date that does not match (nginx sends the range).
     */
    @Test
    void ifRangeWithTheDateOfTheSecondStillRunningSendsTheWholeFile() {
        long sameSecond = MTIME - MTIME % 1000 + 999;
        assertThat(Preconditions.ifRangeAllows(MTIME_DATE, ETAG, MTIME, () -> sameSecond)).isFalse();
        assertThat(Preconditions.ifRangeAllows(MTIME_DATE, ETAG, MTIME, () -> sameSecond + 1)).isTrue();
        assertThat(Preconditions.ifRangeAllows(ETAG, ETAG, MTIME, () -> sameSecond)).as("the ETag is strong").isTrue();
    }

    /** "*" matches a representation without an entity tag too (a cached answer a script sent none for). */
    @Test
    void aStarMatchesARepresentationWithoutAnEntityTag() {
        DefaultHttpHeaders star = new DefaultHttpHeaders();
        star.set("If-Match", "*");
        assertThat(Preconditions.evaluate(star, true, null, 1_000_000L)).isEqualTo(PROCEED);
        star.clear().set("If-None-Match", "*");
        assertThat(Preconditions.evaluate(star, true, null, 1_000_000L)).isEqualTo(NOT_MODIFIED);
    }
}
