package io.edge.conf;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class BoundedMatchTest {

    /** Three greedy groups and slashes to split at: a regex nginx configurations hold, cubic on a path of slashes. */
    private static final Pattern THUMBNAIL = Pattern.compile("^/(.*)/(.*)/(.*)\\.jpg$");

    @Test
    void aMatchWithinTheBudgetIsFoundAndOneWithoutIsNot() {
        assertThat(BoundedMatch.find(THUMBNAIL, "/a/b/c.jpg", 100)).isEqualTo(BoundedMatch.Result.FOUND);
        assertThat(BoundedMatch.find(THUMBNAIL, "/a/b/c.png", 1_000)).isEqualTo(BoundedMatch.Result.NOT_FOUND);
    }

    @Test
    void aSearchPastItsBudgetGivesUp() {
        String slashes = "/" + "a/".repeat(300) + "b.png"; // about 300^3 / 6 reads to say no
        assertThat(BoundedMatch.find(THUMBNAIL, slashes, BoundedMatch.PATH_STEPS / 10))
                .isEqualTo(BoundedMatch.Result.GAVE_UP);
        assertThat(BoundedMatch.first(THUMBNAIL, slashes, BoundedMatch.PATH_STEPS / 10)).isNull();
        assertThat(BoundedMatch.find(THUMBNAIL, slashes, Integer.MAX_VALUE)).as("unbounded, it says no")
                .isEqualTo(BoundedMatch.Result.NOT_FOUND);
    }

    /** A regex that recurses per character overflows the stack on a long text: that is giving up too. */
    @Test
    void aSearchDeeperThanTheStackGivesUp() {
        Pattern alternation = Pattern.compile("^(?:a|b)*$");
        assertThat(BoundedMatch.find(alternation, "ab".repeat(200_000), Integer.MAX_VALUE))
                .isEqualTo(BoundedMatch.Result.GAVE_UP);
    }

    @Test
    void theFirstMatchCarriesItsGroupsNumberedAndNamed() {
        Matcher match = BoundedMatch.first(Pattern.compile("^/(?<year>[0-9]{4})/([a-z]+)"), "/2026/dec/x",
                BoundedMatch.PATH_STEPS);
        assertThat(match).isNotNull();
        assertThat(match.group("year")).isEqualTo("2026");
        assertThat(match.group(2)).isEqualTo("dec");
        assertThat(BoundedMatch.first(Pattern.compile("^/[0-9]+$"), "/x", BoundedMatch.PATH_STEPS)).isNull();
    }

    @Test
    void theBudgetOfAHostIsTheSmallerOne() {
        String dots = "a.".repeat(120) + "x";
        Pattern cubic = Pattern.compile("^(.*)\\.(.*)\\.(.*)\\.example\\.org$");
        assertThat(BoundedMatch.find(cubic, dots)).isEqualTo(BoundedMatch.Result.GAVE_UP);
        assertThat(BoundedMatch.find(cubic, dots, BoundedMatch.PATH_STEPS)).isEqualTo(BoundedMatch.Result.NOT_FOUND);
    }
}
