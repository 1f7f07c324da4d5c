package io.edge.conf;

/**
 * A location's {@code autoindex}, nginx's {@code autoindex on}: a directory with none of the site's index files is
 * answered with a list of what it holds, not 403.
 *
 * @param format    how the list is written (nginx's {@code autoindex_format})
 * @param exactSize sizes in bytes; false: rounded to K, M or G (nginx's {@code autoindex_exact_size off}); the HTML
 *                  list's only
 * @param localTime times in the server's time zone; false: GMT (nginx's {@code autoindex_localtime}); the HTML
 *                  list's only, as nginx's (its XML and JSON are in UTC)
 */
public record Autoindex(Format format, boolean exactSize, boolean localTime) {

    /** nginx's formats: JSONP is the JSON list wrapped in a call of the request's {@code callback} argument. */
    public enum Format { HTML, JSON, JSONP, XML }
}
