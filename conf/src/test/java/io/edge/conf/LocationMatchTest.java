package io.edge.conf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import org.junit.jupiter.api.Test;

class LocationMatchTest {

    @Test
    void modifiers() {
        assertThat(LocationMatch.parse("/img/")).isEqualTo(new LocationMatch(LocationSettings.Kind.PREFIX, "/img/", null));
        assertThat(LocationMatch.parse("=/x")).isEqualTo(new LocationMatch(LocationSettings.Kind.EXACT, "/x", null));
        assertThat(LocationMatch.parse("^~  /static/"))
                .isEqualTo(new LocationMatch(LocationSettings.Kind.PREFIX_NO_REGEX, "/static/", null));
        LocationMatch sensitive = LocationMatch.parse("~ \\.PHP$");
        assertThat(sensitive.kind()).isEqualTo(LocationSettings.Kind.REGEX);
        assertThat(sensitive.pattern()).isEqualTo("\\.PHP$");
        assertThat(sensitive.regex().matcher("/a.php").find()).isFalse();
        assertThat(LocationMatch.parse("~* \\.PHP$").regex().matcher("/a.php").find()).isTrue();
    }

    /**
     * Only a line feed ends a line, as in nginx's PCRE: a path that ends in a carriage return (%0d), U+0085, U+2028 or
     * U+2029 does not end in ".jpg", and . matches those characters.
     */
    @Test
    void onlyALineFeedEndsALine() {
        java.util.regex.Pattern jpg = LocationMatch.parse("~ \\.jpg$").regex();
        java.util.regex.Pattern capture = LocationMatch.parse("~ ^/rcap/(.*)$").regex();
        for (String end : new String[] {"\r", "\u0085", "\u2028", "\u2029"}) {
            assertThat(jpg.matcher("/a.jpg" + end).find()).as("%04x", (int) end.charAt(0)).isFalse();
            assertThat(capture.matcher("/rcap/a" + end + "b").matches()).as("%04x", (int) end.charAt(0)).isTrue();
        }
        assertThat(jpg.matcher("/a.jpg\n").find()).as("before a last line feed, as PCRE's $").isTrue();
        assertThat(capture.matcher("/rcap/a\nb").matches()).as(". is no line feed, as PCRE's").isFalse();
    }

    @Test
    void rejects() {
        assertThatIllegalArgumentException().isThrownBy(() -> LocationMatch.parse("~*")).withMessage("has no regular expression");
        assertThatIllegalArgumentException().isThrownBy(() -> LocationMatch.parse("= /a b"))
                .withMessage("path \"/a b\" contains white space");
        assertThatIllegalArgumentException().isThrownBy(() -> LocationMatch.parse("~ *x"))
                .withMessageStartingWith("bad regular expression: Dangling meta character '*' at index 0");
    }

    /**
     * A mistyped modifier is refused, as nginx refuses it ("invalid location modifier"): "~~ a" was the regex "~ a",
     * "=~ /x" the exact path "~ /x"... which matched no request, or another than meant.
     */
    @Test
    void rejectsAModifierThatIsNone() {
        for (String match : new String[] {"~~ a", "=~ /x", "^~~ /x", "~** \\.php$", "== /x", "^ /x", "* /x"}) {
            assertThatIllegalArgumentException().as(match).isThrownBy(() -> LocationMatch.parse(match))
                    .withMessage("has the modifier \"" + match.split(" ")[0] + "\", which is none (expected: =, ^~, ~ "
                            + "or ~*, then a space)");
        }
        assertThat(LocationMatch.parse("~\\.php$").pattern()).as("no space: a regex, as nginx").isEqualTo("\\.php$");
        assertThat(LocationMatch.parse("~~a").pattern()).as("nginx's regex ~a too").isEqualTo("~a");
        assertThat(LocationMatch.parse("~ ^/a b$").pattern()).isEqualTo("^/a b$");
    }

    /**
     * Character classes as nginx's PCRE reads them: Java took [[:digit:]] as the characters ":dgit" (a rule copied from
     * nginx routed /num/digit and not /num/123, and --check-config said nothing); a [ or && inside a class, which the
     * two read differently, is refused.
     */
    @Test
    void characterClassesAreReadAsPcreReadsThem() {
        assertThat(matches("~ ^/num/[[:digit:]]+$", "/num/123")).isTrue();
        assertThat(matches("~ ^/num/[[:digit:]]+$", "/num/digit")).isFalse();
        assertThat(matches("~ ^/[[:alpha:]_-]+/[[:^digit:]]$", "/ab_c-d/x")).isTrue();
        assertThat(matches("~ ^/[[:alpha:]_-]+/[[:^digit:]]$", "/ab_c-d/7")).isFalse();
        assertThat(matches("~ ^/[[:word:]]+\\.[[:xdigit:]]{4}$", "/a_1.beEF")).isTrue();
        assertThat(matches("~* ^/[[:lower:]]+$", "/abc")).isTrue();
        assertThatIllegalArgumentException().as("PCRE: a [ in a class is itself; Java: a nested class")
                .isThrownBy(() -> LocationMatch.parse("~ ^/[a[b]+$")).withMessageStartingWith(
                        "bad regular expression: a [ inside a class at index 4: PCRE, as nginx, takes it as itself");
        assertThatIllegalArgumentException().isThrownBy(() -> LocationMatch.parse("~ ^/[a-z&&[^aeiou]]$"));
        assertThat(matches("~ ^/[a\\[&]+$", "/a[&")).as("escaped, or a single &: the same to both").isTrue();
        assertThat(matches("~ ^/[]x]$", "/]")).as("a ] first in a class is itself").isTrue();
        assertThat(matches("~ ^/[^]x]$", "/y")).isTrue();
        assertThat(matches("~ ^/[^]x]$", "/]")).isFalse();
        assertThat(matches("~ ^/\\Q[[:digit:]]\\E$", "/[[:digit:]]")).as("quoted: as written").isTrue();
        assertThat(matches("~ ^/\\[:x$", "/[:x")).isTrue();
        assertThatIllegalArgumentException().isThrownBy(() -> LocationMatch.parse("~ ^/[[:digits:]]"))
                .withMessage("bad regular expression: unknown POSIX class [:digits:] at index 3");
        assertThatIllegalArgumentException().isThrownBy(() -> LocationMatch.parse("~ ^/[:digit:]"))
                .withMessage("bad regular expression: POSIX class [:digit:] at index 2 outside a class (as [[:digit:]])");
    }

    /**
     * PCRE's named groups as nginx's documentation writes them ({@code (?P<name>...)}, the server_name example's), and
     * a name Java's regex cannot take refused, saying why, rather than with Java's own words.
     */
    @Test
    void pcresNamedGroupsAreJavas() {
        LocationMatch python = LocationMatch.parse("~ ^/(?P<year>\\d{4})/(?P=year)$");
        var matcher = python.regex().matcher("/2024/2024");
        assertThat(matcher.find()).isTrue();
        assertThat(matcher.group("year")).isEqualTo("2024");
        assertThat(matches("~ ^/(?P<year>\\d{4})/(?P=year)$", "/2024/2025")).isFalse();
        assertThat(matches("~ ^/(?<slug>[a-z]+)(?<=a)$", "/ba")).as("a lookbehind is none").isTrue();
        assertThat(matches("~ ^/(?<!x)a$", "/a")).isTrue();
        assertThat(matches("~ ^/\\(?P<x>$", "/(P<x>")).as("escaped: as written").isTrue();
        assertThatIllegalArgumentException().isThrownBy(() -> LocationMatch.parse("~ ^/(?<my_sub>.+)$"))
                .withMessage("bad regular expression: group name \"my_sub\" at index 2: Java's regex takes a letter,"
                        + " then letters and digits only (no '_')");
        assertThatIllegalArgumentException().isThrownBy(() -> LocationMatch.parse("~ ^/(?P<a>x)(?P>a)$"))
                .withMessage("bad regular expression: a recursion into a named group at index 10, which Java's regex"
                        + " has not");
    }

    /**
     * What PCRE and Java read otherwise is refused, not matched otherwise without a word: (?U) is PCRE's ungreedy mode
     * and Java's Unicode classes; (?u) and (?d) are Java's alone; a back reference to a group the regex has not PCRE
     * refuses, Java never matches; white space in a class under (?x) PCRE keeps, Java drops.
     */
    @Test
    void whatPcreAndJavaReadOtherwiseIsRefused() {
        for (String regex : new String[] {"~ (?U)^/(.*)/", "~ ^/(?iU:a)", "~ (?u)^/a", "~ (?d)^/a"}) {
            assertThatIllegalArgumentException().as(regex).isThrownBy(() -> LocationMatch.parse(regex))
                    .withMessageContaining(") at index ").withMessageContaining("is not taken");
        }
        assertThatIllegalArgumentException().isThrownBy(() -> LocationMatch.parse("~ ^/(a)\\2"))
                .withMessage("bad regular expression: \\2 at index 5 refers to a group the regex does not have (it"
                        + " has 1); PCRE, as nginx, refuses it");
        assertThatIllegalArgumentException().isThrownBy(() -> LocationMatch.parse("~ (?x)^/a[ b]"))
                .withMessageContaining("white space inside a class at index 8 under (?x)");
        assertThat(matches("~ ^/(a)(?<b>b)(?:c)(?=b)\\2\\1", "/abcba")).as("two groups, a named one among them")
                .isTrue();
        assertThat(matches("~ (?x) ^/a [b] ", "/ab")).as("(?x) outside a class, as PCRE's").isTrue();
        assertThat(matches("~ (?i)^/A", "/a")).isTrue();
    }

    /**
     * A regex longer than nginx reads a word of its file (4096 bytes: "too long parameter") is refused: Java's compile
     * of a long literal run takes time square in its length, and a location of 200 000 characters held
     * --check-config, or a reload, for minutes. One as long as nginx's longest is taken.
     */
    @Test
    void rejectsARegexLongerThanNginxReads() {
        assertThatIllegalArgumentException().isThrownBy(() -> LocationMatch.parse("~ ^/" + "a".repeat(4095)))
                .withMessage("bad regular expression: 4097 characters long, more than the 4096 nginx reads as one"
                        + " parameter");
        assertThatIllegalArgumentException().as("a map's, an if's or a referer's regex too")
                .isThrownBy(() -> LocationMatch.compile("a".repeat(5000), 0))
                .withMessageStartingWith("bad regular expression: 5000 characters long");
        assertThat(matches("~ ^/" + "a".repeat(4094), "/" + "a".repeat(4094))).isTrue();
    }

    /**
     * A text longer than 1024 characters is said in a problem by its start and its length, as nginx's "too long
     * parameter" says its start: a location regex of 200 000 characters was said whole in each of its problems.
     */
    @Test
    void aLongTextIsQuotedByItsStartAndItsLength() {
        assertThat(LocationMatch.quoted("~ ^/" + "a".repeat(5000)))
                .isEqualTo("\"~ ^/" + "a".repeat(76) + "...\" (5004 characters)");
        assertThat(LocationMatch.quoted("a".repeat(1024))).isEqualTo("\"" + "a".repeat(1024) + "\"");
    }

    private static boolean matches(String match, String path) {
        return LocationMatch.parse(match).regex().matcher(path).find();
    }

    /**
     * A control character is never meant ("\u0000" is a HOCON escape away, and "\b", a regex's word boundary, is a
     * backspace in a quoted string): the location was accepted and matched nothing a client sends. Refused, named by
     * its code point, as no message should carry the character itself.
     */
    @Test
    void rejectsControlCharacters() {
        assertThatIllegalArgumentException().isThrownBy(() -> LocationMatch.parse("/a\u0000b"))
                .withMessage("contains control character U+0000 at index 2");
        assertThatIllegalArgumentException().isThrownBy(() -> LocationMatch.parse("= /x\u007f"))
                .withMessage("contains control character U+007F at index 4");
        assertThatIllegalArgumentException().isThrownBy(() -> LocationMatch.parse("~ ^/a\u0001"))
                .withMessage("contains control character U+0001 at index 5");
        assertThatIllegalArgumentException().isThrownBy(() -> LocationMatch.parse("~* ^/a\tb"))
                .withMessage("contains control character U+0009 at index 6");
        assertThatIllegalArgumentException().isThrownBy(() -> LocationMatch.parse("~ \bwp-admin\b"))
                .withMessage("contains control character U+0008 at index 2 (in a quoted string HOCON reads \\b as a "
                        + "backspace: a word boundary is \\\\b)");
        assertThat(LocationMatch.quoted("/a\u0000b\t")).isEqualTo("\"/a\\u0000b\\u0009\"");
        assertThatIllegalArgumentException().isThrownBy(() -> LocationMatch.parse("/a\tb"))
                .withMessage("path \"/a\\u0009b\" contains white space");
    }

    @Test
    void editDistanceAndSuggestion() {
        assertThat(UnknownKeys.distance("keepalive", "keep-alive")).isEqualTo(1);
        assertThat(UnknownKeys.distance("", "abc")).isEqualTo(3);
        assertThat(UnknownKeys.suggestion("timout", java.util.List.of("timeout", "threads"))).isEqualTo(" (did you mean \"timeout\"?)");
        assertThat(UnknownKeys.suggestion("zzzzzz", java.util.List.of("timeout"))).isEmpty();
    }
}
