package io.edge.core.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class HttpDateTest {

    @Test
    void formatsTheCurrentSecondAndFollowsTheClock() {
        AtomicLong millis = new AtomicLong(1_795_000_000_000L); // 2026-11-18T11:06:40Z
        HttpDate date = new HttpDate(millis::get);
        assertThat(date.current().toString()).isEqualTo("Wed, 18 Nov 2026 11:06:40 GMT");
        millis.addAndGet(999);
        assertThat(date.current().toString()).isEqualTo("Wed, 18 Nov 2026 11:06:40 GMT");
        millis.addAndGet(1);
        assertThat(date.current().toString()).isEqualTo("Wed, 18 Nov 2026 11:06:41 GMT");
        millis.set(1_796_774_400_000L); // a day with one digit: still two
        assertThat(date.current().toString()).isEqualTo("Wed, 09 Dec 2026 00:00:00 GMT");
    }

    @Test
    void formatsPastSecondsAndKeepsSlotsThatCollideApart() {
        assertThat(HttpDate.format(1_795_000_000_999L).toString()).isEqualTo("Wed, 18 Nov 2026 11:06:40 GMT");
        // 256 s later maps to the same slot: the newer second replaces the older, each formatted right
        assertThat(HttpDate.format(1_795_000_256_000L).toString()).isEqualTo("Wed, 18 Nov 2026 11:10:56 GMT");
        assertThat(HttpDate.format(1_795_000_000_000L).toString()).isEqualTo("Wed, 18 Nov 2026 11:06:40 GMT");
        assertThat(HttpDate.format(0).toString()).isEqualTo("Thu, 01 Jan 1970 00:00:00 GMT");
        assertThat(HttpDate.format(-1).toString()).isEqualTo("Wed, 31 Dec 1969 23:59:59 GMT");
    }
}
