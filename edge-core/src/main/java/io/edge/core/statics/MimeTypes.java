package io.edge.core.statics;

import java.util.Locale;
import java.util.Map;

/** Media types by file extension ({@code EdgeSettings.mimeTypes}: lower case, no dot). */
public final class MimeTypes {

    /** What a file with an unknown or no extension is sent as. */
    public static final String DEFAULT = "application/octet-stream";

    private final Map<String, String> byExtension;

    public MimeTypes(Map<String, String> byExtension) {
        this.byExtension = Map.copyOf(byExtension);
    }

    /**
     * The media type of the last segment of {@code path} ("/a/b.tar.GZ" looks up "gz"); a name without an
     * extension, or a dotfile name such as ".htaccess", gets {@link #DEFAULT}.
     */
    public String forPath(String path) {
        int slash = path.lastIndexOf('/');
        int dot = path.lastIndexOf('.');
        if (dot <= slash + 1 || dot == path.length() - 1) {
            return DEFAULT;
        }
        String type = byExtension.get(path.substring(dot + 1).toLowerCase(Locale.ROOT));
        return type != null ? type : DEFAULT;
    }
}
