package io.edge.conf;

import com.typesafe.config.ConfigIncludeContext;
import com.typesafe.config.ConfigIncluder;
import com.typesafe.config.ConfigIncluderClasspath;
import com.typesafe.config.ConfigIncluderFile;
import com.typesafe.config.ConfigIncluderURL;
import com.typesafe.config.ConfigObject;
import java.io.File;
import java.net.URL;
import java.nio.file.Path;
import java.util.List;

/**
 * Makes every {@code include} of an edge configuration required, as nginx's {@code include} of a missing file is
 * an error: HOCON skips a plain {@code include "x.conf"} it cannot find, so a misspelt name would leave the
 * settings it holds at their defaults (a {@code status-allow}, a {@code purge-allow}) without a word. A missing
 * one is reported at its line ({@link ParseErrors}). Everything else is Typesafe's own includer, its fallback.
 *
 * <p>It also notes each file it included, for the checks Typesafe does not make ({@link Utf8Check}).
 */
final class RequiredIncludes implements ConfigIncluder, ConfigIncluderFile, ConfigIncluderURL, ConfigIncluderClasspath {

    /** Typesafe's includer, which parses what is included; given by {@link #withFallback} before any include. */
    private final ConfigIncluder typesafe;
    /** The files included so far, absolute, in the order they were read; shared by every copy of this includer. */
    private final List<Path> included;

    /** @param included where the files included are added */
    RequiredIncludes(List<Path> included) {
        this(null, included);
    }

    private RequiredIncludes(ConfigIncluder typesafe, List<Path> included) {
        this.typesafe = typesafe;
        this.included = included;
    }

    @Override
    public ConfigIncluder withFallback(ConfigIncluder fallback) {
        return fallback == typesafe ? this : new RequiredIncludes(fallback, included);
    }

    @Override
    public ConfigObject include(ConfigIncludeContext context, String what) {
        return noted(typesafe.include(required(context), what));
    }

    @Override
    public ConfigObject includeFile(ConfigIncludeContext context, File what) {
        return noted(((ConfigIncluderFile) typesafe).includeFile(required(context), what));
    }

    @Override
    public ConfigObject includeURL(ConfigIncludeContext context, URL what) {
        return noted(((ConfigIncluderURL) typesafe).includeURL(required(context), what)); // a file: URL is a file
    }

    @Override
    public ConfigObject includeResources(ConfigIncludeContext context, String what) {
        return ((ConfigIncluderClasspath) typesafe).includeResources(required(context), what);
    }

    /** {@code object}, its file noted: an included file's object has that file for origin (a URL's or resource's none). */
    private ConfigObject noted(ConfigObject object) {
        String file = object.origin().filename();
        if (file != null) {
            included.add(Path.of(file).toAbsolutePath().normalize());
        }
        return object;
    }

    private static ConfigIncludeContext required(ConfigIncludeContext context) {
        return context.setParseOptions(context.parseOptions().setAllowMissing(false));
    }
}
