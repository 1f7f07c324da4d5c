package io.edge.core.fastcgi;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class BackendFileNamesTest {

    /** A header value as Netty hands it over: one char per byte sent. */
    private static String asSent(String utf8) {
        return new String(utf8.getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1);
    }

    @Test
    void anAccelRedirectUriIsPercentDecodedThenReadAsUtf8() {
        assertThat(BackendFileNames.accelPath("/protected/file%20name.txt")).isEqualTo("/protected/file name.txt");
        assertThat(BackendFileNames.accelPath("/protected/caf%C3%A9.txt")).isEqualTo("/protected/café.txt");
        assertThat(BackendFileNames.accelPath(asSent("/protected/café.txt"))).isEqualTo("/protected/café.txt");
        assertThat(BackendFileNames.accelPath("/a+b/100%.txt")).as("no form decoding; a lone % stays")
                .isEqualTo("/a+b/100%.txt");
        assertThat(BackendFileNames.accelPath("/legacy/caf%E9.txt")).as("not UTF-8: byte for byte")
                .isEqualTo("/legacy/caf\u00e9.txt");
        assertThat(BackendFileNames.accelPath("/protected/x%00.txt")).isNull();
    }

    /** A name that ends in "/" or a "." segment names a directory, as the kernel takes it (a file there: ENOTDIR). */
    @Test
    void aNameEndingInASlashOrADotSegmentNamesADirectory() {
        for (String directory : new String[] {"/protected/file.jpg/", "/protected/file.jpg/.", "/", "/srv/files//"}) {
            assertThat(BackendFileNames.namesDirectory(directory)).as(directory).isTrue();
        }
        for (String file : new String[] {"/protected/file.jpg", "/protected/file.", "/protected/.hidden", "/a/./b"}) {
            assertThat(BackendFileNames.namesDirectory(file)).as(file).isFalse();
        }
    }

    /** As nginx's ngx_http_parse_unsafe_uri: a ".." segment as sent or decoded once, a NUL, no path from the root. */
    @Test
    void anAccelRedirectUriWithADotDotSegmentOrNoPathFromTheRootIsUnsafe() {
        for (String unsafe : new String[] {"/protected/../secret/key.txt", "/protected/..", "/..", "/a/../../b",
                "/protected/%2e%2e/secret/key.txt", "/protected/%2E%2e/x", "/protected/..%2fsecret/key.txt",
                "/protected/.%2E", "/protected/x%00.txt", "protected/file.txt", "../secret", "", "@named"}) {
            assertThat(BackendFileNames.unsafeAccelUri(unsafe)).as(unsafe).isTrue();
        }
        for (String safe : new String[] {"/protected/file.txt", "/protected/..file", "/protected/file..", "/a/./b",
                "/protected/...", "/protected/%252e%252e/x", "/", "/protected/.hidden"}) {
            assertThat(BackendFileNames.unsafeAccelUri(safe)).as(safe).isFalse();
        }
    }

    @Test
    void anXSendfilePathIsReadAsUtf8AndNeverPercentDecoded() {
        assertThat(BackendFileNames.sendfilePath(asSent("/srv/files/café.txt"))).isEqualTo("/srv/files/café.txt");
        assertThat(BackendFileNames.sendfilePath("/srv/files/file%20name.txt")).isEqualTo("/srv/files/file%20name.txt");
        assertThat(BackendFileNames.sendfilePath("/srv/files/caf\u00e9.txt")).as("Latin-1 bytes: as sent")
                .isEqualTo("/srv/files/caf\u00e9.txt");
        assertThat(BackendFileNames.sendfilePath("/srv/files/x\0.txt")).isNull();
    }
}
