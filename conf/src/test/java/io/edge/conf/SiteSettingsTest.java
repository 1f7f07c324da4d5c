package io.edge.conf;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.aio.PathPolicy;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class SiteSettingsTest {

    /**
     * A site's SERVER_NAME and $server_name are its first name, as nginx's $server_name (ngx_http_core_merge_srv_conf),
     * whichever of its names the request's host was: as written but for a leading dot, "" for a site without a name.
     */
    @Test
    void aSitesServerNameIsItsFirstName() {
        assertThat(site("example.org", "www.example.org").serverName()).isEqualTo("example.org");
        assertThat(site("*.example.org", "example.org").serverName()).isEqualTo("*.example.org");
        assertThat(site(".example.org").serverName()).isEqualTo("example.org");
        assertThat(site("www.example.*").serverName()).isEqualTo("www.example.*");
        assertThat(site("~^(www\\.)?Shop\\.net$").serverName()).isEqualTo("~^(www\\.)?Shop\\.net$");
        assertThat(site().serverName()).isEmpty();
    }

    private static SiteSettings site(String... names) {
        return new SiteSettings(List.of(names), true, Path.of("/srv/www"), List.of(), PathPolicy.DEFAULT, List.of());
    }
}
