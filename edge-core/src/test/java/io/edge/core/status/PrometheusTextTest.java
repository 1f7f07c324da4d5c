package io.edge.core.status;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class PrometheusTextTest {

    @Test
    void eachFamilyHasOneHelpAndTypeBeforeItsSamplesInTheOrderFirstAdded() {
        String page = new PrometheusText()
                .counter("edge_a_total", "As.", 3, "group", "php")
                .gauge("edge_b", "Bs now.", 2.5)
                .counter("edge_a_total", "As.", 4, "group", "api")
                .summary("edge_wait_seconds", "", "Waits.", 0.001, "quantile", "0.5")
                .summary("edge_wait_seconds", "_sum", "Waits.", 12.25)
                .summary("edge_wait_seconds", "_count", "Waits.", 7)
                .render();
        assertThat(page).isEqualTo("""
                # HELP edge_a_total As.
                # TYPE edge_a_total counter
                edge_a_total{group="php"} 3
                edge_a_total{group="api"} 4
                # HELP edge_b Bs now.
                # TYPE edge_b gauge
                edge_b 2.5
                # HELP edge_wait_seconds Waits.
                # TYPE edge_wait_seconds summary
                edge_wait_seconds{quantile="0.5"} 0.001
                edge_wait_seconds_sum 12.25
                edge_wait_seconds_count 7
                """);
    }

    @Test
    void labelValuesAreEscapedAndAMissingValueIsNaN() {
        String page = new PrometheusText().gauge("edge_x", "X.", Double.NaN, "path", "a\"b\\c\nd").render();
        assertThat(page).endsWith("edge_x{path=\"a\\\"b\\\\c\\nd\"} NaN\n");
    }

    @Test
    void infinitiesAreWrittenAsTheFormatSpellsThem() {
        assertThat(new PrometheusText().gauge("edge_x", "X.", Double.POSITIVE_INFINITY)
                .gauge("edge_y", "Y.", Double.NEGATIVE_INFINITY).render()).contains("edge_x +Inf\n", "edge_y -Inf\n");
    }

    @Test
    void labelsComeInPairs() {
        assertThatThrownBy(() -> new PrometheusText().gauge("edge_x", "X.", 1, "lonely"))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
