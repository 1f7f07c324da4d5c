package io.edge.conf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.tuple;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A FastCGI location's fastcgi-pass-headers, nginx's fastcgi_pass_header, read as proxy-pass-headers is. */
class FastCgiPassHeadersConfigTest {

    @TempDir
    Path dir;

    /**
     * The names a location passes of those hidden by default, lower case, location-defaults' where a location has none
     * of its own; a location without fastcgi has none.
     */
    @Test
    void fastcgiPassHeadersAreFieldNames() throws Exception {
        EdgeSettings settings = EdgeConfFile.load(dir, """
                fastcgi.backends.php { addresses = ["unix:/run/php.sock"] }
                location-defaults { fastcgi-pass-headers = ["X-Accel-Expires"] }
                sites = [{ root = www, locations = [
                  { match = "~ \\\\.php$", fastcgi = php, fastcgi-pass-headers = ["X-Accel-Limit-Rate", "Status"] }
                  { match = "/app/", fastcgi = php }
                  { match = "/" }
                ] }]
                """);
        var locations = settings.sites().get(0).locations();
        assertThat(locations.get(0).fastcgiPassHeaders())
                .containsExactlyInAnyOrder("x-accel-limit-rate", "status");
        assertThat(locations.get(1).fastcgiPassHeaders()).containsExactly("x-accel-expires");
        assertThat(locations.get(2).fastcgiPassHeaders()).isEmpty();
    }

    /**
     * A number or boolean is read as its text, as every string and list of strings in the configuration is (HOCON's
     * own reading): {@code 1} and {@code true} are field names a script may send; a list or object in the list is a
     * problem. nginx 1.22 takes any text ({@code fastcgi_pass_header "Bad Name";} passes nginx -t).
     */
    @Test
    void aNumberOrBooleanIsReadAsItsTextAndAListInTheListIsAProblem() throws Exception {
        EdgeSettings settings = EdgeConfFile.load(dir, """
                fastcgi.backends.php { addresses = ["unix:/run/php.sock"] }
                sites = [{ root = www, locations = [{ match = "/", fastcgi = php, fastcgi-pass-headers = [1, true] }] }]
                """);
        assertThat(settings.sites().get(0).locations().get(0).fastcgiPassHeaders()).containsExactlyInAnyOrder("1", "true");

        Path file = EdgeConfFile.write(dir, """
                fastcgi.backends.php { addresses = ["unix:/run/php.sock"] }
                sites = [{ root = www, locations = [{ match = "/", fastcgi = php, fastcgi-pass-headers = [Status, [a]] }] }]
                """);
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(file));
        assertThat(e.problems()).extracting(ConfigProblem::line, ConfigProblem::key, ConfigProblem::message,
                        ConfigProblem::expected)
                .containsExactly(tuple(3, "edge.sites[0].locations[0].fastcgi-pass-headers[1]", "[\"a\"] is not a string",
                        "a string"));
    }

    /**
     * A name that is no field name and the key in a location without fastcgi are problems with their file, line and
     * key, all at once.
     */
    @Test
    void aBadNameOrAKeyWithoutFastcgiIsAProblem() throws Exception {
        Path file = EdgeConfFile.write(dir, """
                fastcgi.backends.php { addresses = ["unix:/run/php.sock"] }
                sites = [{ root = www, locations = [
                  { match = "/app/", fastcgi = php, fastcgi-pass-headers = ["X-Accel-Expires", "Bad Name", ""] }
                  { match = "/", fastcgi-pass-headers = ["X-Accel-Expires"] }
                ] }]
                """);
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(file));
        assertThat(e.problems()).extracting(ConfigProblem::line, ConfigProblem::key, ConfigProblem::message)
                .containsExactlyInAnyOrder(
                        tuple(4, "edge.sites[0].locations[0].fastcgi-pass-headers[1]",
                                "\"Bad Name\" is not a header name"),
                        tuple(4, "edge.sites[0].locations[0].fastcgi-pass-headers[2]", "\"\" is not a header name"),
                        tuple(5, "edge.sites[0].locations[1].fastcgi-pass-headers",
                                "set in a location without fastcgi"));
        assertThat(e.problems()).allSatisfy(p -> assertThat(p.file()).isEqualTo(file));
    }
}
