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

    @Test
    void anXSendfilePathIsReadAsUtf8AndNeverPercentDecoded() {
        assertThat(BackendFileNames.sendfilePath(asSent("/srv/files/café.txt"))).isEqualTo("/srv/files/café.txt");
        assertThat(BackendFileNames.sendfilePath("/srv/files/file%20name.txt")).isEqualTo("/srv/files/file%20name.txt");
        assertThat(BackendFileNames.sendfilePath("/srv/files/caf\u00e9.txt")).as("Latin-1 bytes: as sent")
                .isEqualTo("/srv/files/caf\u00e9.txt");
        assertThat(BackendFileNames.sendfilePath("/srv/files/x\0.txt")).isNull();
    }
}
