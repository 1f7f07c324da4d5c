package io.edge.fastcgi.cgi;

import java.util.List;
import java.util.Map;

/**
 * Choices in the CGI mapping.
 *
 * @param allowUnderscoresInHeaders pass request headers whose names contain '_' (off by default, so that
 *                                  {@code X-Forwarded_For} cannot pose as {@code X-Forwarded-For})
 * @param extraParams               params added after the standard ones, each value sent as its UTF-8 bytes; a name
 *                                  already set is replaced
 */
public record CgiOptions(boolean allowUnderscoresInHeaders, List<Map.Entry<String, String>> extraParams) {

    public static final CgiOptions DEFAULT = new CgiOptions(false, List.of());

    public CgiOptions {
        extraParams = List.copyOf(extraParams);
    }
}
