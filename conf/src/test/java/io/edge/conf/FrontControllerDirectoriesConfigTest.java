package io.edge.conf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.tuple;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code front-controller-directories}: nginx's try_files with or without {@code $uri/}, read beside front-controller. */
class FrontControllerDirectoriesConfigTest {

    @TempDir
    Path dir;

    @Test
    void trueByDefaultFalseWhereWrittenAndNotTakenByANestedLocation() throws Exception {
        EdgeSettings settings = new ConfigLoader().load(EdgeConfFile.write(dir, """
                sites = [{ root = www, locations = [
                  { match = "/", front-controller = "/index.html" }
                  { match = "/app/", front-controller = "/app/index.html", front-controller-directories = false,
                    locations = [{ match = "/app/x/", front-controller = "/app/x.html" }] }
                ] }]
                """));
        var locations = settings.sites().get(0).locations();
        assertThat(locations).extracting(LocationSettings::frontControllerDirectories).containsExactly(true, false);
        assertThat(locations.get(1).locations().get(0).frontControllerDirectories())
                .as("from location-defaults, as its front-controller, nginx's try_files").isTrue();
    }

    @Test
    void falseWithoutAFrontControllerIsAProblem() throws Exception {
        Path file = EdgeConfFile.write(dir, """
                sites = [{ root = www, locations = [{ match = "/", front-controller-directories = false }] }]
                """);
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(file));
        assertThat(e.problems()).extracting(ConfigProblem::key, ConfigProblem::line, ConfigProblem::message)
                .containsExactly(tuple("edge.sites[0].locations[0].front-controller-directories", 2,
                        "false in a location without front-controller"));
    }
}
