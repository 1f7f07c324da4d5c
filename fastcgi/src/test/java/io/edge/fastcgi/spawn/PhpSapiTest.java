package io.edge.fastcgi.spawn;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Against the PHP binaries php8.2-fpm installs (its package depends on php8.2-cli). */
class PhpSapiTest {

    @TempDir
    Path dir;

    @Test
    void phpFpmIsTakenAndThePhpOfTheCommandLineIsNamed() {
        assertThat(PhpSapi.otherThanFpm(Path.of("/usr/sbin/php-fpm8.2"))).isNull();
        assertThat(PhpSapi.otherThanFpm(Path.of("/usr/bin/php8.2"))).isEqualTo("cli");
    }

    /** A wrapper or a stand-in that does not answer as PHP does is left to the start; so is one that cannot run. */
    @Test
    void whatDoesNotAnswerAsPhpIsNotJudged() throws Exception {
        Path wrapper = dir.resolve("fpm-wrapper");
        Files.writeString(wrapper, "#!/bin/sh\necho 'usage: fpm-wrapper [options]'\n");
        Files.setPosixFilePermissions(wrapper, PosixFilePermissions.fromString("rwxr-xr-x"));
        assertThat(PhpSapi.otherThanFpm(wrapper)).isNull();
        assertThat(PhpSapi.otherThanFpm(Path.of("/bin/true"))).isNull();
        assertThat(PhpSapi.otherThanFpm(dir.resolve("missing"))).isNull();
        // one that writes on and on ("-v" forever) is read a line of, and stopped
        assertThat(PhpSapi.otherThanFpm(Path.of("/usr/bin/yes"))).isNull();
        Path cgi = dir.resolve("php-cgi");
        Files.writeString(cgi, "#!/bin/sh\necho 'PHP 8.2.7 (cgi-fcgi) (built: Jun 10 2026)'\n");
        Files.setPosixFilePermissions(cgi, PosixFilePermissions.fromString("rwxr-xr-x"));
        assertThat(PhpSapi.otherThanFpm(cgi)).isEqualTo("cgi-fcgi");
    }
}
