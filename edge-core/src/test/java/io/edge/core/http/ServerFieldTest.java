package io.edge.core.http;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The Server field's and edge's pages' signature. */
class ServerFieldTest {

    /**
     * The version said is the build's (surefire passes the project's Maven version as {@code edge.project.version}),
     * from the classes directory the tests run on as from the jar: not a constant that a release leaves behind.
     */
    @Test
    void theVersionIsTheProjects() {
        String projectVersion = System.getProperty("edge.project.version");
        assertThat(projectVersion).as("surefire's edge.project.version").isNotBlank();
        assertThat(ServerField.VERSION).isEqualTo(projectVersion);
        assertThat(ServerField.value(true)).isEqualTo("edge/" + projectVersion);
        assertThat(ServerField.value(false)).isEqualTo("edge");
    }
}
