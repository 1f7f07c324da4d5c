package io.edge.conf;

import com.typesafe.config.ConfigIncludeContext;
import com.typesafe.config.ConfigIncluder;
import com.typesafe.config.ConfigIncluderClasspath;
import com.typesafe.config.ConfigIncluderFile;
import com.typesafe.config.ConfigIncluderURL;
import com.typesafe.config.ConfigObject;
import java.io.File;
import java.net.URL;

/**
 * Makes every {@code include} of an edge configuration required, as nginx's {@code include} of a missing file is
 * an error: HOCON skips a plain {@code include "x.conf"} it cannot find, so a misspelt name would leave the
 * settings it holds at their defaults (a {@code status-allow}, a {@code purge-allow}) without a word. A missing
 * one is reported at its line ({@link ParseErrors}). Everything else is Typesafe's own includer, its fallback.
 */
final class RequiredIncludes implements ConfigIncluder, ConfigIncluderFile, ConfigIncluderURL, ConfigIncluderClasspath {

    /** Typesafe's includer, which parses what is included; given by {@link #withFallback} before any include. */
    private final ConfigIncluder typesafe;

    RequiredIncludes() {
        this(null);
    }

    private RequiredIncludes(ConfigIncluder typesafe) {
        this.typesafe = typesafe;
    }

    @Override
    public ConfigIncluder withFallback(ConfigIncluder fallback) {
        return fallback == typesafe ? this : new RequiredIncludes(fallback);
    }

    @Override
    public ConfigObject include(ConfigIncludeContext context, String what) {
        return typesafe.include(required(context), what);
    }

    @Override
    public ConfigObject includeFile(ConfigIncludeContext context, File what) {
        return ((ConfigIncluderFile) typesafe).includeFile(required(context), what);
    }

    @Override
    public ConfigObject includeURL(ConfigIncludeContext context, URL what) {
        return ((ConfigIncluderURL) typesafe).includeURL(required(context), what);
    }

    @Override
    public ConfigObject includeResources(ConfigIncludeContext context, String what) {
        return ((ConfigIncluderClasspath) typesafe).includeResources(required(context), what);
    }

    private static ConfigIncludeContext required(ConfigIncludeContext context) {
        return context.setParseOptions(context.parseOptions().setAllowMissing(false));
    }
}
