package io.edge.core.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.conf.LocationSettings.Kind;
import io.edge.core.http.RequestTarget;
import org.junit.jupiter.api.Test;

/** nginx's rules for the URI a proxied request goes out with. */
class ProxyTargetTest {

    @Test
    void withoutAUriPartTheRequestsUriGoesAsSent() {
        String sent = "/api/a%20b/./c?x=%20";
        assertThat(ProxyTarget.of(sent, RequestTarget.parse(sent).path(), "x=%20", Kind.PREFIX, "/api/", null))
                .as("as sent: not normalised, not decoded").isEqualTo(sent);
        assertThat(ProxyTarget.of("http://host.test/api/x?q", "/api/x", "q", Kind.PREFIX, "/api/", null))
                .as("an absolute-form target in origin form").isEqualTo("/api/x?q");
        // a rewrite changed the path: the changed one, encoded
        assertThat(ProxyTarget.of("/old?q=1", "/new path/ü", "q=1", Kind.REGEX, "^/old", null))
                .isEqualTo("/new%20path/%C3%BC?q=1");
    }

    @Test
    void aUriPartReplacesTheLocationsPrefix() {
        assertThat(ProxyTarget.of("/api/users?id=1", "/api/users", "id=1", Kind.PREFIX, "/api/", "/"))
                .isEqualTo("/users?id=1");
        assertThat(ProxyTarget.of("/api/a%20b", "/api/a b", "", Kind.PREFIX_NO_REGEX, "/api/", "/v2/"))
                .isEqualTo("/v2/a%20b");
        assertThat(ProxyTarget.of("/exact", "/exact", "", Kind.EXACT, "/exact", "/other")).isEqualTo("/other");
        // a path a rewrite brought here from outside the prefix goes whole
        assertThat(ProxyTarget.of("/x", "/elsewhere", "", Kind.PREFIX, "/api/", "/")).isEqualTo("/elsewhere");
    }
}
