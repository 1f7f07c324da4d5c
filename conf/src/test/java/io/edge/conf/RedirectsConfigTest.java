package io.edge.conf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.tuple;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code absolute-redirect}, {@code port-in-redirect} and {@code server-name-in-redirect} (nginx's absolute_redirect,
 * port_in_redirect and server_name_in_redirect) onto a location's and a site's {@link LocationSettings.Redirects}.
 */
class RedirectsConfigTest {

    @TempDir
    Path dir;

    @Test
    void withoutTheKeysRedirectsAreAbsoluteWithThePortAndTheRequestsHostAsNginxsDefaults() throws Exception {
        EdgeSettings settings = new ConfigLoader().load(EdgeConfFile.write(dir, """
                sites = [{ root = www, locations = [{ match = "/" }] }]
                """));
        SiteSettings site = settings.sites().get(0);
        assertThat(site.locations().get(0).redirects()).isEqualTo(new LocationSettings.Redirects(true, true, false));
        assertThat(site.redirects()).isEqualTo(LocationSettings.Redirects.DEFAULT);
    }

    @Test
    void aLocationsOwnKeysOverLocationDefaultsWhichTheSitesRewritesFollow() throws Exception {
        EdgeSettings settings = new ConfigLoader().load(EdgeConfFile.write(dir, """
                location-defaults { absolute-redirect = false }
                sites = [{ root = www, locations = [
                  { match = "/" }
                  { match = "/a/", absolute-redirect = true, port-in-redirect = false }
                  { match = "/b/", absolute-redirect = true, server-name-in-redirect = true }
                ] }]
                """));
        SiteSettings site = settings.sites().get(0);
        List<LocationSettings> locations = site.locations();
        assertThat(locations.get(0).redirects()).isEqualTo(new LocationSettings.Redirects(false, true, false));
        assertThat(locations.get(1).redirects()).isEqualTo(new LocationSettings.Redirects(true, false, false));
        assertThat(locations.get(2).redirects()).isEqualTo(new LocationSettings.Redirects(true, true, true));
        assertThat(site.redirects()).as("location-defaults', nginx's server level")
                .isEqualTo(new LocationSettings.Redirects(false, true, false));
    }

    @Test
    void valuesThatAreNoBooleansAreListedWithFileLineKeyAndWhatWasExpected() throws Exception {
        Path file = EdgeConfFile.write(dir, """
                location-defaults { server-name-in-redirect = sometimes }
                sites = [{ root = www, locations = [
                  { match = "/", absolute-redirect = "on please" }
                  { match = "/a/", port-in-redirect = 8080 }
                ] }]
                """);
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(file));
        assertThat(e).isNotNull();
        assertThat(e.problems()).extracting(ConfigProblem::file, ConfigProblem::line, ConfigProblem::key,
                        ConfigProblem::message, ConfigProblem::expected)
                .containsExactlyInAnyOrder(
                        tuple(file, 2, "edge.location-defaults.server-name-in-redirect",
                                "\"sometimes\" is not a boolean",
                                "true or false (nginx's server_name_in_redirect on or off)"),
                        tuple(file, 4, "edge.sites[0].locations[0].absolute-redirect",
                                "\"on please\" is not a boolean", "true or false (nginx's absolute_redirect on or off)"),
                        tuple(file, 5, "edge.sites[0].locations[1].port-in-redirect",
                                "8080 is not a boolean", "true or false (nginx's port_in_redirect on or off)"));
    }
}
