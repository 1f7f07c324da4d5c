package io.edge.core.statics;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

class MimeTypesTest {

    final MimeTypes types = new MimeTypes(Map.of("jpg", "image/jpeg", "gz", "application/gzip", "html", "text/html"));

    @Test
    void byExtension() {
        assertThat(types.forPath("/AB/CD/x.jpg")).isEqualTo("image/jpeg");
        assertThat(types.forPath("/AB/CD/x.JPG")).isEqualTo("image/jpeg");
        assertThat(types.forPath("/a/b.tar.gz")).isEqualTo("application/gzip");
        assertThat(types.forPath("index.html")).isEqualTo("text/html");
    }

    @Test
    void fallback() {
        assertThat(types.forPath("/a/b.unknown")).isEqualTo(MimeTypes.DEFAULT);
        assertThat(types.forPath("/a/README")).isEqualTo(MimeTypes.DEFAULT);
        assertThat(types.forPath("/a.jpg/README")).isEqualTo(MimeTypes.DEFAULT);
        assertThat(types.forPath("/.jpg")).isEqualTo(MimeTypes.DEFAULT);
        assertThat(types.forPath("/x.")).isEqualTo(MimeTypes.DEFAULT);
        assertThat(types.forPath("/")).isEqualTo(MimeTypes.DEFAULT);
    }

    /** A quoted "tar.gz" of mime-types was accepted and never found: only the text after the last dot was looked up. */
    @Test
    void theLongestExtensionListedWins() {
        MimeTypes dotted = new MimeTypes(Map.of("tar.gz", "application/x-tgz", "gz", "application/gzip",
                "jpg", "image/jpeg"));
        assertThat(dotted.forPath("/a/b.TAR.gz")).isEqualTo("application/x-tgz");
        assertThat(dotted.forPath("/a/b.c.tar.gz")).isEqualTo("application/x-tgz");
        assertThat(dotted.forPath("/a/b.gz")).isEqualTo("application/gzip");
        assertThat(dotted.forPath("/a/my.photo.jpg")).isEqualTo("image/jpeg");
        assertThat(dotted.forPath("/a/tar.gz")).as("the name's own part").isEqualTo("application/gzip");
        assertThat(dotted.forPath("/a/.tar.gz")).as("a dotfile's name").isEqualTo("application/gzip");
        assertThat(dotted.forPath("/a.tar.gz/README")).isEqualTo(MimeTypes.DEFAULT);
        assertThat(dotted.forPath("/a/.gz")).isEqualTo(MimeTypes.DEFAULT);
        assertThat(dotted.forPath("/a/b.tar.")).isEqualTo(MimeTypes.DEFAULT);
    }
}
