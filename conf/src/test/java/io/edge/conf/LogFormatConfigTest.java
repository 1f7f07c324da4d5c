package io.edge.conf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.tuple;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code server.access-log-format} and {@code access-log-escape} (nginx's log_format) onto ServerSettings. */
class LogFormatConfigTest {

    @TempDir
    Path dir;

    @Test
    void aFormatIsReadIntoLiteralsAndNginxsVariables() throws Exception {
        EdgeSettings settings = new ConfigLoader().load(EdgeConfFile.write(dir, """
                server { access-log-format = "$remote_addr [${time_local}] $status $http_x_request_id", access-log-escape = json }
                sites = [{ root = www }]
                """));
        LogFormat format = settings.server().accessLogFormat();
        assertThat(format.json()).isTrue();
        assertThat(format.parts()).extracting(Return.Part::literal, Return.Part::variable).containsExactly(
                tuple(null, "remote_addr"), tuple(" [", null), tuple(null, "time_local"), tuple("] ", null),
                tuple(null, "status"), tuple(" ", null), tuple(null, "http_x_request_id"));
        EdgeSettings plain = new ConfigLoader().load(EdgeConfFile.write(dir, "sites = [{ root = www }]\n"));
        assertThat(plain.server().accessLogFormat()).as("edge's own line").isNull();
    }

    @Test
    void badFormatsAreListedWithWhatIsWrong() throws Exception {
        Path file = EdgeConfFile.write(dir, """
                server { access-log-format = "$remote_addr $gzip_ratio $1", access-log-escape = yaml }
                sites = [{ root = www }]
                """);
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(file));
        assertThat(e).isNotNull();
        assertThat(e.problems()).extracting(ConfigProblem::line, ConfigProblem::key).containsExactlyInAnyOrder(
                tuple(2, "edge.server.access-log-format"), tuple(2, "edge.server.access-log-escape"));
        assertThat(e.problems()).extracting(ConfigProblem::message).anySatisfy(message -> assertThat(message)
                .startsWith("\"$remote_addr $gzip_ratio $1\" has unknown variable $gzip_ratio (known: $args,"));
        Path broken = EdgeConfFile.write(dir, """
                server.access-log-format = "a\\nb"
                sites = [{ root = www }]
                """);
        assertThat(catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(broken)).problems())
                .extracting(ConfigProblem::message).containsExactly(
                        "\"a\\u000ab\" has a line break or a control character: a line is one line");
    }
}
