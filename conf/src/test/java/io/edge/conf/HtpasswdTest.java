package io.edge.conf;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * htpasswd files as nginx's auth_basic_user_file reads them. The hashes are of "secret", made by openssl passwd, perl's
 * crypt (libxcrypt's, which nginx calls: bcrypt and yescrypt too) and Python's hashlib for the {SHA} forms.
 */
class HtpasswdTest {

    private static final String FILE = """
            # made for the test
            apr1:$apr1$abcdefgh$h9FWgUz3n9YxylKLlR5SQ/
            md5:$1$abcdefgh$cHJi5PXp/ki/ktXzqlk6I1
            sha256:$5$saltsalt$0IyaXrmV7.sGNS6tirgqHLqX/G.FBvgkYA.lpPdS5sA
            sha512:$6$rounds=1000$abc$MqEcPZUYRGGcOeq7PhMpfjfu/F0HrVEI0OlZBijWvO8mSG77iNUDP5MqFceKpJTBc8iITVtNyLiNTRNCxv6oh0
            des:abNANd1rDfiNc
            sha:{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=
            ssha:{SSHA}uJDd0BIdJ9Z7yDCZNWdgYeb33+cBAgME
            plain:{PLAIN}secret:a comment after the hash
            bcrypt:$2b$05$abcdefghijklmnopqrstuuOQiyCxlgf/oeuTqixKmWdcYUh4Hjl0a
            yescrypt:$y$j9T$abcdefghijklmnop$3dL1LkYnZM.OVXuVdnnaKVDlLYT92dRwOzDZ5XiVCe.

            apr1:{PLAIN}second line of a name: the first wins
            """;

    @Test
    void everyKindNginxChecksOnLinuxIsChecked() {
        Htpasswd file = Htpasswd.parse(FILE);
        assertThat(file.problems()).isEmpty();
        assertThat(LibCrypt.AVAILABLE).as("libcrypt.so.1, as on every Debian").isTrue();
        assertThat(file.users()).containsOnlyKeys("apr1", "md5", "sha256", "sha512", "des", "sha", "ssha", "plain",
                "bcrypt", "yescrypt");
        for (String user : file.users().keySet()) {
            assertThat(file.matches(user, "secret")).as(user).isTrue();
            assertThat(file.matches(user, "Secret")).as(user).isFalse();
            assertThat(file.matches(user, "")).as(user).isFalse();
        }
        assertThat(file.matches("nobody", "secret")).isFalse();
        assertThat(file.matches("apr1", "second line of a name")).as("the first line of a name wins").isFalse();
    }

    @Test
    void linesThatNameNoUsableUserAreProblemsAndTheOthersStay() {
        Htpasswd file = Htpasswd.parse("""
                good:{PLAIN}x
                no colon here
                bcrypt:$2y$05$abcdefghijklmnopqrstuu5Rm3T4DbD8ohWdBhXQ6S3DHkWjv7Pxm
                odd:$9$what
                empty:
                """);
        assertThat(file.users()).containsOnlyKeys("good", "bcrypt");
        assertThat(file.problems()).containsExactly(
                "line 2: no \"name:hash\"",
                "line 4: user odd's hash is of a kind edge does not know ($9$wha...)",
                "line 5: user empty's hash is empty or of no kind edge knows");
    }

    /**
     * nginx 1.22 with this file let in "alice" (CRLF), " bob" (the space is the name's), "carol" (her hash ends at the
     * lone CR) and "eve" (no newline at the end); "dave", after that CR on carol's line, and "frank", on a line starting
     * with CR, were not found; nothing in its error log about the blank, whitespace-only or comment lines.
     */
    @Test
    void blankWhitespaceAndCommentLinesAreSkippedAndLinesMayEndInCrlfOrNothing() {
        Htpasswd file = Htpasswd.parse("# comment\n\n   \n\t\n \t \r\n\r\n\r\r\n\rfrank:{PLAIN}f1\n  #x:{PLAIN}hashy\n"
                + "alice:{PLAIN}a1\r\n bob:{PLAIN}b1\ncarol:{PLAIN}c1\rdave:{PLAIN}d1\neve:{PLAIN}e1");
        assertThat(file.problems()).isEmpty();
        assertThat(file.users()).containsOnlyKeys("  #x", "alice", " bob", "carol", "eve");
        assertThat(file.matches("alice", "a1")).isTrue();
        assertThat(file.matches(" bob", "b1")).isTrue();
        assertThat(file.matches("carol", "c1")).as("a CR ends the hash, as LF and ':' do").isTrue();
        assertThat(file.matches("eve", "e1")).isTrue();
    }

    @Test
    void aMalformedHashMatchesNoPassword() {
        assertThat(Htpasswd.matchesHash("x".getBytes(), "{SSHA}not base64!")).isFalse();
        assertThat(Htpasswd.matchesHash("x".getBytes(), "{SSHA}AAAA")).as("shorter than a SHA-1").isFalse();
    }

    @Test
    void namesAndPasswordsAreComparedAsBytes() {
        // "p\u00e4ss" in Latin-1 (one byte for the umlaut), as a client typing it in a Latin-1 locale sends it
        String latin1Password = new String(new byte[] {'p', (byte) 0xe4, 's', 's'}, java.nio.charset.StandardCharsets.ISO_8859_1);
        Htpasswd file = Htpasswd.parse("m\u00fcller:{PLAIN}" + latin1Password + "\n");
        assertThat(file.matches("m\u00fcller", latin1Password)).isTrue();
        assertThat(file.matches("m\u00fcller", "p\u00c3\u00a4ss")).as("its UTF-8 bytes are other bytes").isFalse();
    }
}
