package io.edge.conf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.tuple;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A location's {@code empty-gif} (nginx's empty_gif) onto LocationSettings, and what it may not stand beside. */
class EmptyGifConfigTest {

    @TempDir
    Path dir;

    @Test
    void anEmptyGifLocationIsItsOwnAndANestedOneDoesNotTakeIt() throws Exception {
        EdgeSettings settings = new ConfigLoader().load(EdgeConfFile.write(dir, """
                sites = [{ root = www, locations = [
                  { match = "= /_.gif", empty-gif = true, headers { Cache-Control = "no-store" } }
                  { match = "/px/", empty-gif = true, locations = [{ match = "/px/real/" }] }
                  { match = "/" }
                ] }]
                """));
        SiteSettings site = settings.sites().get(0);
        assertThat(site.locations()).extracting(LocationSettings::match, LocationSettings::handler).containsExactly(
                tuple("= /_.gif", LocationSettings.Handler.EMPTY_GIF),
                tuple("/px/", LocationSettings.Handler.EMPTY_GIF),
                tuple("/", LocationSettings.Handler.STATIC));
        assertThat(site.locations().get(1).locations()).extracting(LocationSettings::handler)
                .as("nginx's handler is the location's own, never merged inward")
                .containsExactly(LocationSettings.Handler.STATIC);
    }

    @Test
    void besideAnotherAnswerItIsAProblem() throws Exception {
        Path file = EdgeConfFile.write(dir, """
                fastcgi.backends.php { addresses = ["unix:/run/php.sock"] }
                sites = [{ root = www, locations = [
                  { match = "= /a.gif", empty-gif = true, fastcgi = php }
                  { match = "= /b.gif", empty-gif = true, return = "204" }
                  { match = "= /c.gif", empty-gif = true, status = true }
                  { match = "/d/", empty-gif = true, front-controller = "/index.html" }
                ] }]
                """);
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(file));
        assertThat(e.problems()).extracting(ConfigProblem::key, ConfigProblem::line, ConfigProblem::message)
                .containsExactlyInAnyOrder(
                        tuple("edge.sites[0].locations[0].empty-gif", 4, "true in a location with fastcgi"),
                        tuple("edge.sites[0].locations[1].empty-gif", 5, "true in a location with return"),
                        tuple("edge.sites[0].locations[2].empty-gif", 6, "true in a location with status = true"),
                        tuple("edge.sites[0].locations[3].empty-gif", 7, "true in a location with front-controller"));
    }
}
