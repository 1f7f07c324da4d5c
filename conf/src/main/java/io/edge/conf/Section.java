package io.edge.conf;

import com.typesafe.config.ConfigList;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigOrigin;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigUtil;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueFactory;
import com.typesafe.config.ConfigValueType;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Typed reads of one configuration object (defaults already laid under it).
 *
 * <p>A read that finds a bad value records a {@link ConfigProblem} and returns a harmless placeholder, so
 * that mapping goes on and every problem in the file is found in one pass; the placeholders never leave
 * {@link ConfigLoader}, which throws when any problem was recorded. A section whose own value was of the
 * wrong type is "broken": its reads return placeholders without reporting, because the one problem that
 * matters was already recorded.
 *
 * <p>A list element or backend with defaults laid under it ({@code site-defaults}, {@code location-defaults},
 * {@code backend-defaults}) knows which keys it wrote itself. A bad value it inherited unchanged is reported
 * by {@link #invalid} where it was written, under the defaults' key ({@code edge.site-defaults.dotfiles}),
 * once however many elements inherit it; a problem about the element as a whole ({@link #problem}) stays the
 * element's.
 */
final class Section {

    private static final int MAX_RENDERED = 80;
    /** A key HOCON needs no quotes for (nor does a reader, to tell where it ends). */
    private static final Pattern PLAIN_KEY = Pattern.compile("[A-Za-z0-9_-]+");
    /** A number as HOCON writes one, with no unit after it: a size in bytes; a duration refused. */
    private static final Pattern BARE_NUMBER = Pattern.compile("[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?");
    /**
     * A size or a duration as text: a number as {@link #BARE_NUMBER} (ASCII digits), then its unit, letters. HOCON
     * reads text Java's {@code Double.parseDouble} takes as a number of bytes or milliseconds before it looks for a
     * unit: {@code "NaN"} was a body limit of 0 (none), {@code "Infinity"} one of 8 EiB, {@code "16d"} 16 ms,
     * {@code "0x1p4 s"} 16 s. White space as HOCON trims it, a no-break space too.
     */
    private static final Pattern NUMBER_AND_UNIT =
            Pattern.compile("[\\s\\h]*([+-]?(?:\\d+\\.?\\d*|\\.\\d+)(?:[eE][+-]?\\d+)?)[\\s\\h]*([A-Za-z]*)[\\s\\h]*");

    private final ConfigObject object;
    private final String path;
    private final ConfigOrigin anchor;
    private final Problems problems;
    private final boolean broken;
    /** The keys written in this element itself, {@code null} when it has no defaults laid under it. */
    private final ConfigObject own;
    /** The defaults laid under {@link #own}, {@code null} when none. */
    private final Section defaults;

    /**
     * @param object   the values, defaults included
     * @param path     its full key, such as {@code edge.server}
     * @param anchor   where the object was written by the user: the line for problems about missing keys
     * @param problems where problems go
     */
    Section(ConfigObject object, String path, ConfigOrigin anchor, Problems problems) {
        this(object, path, anchor, problems, false, null, null);
    }

    private Section(ConfigObject object, String path, ConfigOrigin anchor, Problems problems, boolean broken,
                    ConfigObject own, Section defaults) {
        this.object = object;
        this.path = path;
        this.anchor = anchor;
        this.problems = problems;
        this.broken = broken;
        this.own = own;
        this.defaults = defaults;
    }

    /**
     * The object {@code own} as written, with {@code defaults} laid under it.
     *
     * @param path   its full key, such as {@code edge.fastcgi.backends.php}
     * @param anchor where {@code own} was written
     */
    Section withDefaults(ConfigObject own, Section defaults, String path, ConfigOrigin anchor) {
        return new Section(own.withFallback(defaults.object), path, anchor, problems, broken, own, defaults);
    }

    /**
     * This object under the key {@code path}: where a value inherited from the defaults is wrong for the one inheriting
     * it alone (site-defaults' error page naming a location some site lacks), said at its line under that one's key.
     */
    Section keyedAs(String path) {
        return new Section(object, path, anchor, problems, broken, own, defaults);
    }

    /**
     * This location as the defaults of the locations nested in it, as nginx merges a nested location's settings with
     * its enclosing one's: what it has (its own and what it inherited) but {@code notInherited}, which come from
     * {@code base} ({@code location-defaults}) instead. A value it inherited is still reported where it was written.
     */
    Section enclosing(Set<String> notInherited, Section base) {
        ConfigObject kept = object;
        ConfigObject keptOwn = own();
        for (String name : notInherited) {
            kept = kept.withoutKey(name);
            keptOwn = keptOwn.withoutKey(name);
        }
        return new Section(kept.withFallback(base.object), path, anchor, problems, broken, keptOwn,
                defaults != null ? defaults : base);
    }

    /** Whether this section's own value was of the wrong type (already reported): its reads are placeholders. */
    boolean isBroken() {
        return broken;
    }

    /**
     * The keys written in this object itself, without the defaults laid under it: for an object with no defaults of
     * its own ({@code location-defaults}), those not taken from reference.conf. Those were all there, so a problem
     * named by the first key written ({@code location-defaults.limit-req { nodelay = true }} without a rate) named
     * reference.conf's {@code burst}, with no line.
     */
    ConfigObject own() {
        if (own != null) {
            return own;
        }
        Map<String, ConfigValue> written = new LinkedHashMap<>();
        object.forEach((key, value) -> {
            if (value.origin().resource() == null && !Substitutions.isCopiedDefault(value.origin())) {
                written.put(key, value);
            }
        });
        return written.size() == object.size() ? object : ConfigValueFactory.fromMap(written);
    }

    String path() {
        return path;
    }

    ConfigOrigin anchor() {
        return anchor;
    }

    ConfigObject object() {
        return object;
    }

    String key(String name) {
        return child(path, name);
    }

    /**
     * The key of {@code name} where this location inherited it unchanged from a location it is nested in: that
     * location's, so that what is named after it (a limit's table of its own) is one with it, as nginx's nested
     * location shares the zone of the limit_req it inherits; else this one's own ({@link #key}), location-defaults'
     * too.
     */
    String inheritedKey(String name) {
        Section writer = writer(name);
        return path.startsWith(writer.path + ".locations[") ? writer.key(name) : key(name);
    }

    /**
     * The full key of {@code name} in the object at {@code path} ("" for the root), as HOCON writes it: quoted when
     * it is empty or holds anything but letters, digits, "-" and "_" ({@code edge.mime-types.".png"}), so that the
     * key a problem names can be found in the file and is never read as another ({@code edge.mime-types..png}).
     */
    static String child(String path, String name) {
        String written = PLAIN_KEY.matcher(name).matches() ? name : ConfigUtil.quoteString(name);
        return path.isEmpty() ? written : path + "." + written;
    }

    /** Records a problem about {@code name}, at the line where its value was set (else the object's line). */
    void problem(String name, String message, String expected) {
        if (broken) {
            return;
        }
        ConfigValue value = object.get(name);
        problems.add(value != null ? value.origin() : anchor, key(name), message, expected);
    }

    /**
     * Records a problem about {@code name}, a key left out here (or inherited from reference.conf, with no line of its
     * own), at the line of {@code written}, the object the user wrote that lacks it.
     */
    void problemAt(Section written, String name, String message, String expected) {
        if (!broken) {
            problems.add(written.anchor(), key(name), message, expected);
            problems.silence(key(name));
        }
    }

    /**
     * Records that the value of {@code name} is bad in itself (whatever it belongs to): where it was written,
     * under the defaults' key when it was inherited unchanged from them. It is the one problem of that key: the
     * caller goes on with a placeholder, and what a later check finds wrong with the placeholder (fd-budget = 0
     * read as 1, then "1 leaves no descriptor") is not the user's to read.
     */
    void invalid(String name, String message, String expected) {
        if (!broken) {
            Section writer = writer(name);
            writer.problem(name, message, expected);
            problems.silence(writer.key(name));
        }
    }

    /**
     * Whether the value of {@code name} was found bad in itself ({@link #invalid(String, String, String)}): what was
     * read of it is a placeholder, which a check against another key would report as the user's.
     */
    boolean isInvalid(String name) {
        return problems.isSilenced(writer(name).key(name));
    }

    /** Like {@link #invalid(String, String, String)} for element {@code index} of the list {@code name}. */
    void invalid(String name, int index, String message, String expected) {
        if (!broken) {
            writer(name).problem(name, index, message, expected);
        }
    }

    /**
     * This section, or the defaults when {@code name} is the user's value there, inherited unchanged. A value
     * from reference.conf is never the user's mistake to find there, so it is reported where it is used.
     */
    private Section writer(String name) {
        if (defaults == null || own.containsKey(name)) {
            return this;
        }
        ConfigValue inherited = defaults.object.get(name);
        return inherited != null && inherited.origin().resource() == null ? defaults.writer(name) : this;
    }

    /**
     * Records a problem about element {@code index} of the list {@code name}, at the element's own line and
     * under its own key ({@code name[index]}); about the whole list when it has no such element.
     */
    void problem(String name, int index, String message, String expected) {
        if (broken) {
            return;
        }
        ConfigValue value = object.get(name);
        if (value instanceof ConfigList list && index >= 0 && index < list.size()) {
            problems.add(list.get(index).origin(), key(name) + "[" + index + "]", message, expected);
        } else {
            problem(name, message, expected);
        }
    }

    /** Where {@code name} was written, as a problem about it names it: for a warning found while it is read. */
    WrittenAt writtenAt(String name) {
        ConfigValue value = object.get(name);
        return problems.writtenAt(value == null ? anchor : value.origin(), key(name));
    }

    /**
     * As {@link #writtenAt(String)}, but under the key of the section that wrote {@code name}'s value: the defaults'
     * for one inherited from them unchanged, as {@link #invalid(String, String, String)} says it, once for all.
     */
    WrittenAt writtenAtItsWriter(String name) {
        return writer(name).writtenAt(name);
    }

    /** Where element {@code index} of the list {@code name} was written, as a problem about it names it. */
    WrittenAt writtenAt(String name, int index) {
        ConfigValue value = object.get(name);
        ConfigValue element = value instanceof ConfigList list && index >= 0 && index < list.size()
                ? list.get(index) : value;
        return problems.writtenAt(element == null ? anchor : element.origin(), key(name) + "[" + index + "]");
    }

    /** Whether {@code name} is set to {@code []}: "none at all", as opposed to a value of the wrong type. */
    boolean isEmptyList(String name) {
        return value(name) instanceof ConfigList list && list.isEmpty();
    }

    /** The value, or {@code null} when absent or set to {@code null}. */
    ConfigValue value(String name) {
        ConfigValue value = object.get(name);
        return value == null || value.valueType() == ConfigValueType.NULL ? null : value;
    }

    boolean isSet(String name) {
        return value(name) != null;
    }

    /** A whole number in {@code [min, max]}; placeholder {@code min}. */
    long number(String name, long min, long max) {
        String expected = max >= Integer.MAX_VALUE ? "a whole number >= " + min
                : "a whole number from " + min + " to " + max;
        ConfigValue value = required(name, expected);
        if (value == null) {
            return min;
        }
        String aboveMax = "a whole number from " + min + " to " + max;
        BigDecimal decimal;
        if (value.valueType() == ConfigValueType.STRING) {
            // as written: HOCON reads text Double.parseDouble takes ("16f", "0x1p4", "NaN", other scripts' digits)
            decimal = bareNumber(value);
            if (decimal == null) {
                invalid(name, render(value) + " is not a number", expected);
                return min;
            }
        } else {
            Number number;
            try {
                number = value.atKey("v").getNumber("v");
            } catch (com.typesafe.config.ConfigException e) {
                invalid(name, render(value) + " is not a number", expected);
                return min;
            }
            decimal = decimal(number);
            if (decimal == null) {
                // a number past a double's range (1e400), which HOCON reads as infinity
                invalid(name, render(value) + " is out of range", number.doubleValue() > 0 ? aboveMax : expected);
                return min;
            }
        }
        return wholeInRange(name, value, decimal, min, max, expected, aboveMax);
    }

    /**
     * {@code decimal}, the value of {@code name}, if whole and in {@code [min, max]}; else its problem and placeholder
     * {@code min}, expecting {@code aboveMax} of one past {@code max}. Compared whole: a number past a long's range
     * (HOCON reads it as a double, or caps it) is too large, not fractional.
     */
    private long wholeInRange(String name, ConfigValue value, BigDecimal decimal, long min, long max, String expected,
            String aboveMax) {
        if (decimal.stripTrailingZeros().scale() > 0) {
            invalid(name, render(value) + " is not a whole number", expected);
            return min;
        }
        if (decimal.compareTo(BigDecimal.valueOf(min)) < 0) {
            invalid(name, render(value) + " is out of range", expected);
            return min;
        }
        if (decimal.compareTo(BigDecimal.valueOf(max)) > 0) {
            invalid(name, render(value) + " is out of range", aboveMax);
            return min;
        }
        return decimal.longValueExact();
    }

    /** A number without a unit: {@code value} as a number or as text that is one, exactly; else {@code null}. */
    private static BigDecimal bareNumber(ConfigValue value) {
        if (value.valueType() == ConfigValueType.NUMBER) {
            return decimal((Number) value.unwrapped());
        }
        if (value.valueType() == ConfigValueType.STRING) {
            String text = ((String) value.unwrapped()).trim();
            if (BARE_NUMBER.matcher(text).matches()) {
                return decimal(text);
            }
        }
        return null;
    }

    /**
     * {@code text}, which {@link #BARE_NUMBER} matches, exactly; past what BigDecimal holds (an exponent past an int),
     * one past a long, or half a unit, signed: too large, or a fraction, all the same.
     */
    private static BigDecimal decimal(String text) {
        try {
            return new BigDecimal(text);
        } catch (NumberFormatException e) {
            int e10 = Math.max(text.indexOf('e'), text.indexOf('E'));
            BigDecimal mantissa = new BigDecimal(text.substring(0, e10));
            if (mantissa.signum() == 0) {
                return BigDecimal.ZERO;
            }
            BigDecimal magnitude = text.charAt(e10 + 1) == '-' ? new BigDecimal("0.5")
                    : BigDecimal.valueOf(Long.MAX_VALUE).add(BigDecimal.ONE);
            return magnitude.multiply(BigDecimal.valueOf(mantissa.signum()));
        }
    }

    /** {@code number} exactly, {@code null} for a double that is no number (NaN, infinite). */
    private static BigDecimal decimal(Number number) {
        if (number instanceof BigDecimal decimal) {
            return decimal;
        }
        if (number instanceof BigInteger integer) {
            return new BigDecimal(integer);
        }
        if (number instanceof Double || number instanceof Float) {
            double d = number.doubleValue();
            return Double.isFinite(d) ? new BigDecimal(d) : null;
        }
        return BigDecimal.valueOf(number.longValue());
    }

    int integer(String name, int min, int max) {
        return (int) number(name, min, max);
    }

    /** A size in bytes ({@code 16 MiB}) in {@code [min, max]}; placeholder {@code min}. */
    long bytes(String name, long min, long max) {
        String example = "a size such as " + sizeExample(min, max);
        String expected = example + ", from " + min + " to " + max + " bytes";
        ConfigValue value = required(name, expected);
        if (value == null) {
            return min;
        }
        if (value.valueType() == ConfigValueType.NUMBER && decimal((Number) value.unwrapped()) == null) {
            invalid(name, render(value) + " is out of range", expected); // 1e400: a double's infinity
            return min;
        }
        BigDecimal bare = bareNumber(value);
        if (bare != null) {
            // HOCON reads a number past a long as Long.MAX_VALUE and a fraction of a byte as the byte below, silently
            return wholeInRange(name, value, bare, min, max, expected, expected);
        }
        Matcher written = value.valueType() == ConfigValueType.STRING
                ? NUMBER_AND_UNIT.matcher((String) value.unwrapped()) : null;
        BigDecimal unit = written != null && written.matches() ? bytesOfUnit(written.group(2)) : null;
        if (unit == null) {
            invalid(name, render(value) + " is not a size", example);
            return min;
        }
        // exactly: HOCON reads "0.5 B" as 0 bytes (no limit, for a body) and "1.5 B" as 1, without a word
        BigDecimal size = decimal(written.group(1)).multiply(unit);
        if (size.stripTrailingZeros().scale() > 0) {
            invalid(name, render(value) + " is not a whole number of bytes", expected);
            return min;
        }
        return wholeInRange(name, value, size, min, max, expected, expected);
    }

    /**
     * 16 MiB, or the bound of {@code [min, max]} nearer it where it is outside them: an example the key takes
     * (response-buffer.head-size's range ends at 1 MiB).
     */
    private static String sizeExample(long min, long max) {
        long bytes = Math.max(min, Math.min(max, 16L << 20));
        if (bytes % (1 << 20) == 0 && bytes > 0) {
            return (bytes >> 20) + " MiB";
        }
        return bytes % 1024 == 0 && bytes > 0 ? (bytes >> 10) + " KiB" : bytes + " B";
    }

    /** How HOCON says one of a unit is more than a long holds: "... out of range for a 64-bit long: '1180...'". */
    private static final Pattern PAST_A_LONG = Pattern.compile(".*out of range for a 64-bit long: '(\\d+)'.*");

    /**
     * The bytes of one {@code unit} as HOCON knows it ({@code KiB}, {@code kB}, {@code bytes}, {@code ZiB}, whose one is
     * more than a long holds, which "0 ZiB" is not); null when unknown.
     */
    private static BigDecimal bytesOfUnit(String unit) {
        try {
            return BigDecimal.valueOf(ConfigValueFactory.fromAnyRef("1 " + unit).atKey("v").getBytes("v"));
        } catch (com.typesafe.config.ConfigException e) {
            Matcher past = PAST_A_LONG.matcher(String.valueOf(e.getMessage()));
            return past.matches() ? new BigDecimal(past.group(1)) : null;
        }
    }

    /** A duration ({@code 30 s}), zero allowed or not, never negative; placeholder 1 s. */
    Duration duration(String name, boolean zeroAllowed) {
        return duration(name, zeroAllowed, null);
    }

    /**
     * As {@link #duration(String, boolean)}, at most {@code max} (null: what a long of nanoseconds holds, 106751 d). HOCON saturates a duration too
     * large for a long at {@code Long.MAX_VALUE} ns, so a limit keeps deadlines computed from it from overflowing.
     */
    Duration duration(String name, boolean zeroAllowed, Duration max) {
        // HOCON saturates a duration past a long of nanoseconds (about 292 years) at that long, without a word
        Duration longest = max != null ? max : Duration.ofNanos(Long.MAX_VALUE).minusNanos(1);
        String expected = (zeroAllowed ? "a duration such as 30 s, 0 or more" : "a duration such as 30 s, more than 0")
                + (max == null ? "" : ", at most " + max.toDays() + " d");
        Duration placeholder = Duration.ofSeconds(1);
        ConfigValue value = required(name, expected);
        if (value == null) {
            return placeholder;
        }
        if (isBareNumber(value)) {
            invalid(name, render(value) + " has no unit", expected);
            return placeholder;
        }
        Duration result = durationOf(value);
        if (result == null) {
            invalid(name, render(value) + " is not a duration", "a duration such as 30 s");
            return placeholder;
        }
        if (belowNanosecond(value, result)) {
            // "0.1 ns" read as 0: a keep-alive timeout of 0 turns keep-alive off
            invalid(name, render(value) + " is less than a nanosecond", expected);
            return placeholder;
        }
        if (negative(value, result) || (result.isZero() && !zeroAllowed) || result.compareTo(longest) > 0) {
            invalid(name, render(value) + " is out of range",
                    max == null && result.compareTo(longest) > 0 ? expected + ", at most " + longest.toDays() + " d"
                            : expected);
            return placeholder;
        }
        return result;
    }

    boolean bool(String name) {
        return bool(name, "true or false");
    }

    /** A boolean, as {@link #bool(String)}, where {@code expected} says what to write instead of another value. */
    boolean bool(String name, String expected) {
        ConfigValue value = required(name, expected);
        if (value == null) {
            return false;
        }
        try {
            return value.atKey("v").getBoolean("v");
        } catch (com.typesafe.config.ConfigException e) {
            invalid(name, render(value) + " is not a boolean", expected);
            return false;
        }
    }

    /** A string (numbers and booleans are taken as their text, as HOCON does); placeholder "". */
    String string(String name) {
        ConfigValue value = required(name, "a string");
        return value == null ? "" : asString(name, value);
    }

    /**
     * Like {@link #string} but {@code null} when absent, and when not a string (reported here, so that the caller's
     * checks of the text add no second problem).
     */
    String optionalString(String name) {
        ConfigValue value = value(name);
        if (value == null) {
            return null;
        }
        String text = asString(name, value);
        return isScalar(value) ? text : null;
    }

    /** One of {@code choices} (configuration name to value); placeholder: the first. */
    <E> E choice(String name, Map<String, E> choices) {
        String expected = "one of " + String.join(", ", choices.keySet());
        E first = choices.values().iterator().next();
        ConfigValue value = required(name, expected);
        if (value == null) {
            return first;
        }
        // a number as written: HOCON reads 1.0 as the integer 1 (gzip.http-version = 1.0, as nginx's unquoted 1.0)
        String text = value.valueType() == ConfigValueType.NUMBER ? value.atKey("v").getString("v")
                : asString(name, value);
        E result = choices.get(text);
        if (result == null) {
            if (isScalar(value)) {
                invalid(name, render(value) + " is not allowed" + UnknownKeys.suggestion(text, choices.keySet()),
                        expected);
            }
            return first;
        }
        return result;
    }

    /** One string of a list and its index there, for {@link #problem(String, int, String, String)}. */
    record Element(int index, String text) {
    }

    /** A list of strings, each element checked; placeholder: empty. */
    List<String> strings(String name) {
        return elements(name).stream().map(Element::text).toList();
    }

    /** Like {@link #strings} with each string's index in the list; elements that are not strings are left out. */
    List<Element> elements(String name) {
        ConfigValue value = required(name, "a list of strings");
        List<Element> result = new ArrayList<>();
        if (value == null) {
            return result;
        }
        if (value.valueType() != ConfigValueType.LIST) {
            invalid(name, render(value) + " is not a list", "a list of strings such as [\"a\", \"b\"]");
            return result;
        }
        ConfigList list = (ConfigList) value;
        for (int i = 0; i < list.size(); i++) {
            ConfigValue element = list.get(i);
            if (isScalar(element)) {
                result.add(new Element(i, String.valueOf(element.unwrapped())));
            } else {
                invalid(name, i, render(element) + " is not a string", "a string");
            }
        }
        return result;
    }

    /** A path; relative ones are resolved against {@code base}. {@code null} when absent. */
    Path path(String name, Path base) {
        String text = optionalString(name);
        if (text == null) {
            return null;
        }
        return toPath(name, text, base);
    }

    /** Resolves {@code text} against {@code base}, reporting an unusable path as a problem of {@code name}. */
    Path toPath(String name, String text, Path base) {
        String fault = configuredPathFault(text);
        if (fault != null) {
            invalid(name, fault, "a file system path");
            return null;
        }
        return base.resolve(text).normalize();
    }

    /**
     * What is wrong with {@code text} as a configured path: empty (it would resolve to the base, a directory no one
     * named), white space at its start or end (a mistyped keyword), or {@link #pathFault}; {@code null} when it is one.
     */
    static String configuredPathFault(String text) {
        if (!text.isEmpty() && !text.equals(text.strip())) {
            // "off " or " -" for an access log was a file of that name, " " for run-dir a directory so named
            return render(ConfigValueFactory.fromAnyRef(text)) + " has white space at its start or end";
        }
        return text.isEmpty() ? "empty path" : pathFault(text);
    }

    /**
     * What is wrong with {@code text} as a path on this system ({@code "a\u0000b" is not a valid path: Nul character
     * not allowed}), or {@code null} when it is one.
     */
    static String pathFault(String text) {
        try {
            Path.of(text);
            return null;
        } catch (InvalidPathException e) {
            return render(ConfigValueFactory.fromAnyRef(text)) + " is not a valid path: " + e.getReason();
        }
    }

    /** A nested object; a broken section (placeholders, no further reports) when it is not one. */
    Section section(String name) {
        ConfigValue value = object.get(name);
        if (value != null && value.valueType() == ConfigValueType.OBJECT) {
            Section writer = writer(name);
            if (writer != this) {
                return writer.section(name);
            }
            if (defaults == null) {
                return new Section((ConfigObject) value, key(name), value.origin(), problems, broken, null, null);
            }
            // Written here, perhaps in part: what it leaves out comes from the defaults' object of that name.
            ConfigValue ownValue = own.get(name);
            ConfigValue defaultValue = defaults.object.get(name);
            ConfigObject written = ownValue instanceof ConfigObject o ? o : ConfigValueFactory.fromMap(Map.of());
            Section under = defaultValue instanceof ConfigObject o
                    ? new Section(o, defaults.key(name), o.origin(), problems, defaults.broken, null, null)
                    : null;
            return new Section((ConfigObject) value, key(name), value.origin(), problems, broken,
                    under == null ? null : written, under);
        }
        if (value == null || value.valueType() == ConfigValueType.NULL) {
            missing(name, "an object { ... }");
        } else {
            invalid(name, render(value) + " is not an object", "an object { ... }");
        }
        return new Section(ConfigValueFactory.fromMap(Map.of()), key(name), anchor, problems, true, null, null);
    }

    /**
     * A list of objects, each with {@code defaults} laid under it (see {@link #withDefaults}); elements of another
     * type are problems.
     */
    List<Section> sections(String name, Section defaults) {
        List<Section> result = new ArrayList<>();
        ConfigValue value = required(name, "a list of objects");
        if (value == null) {
            return result;
        }
        if (value.valueType() != ConfigValueType.LIST) {
            invalid(name, render(value) + " is not a list", "a list of objects [{ ... }, { ... }]");
            return result;
        }
        // Elements of a list inherited from defaults are the defaults' to report: keyed under them.
        Section writer = writer(name);
        ConfigList list = (ConfigList) value;
        for (int i = 0; i < list.size(); i++) {
            ConfigValue element = list.get(i);
            if (element.valueType() == ConfigValueType.OBJECT) {
                result.add(writer.withDefaults((ConfigObject) element, defaults, writer.key(name) + "[" + i + "]",
                        element.origin()));
            } else {
                invalid(name, i, render(element) + " is not an object", "an object { ... }");
            }
        }
        return result;
    }

    /** The value of {@code name}, or {@code null} after recording that it is missing. */
    private ConfigValue required(String name, String expected) {
        ConfigValue value = value(name);
        if (value == null) {
            missing(name, expected);
        }
        return value;
    }

    /**
     * Records that {@code name}, which needs a value, has none: set to {@code null} by the user (said so: "missing"
     * sent them looking for a key that is there), else missing.
     */
    void missing(String name, String expected) {
        ConfigValue value = object.get(name);
        Problems.UnsetSubstitution unset = unsetSubstitution(name);
        if (value != null && value.valueType() == ConfigValueType.NULL && Substitutions.isUsersLine(value.origin())) {
            invalid(name, "null is no value", expected);
        } else if (unset != null && !broken) {
            problems.add(unset.origin(), unset.key(), "${?" + unset.name() + "} has no value: " + unset.name()
                    + " is not set", expected);
            problems.silence(key(name));
        } else {
            invalid(name, "missing", expected);
        }
    }

    /**
     * How {@code name} was left without a value by optional substitutions of variables not set: written so here, or
     * in the defaults this section inherits it from; null when it was not.
     */
    private Problems.UnsetSubstitution unsetSubstitution(String name) {
        Problems.UnsetSubstitution unset = problems.unsetSubstitution(key(name));
        if (unset == null && defaults != null && !own.containsKey(name)) {
            return defaults.unsetSubstitution(name);
        }
        return unset;
    }

    private String asString(String name, ConfigValue value) {
        if (isScalar(value)) {
            return String.valueOf(value.unwrapped());
        }
        invalid(name, render(value) + " is not a string", "a string");
        if (!broken) {
            // the one problem of this key: what is made of the placeholder (an empty path, a missing command) is not
            problems.silence(writer(name).key(name));
        }
        return "";
    }

    private static boolean isScalar(ConfigValue value) {
        ConfigValueType type = value.valueType();
        return type == ConfigValueType.STRING || type == ConfigValueType.NUMBER || type == ConfigValueType.BOOLEAN;
    }

    /**
     * A duration written as a number other than 0, without its unit ({@code 30}, {@code "30"}): HOCON would read it as
     * milliseconds, nginx as seconds, so neither is guessed.
     */
    static boolean isBareNumber(ConfigValue value) {
        String text = String.valueOf(value.unwrapped()).trim();
        return (value.valueType() == ConfigValueType.NUMBER || value.valueType() == ConfigValueType.STRING)
                && BARE_NUMBER.matcher(text).matches() && decimal(text).signum() != 0;
    }

    /**
     * Whether {@code read}, the duration {@link #durationOf} read from {@code value}, is 0 where {@code value} is not
     * ({@code "0.1 ns"}): HOCON drops what is below a nanosecond, so a value the user meant as more than 0 would act as
     * 0 (keep-alive off, {@code expires} of now).
     */
    static boolean belowNanosecond(ConfigValue value, Duration read) {
        return read.isZero() && writtenSign(value) > 0;
    }

    /**
     * Whether {@code value}, a duration {@link #durationOf} read as {@code read}, is below 0 as written: {@code "-0.1
     * ns"} reads as 0, which is no negative duration, but was written as one (out of range, not "below a nanosecond").
     */
    static boolean negative(ConfigValue value, Duration read) {
        return read.isNegative() || read.isZero() && writtenSign(value) < 0;
    }

    /** The sign of {@code value}'s number as written: of a duration as text ({@code "-0.1 ns"}); 0 for a number. */
    private static int writtenSign(ConfigValue value) {
        if (value.valueType() != ConfigValueType.STRING) {
            return 0; // a number: 0, any other is refused for having no unit
        }
        Matcher written = NUMBER_AND_UNIT.matcher((String) value.unwrapped());
        return written.matches() ? decimal(written.group(1)).signum() : 0;
    }

    /**
     * {@code value}, a duration HOCON reads ({@code 30 s}, {@code 1.5 h}, {@code 0}), saturated at a long of
     * nanoseconds; {@code null} when it is none: no number and unit as {@link #NUMBER_AND_UNIT} (a unit HOCON does not
     * know). The number and its unit are handed to HOCON apart, which reads them as written.
     */
    static Duration durationOf(ConfigValue value) {
        ConfigValue apart = value;
        if (value.valueType() == ConfigValueType.STRING) {
            Matcher written = NUMBER_AND_UNIT.matcher((String) value.unwrapped());
            if (!written.matches()) {
                return null;
            }
            apart = ConfigValueFactory.fromAnyRef(written.group(1) + " " + written.group(2));
        }
        try {
            return apart.atKey("v").getDuration("v");
        } catch (com.typesafe.config.ConfigException | NumberFormatException e) {
            return null;
        }
    }

    /** The value as the user would write it: strings quoted, numbers as written, long values shortened. */
    static String render(ConfigValue value) {
        if (value.valueType() == ConfigValueType.NUMBER) {
            // as written: HOCON renders the number it read, 1e400 as Infinity and 1e30 as 1.0E30
            return shortened(value.atKey("v").getString("v"));
        }
        return shortened(value.render(ConfigRenderOptions.concise()));
    }

    /** {@code text}, a value as written, shortened as {@link #render} shortens a long one. */
    static String shortened(String text) {
        return text.length() > MAX_RENDERED ? text.substring(0, MAX_RENDERED - 3) + "..." : text;
    }
}
