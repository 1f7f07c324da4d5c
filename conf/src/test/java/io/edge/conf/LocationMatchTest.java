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

    @Test
    void rejects() {
        assertThatIllegalArgumentException().isThrownBy(() -> LocationMatch.parse("~*")).withMessage("has no regular expression");
        assertThatIllegalArgumentException().isThrownBy(() -> LocationMatch.parse("= /a b"))
                .withMessage("path \"/a b\" contains white space");
        assertThatIllegalArgumentException().isThrownBy(() -> LocationMatch.parse("~ *x"))
                .withMessageStartingWith("bad regular expression: Dangling meta character '*' at index 0");
    }

    @Test
    void editDistanceAndSuggestion() {
        assertThat(UnknownKeys.distance("keepalive", "keep-alive")).isEqualTo(1);
        assertThat(UnknownKeys.distance("", "abc")).isEqualTo(3);
        assertThat(UnknownKeys.suggestion("timout", java.util.List.of("timeout", "threads"))).isEqualTo(" (did you mean \"timeout\"?)");
        assertThat(UnknownKeys.suggestion("zzzzzz", java.util.List.of("timeout"))).isEmpty();
    }
}
