package io.edge.conf;

import java.util.Locale;
import java.util.Map;

/**
 * A file's media type by a {@code mime-types} table (lower-case extensions without the leading dot): the longest
 * extension of its name the table names, so that a quoted {@code "tar.gz"} is found for {@code a.tar.gz} before
 * {@code gz}. A dotfile's leading dot starts its name, not an extension ({@code .htaccess} has none).
 */
public final class MimeLookup {

    private MimeLookup() {
    }

    /** The type of the file named {@code name} (no directory), or null where the table names none of its extensions. */
    public static String typeOf(Map<String, String> byExtension, String name) {
        for (int dot = name.indexOf('.', 1); dot >= 0 && dot < name.length() - 1; dot = name.indexOf('.', dot + 1)) {
            String type = byExtension.get(name.substring(dot + 1).toLowerCase(Locale.ROOT));
            if (type != null) {
                return type;
            }
        }
        return null;
    }
}
