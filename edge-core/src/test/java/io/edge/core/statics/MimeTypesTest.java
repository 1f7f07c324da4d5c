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
}
