package io.edge.cache.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** HTTP dates as RFC 9110 5.6.7 has a recipient read them: the three forms, whole, and nothing else. */
class HttpDatesTest {

    private static final Instant NOV_6_1994 = Instant.parse("1994-11-06T08:49:37Z");

    @ParameterizedTest
    @ValueSource(strings = {"Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994", "sun, 06 nov 1994 08:49:37 gmt", "Sun, 06 Nov 1994 08:49:37 UTC",
            "Sun, 06 Nov 1994 08:49:37 +0000"})
    void eachOfTheThreeFormsIsRead(String value) {
        assertThat(HttpDates.parse(value)).isNotNull().satisfies(d -> assertThat(d.toInstant()).isEqualTo(NOV_6_1994));
    }

    /** A list, a date with more after it, or another zone than GMT is no date: RFC 9110 13.1.3 and 13.1.4 ignore it. */
    @ParameterizedTest
    @ValueSource(strings = {"Sun, 06 Nov 1994 08:49:37 GMT, Sun, 06 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 08:49:37 GMT garbage", "Sun, 06 Nov 1994 08:49:37 PST", "Sun, 06 Nov 1994 08:49:37",
            "Sun, 6 Nov 1994 08:49:37 GMT", "0", "-1", "", "Sun, 06 Nov 1994 08:49 GMT", "06 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 08:49:37 +0100", "Xyz, 06 Nov 1994 08:49:37 GMT", "Sun, 06 Abc 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 08:49:3x GMT",
            "Sun, 06 Nov 1994 08:49:37 GMT                                                                         "})
    void anythingElseIsNone(String value) {
        assertThat(HttpDates.parse(value)).isNull();
    }

    @Test
    void noValueIsNone() {
        assertThat(HttpDates.parse(null)).isNull();
    }
}
