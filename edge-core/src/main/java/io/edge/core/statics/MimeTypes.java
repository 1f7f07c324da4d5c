package io.edge.core.statics;

import io.edge.conf.MimeLookup;
import java.util.Locale;
import java.util.Map;

/** Media types by file extension ({@code EdgeSettings.mimeTypes}: lower case, no dot). */
public final class MimeTypes {

    /** What a file with an unknown or no extension is sent as. */
    public static final String DEFAULT = "application/octet-stream";

    private final Map<String, String> byExtension;
    /** Whether an extension of the table holds a dot ({@code "tar.gz"}): only then is more than the last one looked up. */
    private final boolean dotted;

    public MimeTypes(Map<String, String> byExtension) {
        this.byExtension = Map.copyOf(byExtension);
        this.dotted = byExtension.keySet().stream().anyMatch(extension -> extension.indexOf('.') >= 0);
    }

    /**
     * The media type of the last segment of {@code path} ("/a/b.tar.GZ" looks up "gz", or "tar.gz" first where the
     * table names one: {@link MimeLookup}); a name without an extension, or a dotfile name such as ".htaccess", gets
     * {@link #DEFAULT}.
     */
    public String forPath(String path) {
        int slash = path.lastIndexOf('/');
        if (dotted) {
            String type = MimeLookup.typeOf(byExtension, path.substring(slash + 1));
            return type != null ? type : DEFAULT;
        }
        int dot = path.lastIndexOf('.');
        if (dot <= slash + 1 || dot == path.length() - 1) {
            return DEFAULT;
        }
        String type = byExtension.get(path.substring(dot + 1).toLowerCase(Locale.ROOT));
        return type != null ? type : DEFAULT;
    }
}
