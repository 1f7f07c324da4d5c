package io.edge.fastcgi.regex;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
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

    /** Regexes tried on one text in turn share its budget: a request's path is read so often in all, not per regex. */
    @Test
    void searchesOfOneBudgetedTextShareItsBudget() {
        String slashes = "/" + "a/".repeat(30) + "b.png"; // 34 576 reads to say no
        BoundedMatch.Budgeted text = BoundedMatch.budgeted(slashes, 100_000);
        assertThat(BoundedMatch.find(THUMBNAIL, text)).isEqualTo(BoundedMatch.Result.NOT_FOUND);
        assertThat(BoundedMatch.find(THUMBNAIL, text)).isEqualTo(BoundedMatch.Result.NOT_FOUND);
        assertThat(BoundedMatch.find(THUMBNAIL, text)).as("the third runs out").isEqualTo(BoundedMatch.Result.GAVE_UP);
        assertThat(BoundedMatch.find(THUMBNAIL, slashes, 100_000)).as("a text of its own")
                .isEqualTo(BoundedMatch.Result.NOT_FOUND);
    }

    /**
     * A regex that starts with .* or .+ is tried from the text's start alone, as PCRE anchors it: a long path of one
     * line is read about once, not from each of its characters (8 000^2 / 2 reads, past any budget).
     */
    @Test
    void aRegexStartingWithDotStarIsTriedFromTheStartAloneOnOneLine() {
        String path = "/" + "a".repeat(8000);
        for (String regex : new String[] {"(.+)\\.php$", ".*\\.php$", "(?<all>.+?)\\.(php|jpg|png)$",
                "((.*))\\.php$", ".*+x"}) {
            Pattern pattern = Pattern.compile(regex);
            assertThat(BoundedMatch.find(pattern, path, 100_000)).as(regex).isEqualTo(BoundedMatch.Result.NOT_FOUND);
            assertThat(BoundedMatch.find(pattern, path + ".php", 100_000)).as(regex)
                    .isEqualTo(regex.endsWith("x") ? BoundedMatch.Result.NOT_FOUND : BoundedMatch.Result.FOUND);
        }
        Matcher groups = BoundedMatch.first(Pattern.compile("(.+)/(?<name>[^/]+)\\.php$"), "/a/b/index.php", 1_000);
        assertThat(groups.group(1)).isEqualTo("/a/b");
        assertThat(groups.group("name")).isEqualTo("index");
        assertThat(BoundedMatch.find(Pattern.compile(".*b$"), "a\nb", 100)).as("b on a line of its own: found further in")
                .isEqualTo(BoundedMatch.Result.FOUND);
    }

    @Test
    void onlyARegexWhoseEveryMatchCouldStartAtTheStartCounts() {
        for (String regex : new String[] {".*x", ".+x", ".*?x", "(.*)x", "(?:.+)x", "(?<n>.*)x", ".*(a|b)",
                ".*[|(]x", "(.*)x(a|b)+", ".*\\|"}) {
            assertThat(BoundedMatch.startsWithDotStar(Pattern.compile(regex))).as(regex).isTrue();
        }
        for (String regex : new String[] {"a.*", ".*x|y", "(.*x|y)z", "(?:.*|y)z", "(.+)\\1", ".*\\Gx",
                "(?i).*x", "(?=a).*", "\\.*x", ".x", "[.]*x", ".*\\Q|\\E", "(.*){0}x", "(?:.+){0,0}/b",
                "((.*)x){0}y", ".*\\c[|y", "(.*\\c(|y)z", ".*a(?x)#[", ".*(?ix:a)"}) {
            assertThat(BoundedMatch.startsWithDotStar(Pattern.compile(regex))).as(regex).isFalse();
        }
        assertThat(BoundedMatch.startsWithDotStar(Pattern.compile(".*x", Pattern.LITERAL))).isFalse();
        assertThat(BoundedMatch.startsWithDotStar(Pattern.compile(".*x", Pattern.COMMENTS))).isFalse();
    }

    /**
     * Small regexes that start with .* or .+, built at random (the same every run), on short one-line texts: the search
     * from the start alone finds what Java's search from every start finds, with the same groups, wherever
     * {@link BoundedMatch#startsWithDotStar} says it may.
     */
    @Test
    void theSearchFromTheStartAloneFindsWhatEveryStartFinds() {
        String[] leads = {".*", ".+", ".*?", ".+?", ".*+", "(.*)", "(.+)", "(?:.*)", "(?<n>.+)", "((.*))", "(.*)?",
            "(?:.+)*", "(.*", "(?:.+", "((.+)"};
        String[] atoms = {"a", "b", "/", "\\.", "x?", "(a|b)", "[ab]", "[^/]", "$", "\\b", "\\B", "(?=a)", "(?<=a)",
            "(?<!b)", "a*", "b+", "(?:/a)?", ".", "\\w", "{0}", "{1,2}", ")", ")?", ")*", "|", "|a", "^", "(?i)A",
            "[|]", "\\|"};
        Random random = new Random(42);
        int compared = 0;
        for (int n = 0; n < 20_000; n++) {
            StringBuilder written = new StringBuilder(leads[random.nextInt(leads.length)]);
            for (int k = random.nextInt(5); k > 0; k--) {
                written.append(atoms[random.nextInt(atoms.length)]);
            }
            Pattern regex;
            try {
                regex = Pattern.compile(written.toString());
            } catch (PatternSyntaxException e) {
                continue;
            }
            if (!BoundedMatch.startsWithDotStar(regex)) {
                continue;
            }
            for (int t = 0; t < 10; t++) {
                StringBuilder text = new StringBuilder();
                for (int c = random.nextInt(10); c > 0; c--) {
                    text.append("ab/.xA".charAt(random.nextInt(6)));
                }
                Matcher every = regex.matcher(text);
                Matcher start = BoundedMatch.first(regex, text.toString(), Integer.MAX_VALUE);
                String what = regex + " on \"" + text + "\"";
                if (every.find()) {
                    assertThat(start).as(what).isNotNull();
                    assertThat(start.start()).as(what).isEqualTo(every.start());
                    assertThat(start.end()).as(what).isEqualTo(every.end());
                    for (int g = 1; g <= every.groupCount(); g++) {
                        assertThat(start.group(g)).as(what + ", group " + g).isEqualTo(every.group(g));
                    }
                } else {
                    assertThat(start).as(what).isNull();
                }
                compared++;
            }
        }
        assertThat(compared).as("regexes the search from the start took, times ten texts").isGreaterThan(10_000);
    }
}
