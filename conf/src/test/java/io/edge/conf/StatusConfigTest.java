package io.edge.conf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.tuple;

import java.net.InetAddress;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A location's status flag and status-allow onto LocationSettings. */
class StatusConfigTest {

    @TempDir
    Path dir;

    private Path write(String body) throws Exception {
        return EdgeConfFile.write(dir, body);
    }

    @Test
    void aStatusLocationIsReadWithItsAllowListAndOthersStayFilesOrFastCgi() throws Exception {
        EdgeSettings settings = new ConfigLoader().load(write("""
                fastcgi.backends.php { addresses = ["unix:/run/php.sock"] }
                sites = [{ root = www, locations = [
                  { match = "/" },
                  { match = "~ \\\\.php$", fastcgi = php },
                  { match = "= /edge-status", status = true, status-allow = ["10.0.0.7"] },
                  { match = "= /local-status", status = true }
                ] }]
                """));
        assertThat(settings.sites().get(0).locations()).extracting(LocationSettings::match, LocationSettings::handler)
                .containsExactly(
                        tuple("/", LocationSettings.Handler.STATIC),
                        tuple("~ \\.php$", LocationSettings.Handler.FASTCGI),
                        tuple("= /edge-status", LocationSettings.Handler.STATUS),
                        tuple("= /local-status", LocationSettings.Handler.STATUS));
        assertThat(settings.sites().get(0).locations().get(2).statusAllow())
                .containsExactly(AddressRange.of(InetAddress.getByName("10.0.0.7")));
        assertThat(settings.sites().get(0).locations().get(3).statusAllow())
                .as("loopback by default").containsExactly(AddressRange.of(InetAddress.getByName("127.0.0.1")),
                        AddressRange.of(InetAddress.getByName("::1")));
    }

    @Test
    void statusWithFastCgiAndANameForAnAddressAreProblems() throws Exception {
        Path file = write("""
                fastcgi.backends.php { addresses = ["unix:/run/php.sock"] }
                sites = [{ root = www, locations = [
                  { match = "/", fastcgi = php, status = true },
                  { match = "= /s", status = true, status-allow = ["localhost"] }
                ] }]
                """);
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(file));
        assertThat(e).isNotNull();
        assertThat(e.problems()).extracting(ConfigProblem::key, ConfigProblem::line).containsExactlyInAnyOrder(
                tuple("edge.sites[0].locations[0].status", 4),
                tuple("edge.sites[0].locations[1].status-allow[0]", 5));
        assertThat(e.problems()).filteredOn(p -> p.key().endsWith("status-allow[0]")).singleElement()
                .satisfies(p -> assertThat(p.message()).isEqualTo("\"localhost\" is not an IP address"));
    }

    /** Ranges as nginx's allow takes them: a scraper's subnet need not be listed address by address. */
    @Test
    void anAllowListTakesRanges() throws Exception {
        EdgeSettings settings = new ConfigLoader().load(write("""
                sites = [{ root = www, locations = [
                  { match = "= /s", status = true, status-allow = ["10.1.0.0/16", "fd00::/8", "192.0.2.9"] }
                ] }]
                """));
        List<AddressRange> allow = settings.sites().get(0).locations().get(0).statusAllow();
        for (String in : new String[] {"10.1.0.0", "10.1.255.7", "fd12:3456::1", "192.0.2.9"}) {
            assertThat(AddressRange.anyContains(allow, InetAddress.getByName(in))).as(in).isTrue();
        }
        for (String out : new String[] {"10.2.0.1", "10.0.255.255", "fe80::1", "192.0.2.10"}) {
            assertThat(AddressRange.anyContains(allow, InetAddress.getByName(out))).as(out).isFalse();
        }
    }

    @Test
    void aRangeWithBitsPastItsPrefixOrNoLengthIsAProblem() throws Exception {
        Path file = write("""
                sites = [{ root = www, locations = [
                  { match = "= /s", status = true, status-allow = ["10.0.0.7/8", "10.0.0.0/33", "10.0.0.0/"] }
                ] }]
                """);
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(file));
        assertThat(e).isNotNull();
        assertThat(e.problems()).extracting(ConfigProblem::message).containsExactly(
                "\"10.0.0.7/8\" has bits set past its /8",
                "\"10.0.0.0/33\" has no prefix length from 0 to 32 after its '/'",
                "\"10.0.0.0/\" has no prefix length from 0 to 32 after its '/'");
    }

    /**
     * Only IP literals: four groups out of range, three groups, brackets, a zone or a hex group are each a problem (and
     * are parsed here, never handed to the resolver as names); an IPv4-mapped IPv6 address is the IPv4 one.
     */
    @Test
    void anAllowListTakesOnlyIpLiterals() throws Exception {
        Path file = write("""
                sites = [{ root = www, locations = [
                  { match = "= /s", status = true,
                    status-allow = ["300.0.0.1", "10.0.0", "[::1]", "fe80::1%1", "0x7f.0.0.1", "010.0.0.1",
                      "::ffff:10.0.0.9", "::ffff:0177.0.0.1", "::\uff11", "2001:00db8::1"] }
                ] }]
                """);
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(file));
        assertThat(e).isNotNull();
        assertThat(e.problems()).extracting(ConfigProblem::message).containsExactly(
                "\"300.0.0.1\" is not an IP address",
                "\"10.0.0\" is not an IP address",
                "\"[::1]\" is not an IP address",
                "\"fe80::1%1\" is not an IP address",
                "\"0x7f.0.0.1\" is not an IP address",
                "\"010.0.0.1\" is not an IP address",
                "\"::ffff:0177.0.0.1\" is not an IP address", // its IPv4 tail was read as 177.0.0.1
                "\"::\uff11\" is not an IP address",
                "\"2001:00db8::1\" is not an IP address"); // five hex digits a group: InetAddress took 2001:db8::1

        EdgeSettings settings = new ConfigLoader().load(write("""
                sites = [{ root = www, locations = [
                  { match = "= /s", status = true,
                    status-allow = ["::ffff:10.0.0.9", "::1", "64:ff9b::192.0.2.1", "::ffff:10.1.0.0/112"] }
                ] }]
                """));
        assertThat(settings.sites().get(0).locations().get(0).statusAllow()).containsExactly(
                AddressRange.of(InetAddress.getByName("10.0.0.9")), AddressRange.of(InetAddress.getByName("::1")),
                AddressRange.of(InetAddress.getByName("64:ff9b::c000:201")),
                new AddressRange(InetAddress.getByName("10.1.0.0"), 16));
        ConfigException e2 = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(write("""
                sites = [{ root = www, locations = [
                  { match = "= /s", status = true, status-allow = ["::ffff:10.1.0.0/8", "::ffff:10.1.0.7/112"] }
                ] }]
                """)));
        assertThat(e2.problems()).extracting(ConfigProblem::message).containsExactly(
                "\"::ffff:10.1.0.0/8\" has no prefix length from 96 to 128 after its '/'",
                "\"::ffff:10.1.0.7/112\" has bits set past its /112");
    }
}
