package io.edge.conf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.tuple;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A location's {@code secure-link} (nginx's secure_link and secure_link_md5): read onto LocationSettings with its
 * problems, and judged as nginx's module does, at a clock the test gives.
 */
class SecureLinkTest {

    /**
     * nginx's documented vector: {@code echo -n '2147483647/s/link127.0.0.1 secret' | openssl md5 -binary | openssl
     * base64 | tr +/ -_ | tr -d =}.
     */
    private static final String SIGNED = "2147483647/s/link127.0.0.1 secret";
    private static final String HASH = "_e4Nc3iduzkWRm01TBBNYw";
    private static final long NOW = 1_700_000_000L;

    @TempDir
    Path dir;

    private static Supplier<String> signed(String text) {
        return () -> text;
    }

    @Test
    void aRightHashIsOneAndOnePastItsTimeIsZero() {
        assertThat(SecureLink.check(HASH + ",2147483647", signed(SIGNED), NOW)).isEqualTo("1");
        assertThat(SecureLink.check(HASH + ",2147483647", signed(SIGNED), 2147483647L)).as("its second: still good")
                .isEqualTo("1");
        assertThat(SecureLink.check(HASH + ",2147483647", signed(SIGNED), 2147483648L)).as("after it: expired")
                .isEqualTo("0");
        assertThat(SecureLink.check(HASH, signed(SIGNED), Long.MAX_VALUE)).as("no time: never expires")
                .isEqualTo("1");
        assertThat(SecureLink.check(HASH + "==", signed(SIGNED), NOW)).as("padded").isEqualTo("1");
        assertThat(SecureLink.check(HASH + "=x", signed(SIGNED), NOW)).as("nginx reads no further than the '='")
                .isEqualTo("1");
        assertThat(SecureLink.expiresText(HASH + ",2147483647")).isEqualTo("2147483647");
    }

    @Test
    void aWrongMalformedOrMissingLinkIsEmpty() {
        assertThat(SecureLink.check("", signed(SIGNED), NOW)).isEmpty();
        assertThat(SecureLink.check(",2147483647", signed(SIGNED), NOW)).isEmpty();
        assertThat(SecureLink.check(HASH + ",", signed(SIGNED), NOW)).as("a comma without a time").isEmpty();
        assertThat(SecureLink.check(HASH + ",0", signed(SIGNED), NOW)).as("time 0").isEmpty();
        assertThat(SecureLink.check(HASH + ",+2147483647", signed(SIGNED), NOW)).as("digits alone").isEmpty();
        assertThat(SecureLink.check(HASH + ",99999999999999999999", signed(SIGNED), NOW)).as("past a long").isEmpty();
        assertThat(SecureLink.check(HASH + ",2147483647", signed(SIGNED + "x"), NOW)).as("another text").isEmpty();
        assertThat(SecureLink.check("_e4Nc3iduzkWRm01TBBNYX", signed(SIGNED), NOW)).as("last character changed")
                .isEmpty();
        assertThat(SecureLink.check("/e4Nc3iduzkWRm01TBBNYw", signed(SIGNED), NOW)).as("standard alphabet's '/'")
                .isEmpty();
        assertThat(SecureLink.check(HASH.substring(1), signed(SIGNED), NOW)).as("15 bytes").isEmpty();
        assertThat(SecureLink.check(HASH + "AA", signed(SIGNED), NOW)).as("17 bytes").isEmpty();
        assertThat(SecureLink.check(HASH + "==AAA", signed(SIGNED), NOW)).as("longer than 24").isEmpty();
        assertThat(SecureLink.expiresText(HASH)).isNull();
        assertThat(SecureLink.expiresText(HASH + ",x")).isNull();
    }

    @Test
    void theMd5IsWorkedOutOnlyForAWellFormedHash() {
        AtomicInteger asked = new AtomicInteger();
        SecureLink.check("short,2147483647", () -> {
            asked.incrementAndGet();
            return SIGNED;
        }, NOW);
        assertThat(asked).hasValue(0);
    }

    @Test
    void base64UrlIsDecodedAsNginxsDecoderDoes() {
        assertThat(SecureLink.decodeBase64Url("TWFu")).containsExactly('M', 'a', 'n');
        assertThat(SecureLink.decodeBase64Url("TWE")).containsExactly('M', 'a');
        assertThat(SecureLink.decodeBase64Url("TQ==")).containsExactly('M');
        assertThat(SecureLink.decodeBase64Url("TR")).as("unused bits not checked").containsExactly('M');
        assertThat(SecureLink.decodeBase64Url("-_")).containsExactly(0xfb);
        assertThat(SecureLink.decodeBase64Url("TWFuT")).as("one character over").isNull();
        assertThat(SecureLink.decodeBase64Url("TW+u")).isNull();
    }

    private SecureLink read(String secureLink) throws Exception {
        EdgeSettings settings = new ConfigLoader().load(EdgeConfFile.write(dir, """
                sites = [{ root = www, locations = [{ match = "~ ^/thumbs/(.+)$", secure-link %s }] }]
                """.formatted(secureLink)));
        return settings.sites().get(0).locations().get(0).secureLink();
    }

    @Test
    void aLocationReadsItsLinkMd5AndAnswers() throws Exception {
        SecureLink link = read("""
                { link = "$arg_md5,$arg_expires", md5 = "$secure_link_expires$uri$remote_addr secret" }""");
        assertThat(link.link()).extracting(Return.Part::literal, Return.Part::variable).containsExactly(
                tuple(null, "arg_md5"), tuple(",", null), tuple(null, "arg_expires"));
        assertThat(link.md5()).extracting(Return.Part::literal, Return.Part::variable).containsExactly(
                tuple(null, "secure_link_expires"), tuple(null, "uri"), tuple(null, "remote_addr"),
                tuple(" secret", null));
        assertThat(link.invalid().status()).as("reference.conf's").isEqualTo(403);
        assertThat(link.expired().status()).isEqualTo(410);
        SecureLink redirects = read("""
                { link = "$arg_h", md5 = "$uri s3cr$$t", invalid = "302 /signed-only.png?for=$1", expired = 444 }""");
        assertThat(redirects.invalid().status()).isEqualTo(302);
        assertThat(redirects.invalid().text()).extracting(Return.Part::variable).contains("1");
        assertThat(redirects.expired().status()).isEqualTo(444);
        assertThat(redirects.md5()).extracting(Return.Part::literal).contains(" s3cr$t");
        assertThat(read("{}")).as("none asked for").isNull();
    }

    /**
     * location-defaults' answers, a site's redirect for every link it refuses, apply where a location asks for a link
     * and are no fault where one does not (as referers' invalid without valid); an answer a location writes alone is.
     */
    @Test
    void locationDefaultsAnswersAreNoFaultWhereALocationHasNoLink() throws Exception {
        EdgeSettings settings = new ConfigLoader().load(EdgeConfFile.write(dir, """
                location-defaults { secure-link { invalid = "302 /login", expired = null } }
                sites = [{ root = www, locations = [
                  { match = "/thumbs/", secure-link { link = "$arg_md5", md5 = "$uri secret" } }
                  { match = "/" }
                ]}]
                """));
        SecureLink thumbs = settings.sites().get(0).locations().get(0).secureLink();
        assertThat(thumbs.invalid().status()).isEqualTo(302);
        assertThat(thumbs.expired()).as("none: a link past its time goes on").isNull();
        assertThat(settings.sites().get(0).locations().get(1).secureLink()).isNull();
    }

    @Test
    void everyProblemIsSaidWithItsLineAndKey() throws Exception {
        Path file = EdgeConfFile.write(dir, """
                sites = [{ root = www, locations = [
                  { match = "/a/", secure-link { link = "$arg_md5" } }
                  { match = "/b/", secure-link { expired = 404 } }
                  { match = "/c/", secure-link { link = "$arg_md5,$secure_link_expires", md5 = "$secure_link x" } }
                  { match = "/d/", secure-link { link = "$arg_md5", md5 = "$nomap$uri", invalid = "99", expired = "302" } }
                ]}]
                """);
        List<ConfigProblem> problems = catchThrowableOfType(ConfigException.class,
                () -> new ConfigLoader().load(file)).problems();
        assertThat(problems).extracting(ConfigProblem::line, ConfigProblem::key).containsExactlyInAnyOrder(
                tuple(3, "edge.sites[0].locations[0].secure-link.link"),
                tuple(4, "edge.sites[0].locations[1].secure-link.expired"),
                tuple(5, "edge.sites[0].locations[2].secure-link.link"),
                tuple(5, "edge.sites[0].locations[2].secure-link.md5"),
                tuple(6, "edge.sites[0].locations[3].secure-link.md5"),
                tuple(6, "edge.sites[0].locations[3].secure-link.invalid"),
                tuple(6, "edge.sites[0].locations[3].secure-link.expired"));
        assertThat(problems).extracting(ConfigProblem::message).contains(
                "set without md5, which turn the check on together",
                "set without link and md5, which turn the check on together",
                "\"$arg_md5,$secure_link_expires\" has $secure_link_expires, which the link itself makes",
                "\"$secure_link x\" has $secure_link, which the md5 itself makes",
                "\"99\" has status 99, not from 200 to 599",
                "\"302\" has no URL for its redirect (302)");
        assertThat(problems).extracting(ConfigProblem::message).anySatisfy(message -> assertThat(message)
                .startsWith("\"$nomap$uri\" has unknown variable $nomap"));
    }
}
