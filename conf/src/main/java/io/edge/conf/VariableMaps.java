package io.edge.conf;

import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueFactory;
import com.typesafe.config.ConfigValueType;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * The server's maps ({@code server.maps}) as read, for the texts that name them: a header's, a FastCGI param's, a
 * return's, a rewrite's, the access log's. Each map's problems are said where it is written; a name written is known
 * to the texts even where its map had a problem (the configuration is refused then), so that no second problem is
 * said of each use.
 */
final class VariableMaps {

    /** No maps. */
    static final VariableMaps NONE = new VariableMaps(Set.of(), Map.of());

    /** What a map is written as, for a message. */
    static final String EXPECTED = "{ source = \"$http_origin\", default = \"\", hostnames = false, values = [{ match ="
            + " \"~^https://(www\\\\.)?example\\\\.org$\", value = \"$http_origin\" }] }";

    private static final Pattern NAME = Pattern.compile("[a-z_][a-z0-9_]*");
    private static final Set<String> MAP_KEYS = Set.of("source", "default", "hostnames", "values");
    private static final Set<String> ENTRY_KEYS = Set.of("match", "value");
    private static final Set<String> GEO_KEYS = Set.of("source", "default", "values");
    private static final Set<String> SPLIT_KEYS = Set.of("source", "values");
    private static final Set<String> SPLIT_ENTRY_KEYS = Set.of("percent", "value");

    /** What a split is written as, for a message. */
    static final String SPLIT_EXPECTED = "{ source = \"${remote_addr}AAA\", values = [{ percent = \"0.5%\", value ="
            + " \".one\" }, { percent = \"*\", value = \"\" }] }";

    /** What a geo is written as, for a message. */
    static final String GEO_EXPECTED = "{ default = \"0\", values = [{ match = \"10.0.0.0/8\", value = \"1\" }] }";
    /** The prefixes of nginx's variables named after something: a map's name must start with none of them. */
    private static final List<String> NGINX_PREFIXES = List.of("http_", "arg_", "cookie_", "sent_http_",
            "upstream_http_", "sent_trailer_", "upstream_trailer_");

    private final Set<String> names;
    private final Map<String, VariableMap> maps;
    /** The names among {@link #names} that sets declare, said apart from the maps'. */
    private final Set<String> setNames;
    /** The names among {@link #setNames} that a site regex's named groups declare alone, said apart from the sets'. */
    private final Set<String> capturedNames;

    private VariableMaps(Set<String> names, Map<String, VariableMap> maps) {
        this(names, maps, Set.of(), Set.of());
    }

    private VariableMaps(Set<String> names, Map<String, VariableMap> maps, Set<String> setNames,
            Set<String> capturedNames) {
        this.names = Set.copyOf(names);
        this.maps = Map.copyOf(maps);
        this.setNames = Set.copyOf(setNames);
        this.capturedNames = Set.copyOf(capturedNames);
    }

    /**
     * These, the variables of {@code captured} (among those declared: {@link RewriteRule#captureNames}) said as a site
     * regex's named captures, not as a set's.
     */
    VariableMaps captured(Set<String> captured) {
        Set<String> kept = new TreeSet<>(captured);
        kept.retainAll(setNames);
        return new VariableMaps(names, maps, setNames, kept);
    }

    /** Whether {@code name} is a map's. */
    boolean has(String name) {
        return names.contains(name);
    }

    /** The map, geo or set variable called {@code name}; null for none (or one whose problem was said). */
    VariableMap get(String name) {
        return maps.get(name);
    }

    /** {@code parts} with each variable that names a map (but those in {@code except}: a regex's groups) bound to it. */
    List<Return.Part> bind(List<Return.Part> parts, Set<String> except) {
        if (maps.isEmpty()) {
            return parts;
        }
        List<Return.Part> bound = new ArrayList<>(parts.size());
        for (Return.Part part : parts) {
            VariableMap map = part.variable() == null || except.contains(part.variable()) ? null
                    : maps.get(part.variable());
            bound.add(map == null ? part : new Return.Part(null, part.variable(), map));
        }
        return bound;
    }

    /** {@code text} with its variables that name a map bound to it; null stays null. */
    VariableText bind(VariableText text) {
        return bind(text, Set.of());
    }

    /** As {@link #bind(VariableText)}, but for a name in {@code except} (a capture's group). */
    VariableText bind(VariableText text, Set<String> except) {
        return text == null || text.constant() != null ? text
                : new VariableText(bind(text.parts(), except), null, text.ifNotEmpty());
    }

    /** {@code fault} that takes a map's name as well, and names the maps in what it says of another. */
    Function<String, String> orMap(Function<String, String> fault) {
        return name -> has(name) ? null : withNames(fault.apply(name));
    }

    /** {@code why} a name names nothing, the maps' names said with it; null stays null. */
    String withNames(String why) {
        if (why == null || names.isEmpty()) {
            return why;
        }
        Set<String> mapNames = new TreeSet<>(names);
        mapNames.removeAll(setNames);
        Set<String> set = new TreeSet<>(setNames);
        set.removeAll(capturedNames);
        List<String> kinds = new ArrayList<>(3);
        if (!mapNames.isEmpty()) {
            kinds.add("maps: $" + String.join(", $", mapNames));
        }
        if (!set.isEmpty()) {
            kinds.add("set: $" + String.join(", $", set));
        }
        if (!capturedNames.isEmpty()) {
            kinds.add("a site regex's named captures: $" + String.join(", $", new TreeSet<>(capturedNames)));
        }
        return why + " (" + String.join("; ", kinds) + ")";
    }

    /** A map as read, its parts not yet bound to the maps they name. */
    private record Read(String name, List<Return.Part> source, List<Return.Part> fallback, boolean hostnames,
            Map<String, List<Return.Part>> exact, List<VariableMap.Wildcard> heads, List<VariableMap.Wildcard> tails,
            List<VariableMap.Regex> regexes, Set<String> uses, Section section) {
    }

    /**
     * {@code section}, {@code server.maps}: each key a map's name, each problem said with its file, line and key.
     *
     * @param reserved names a map may not take (nginx's and edge's variables), with why
     */
    static VariableMaps read(Section section, Problems problems, Function<String, String> reserved) {
        return read(section, null, problems, reserved);
    }

    /**
     * As {@link #read(Section, Problems, Function)}, and {@code geoSection}, {@code server.geo} (null: none): each key
     * a geo's name, a name neither a map's nor a variable's. Maps may name the geos; a geo's source names none.
     */
    static VariableMaps read(Section section, Section geoSection, Problems problems,
            Function<String, String> reserved) {
        return read(section, geoSection, Set.of(), problems, reserved);
    }

    /**
     * As {@link #read(Section, Section, Problems, Function)}, and the variables the sites' and locations' {@code set}s
     * name ({@code declared}): each that is not a map's, a geo's nor {@code reserved} a variable of its own, as nginx's
     * set declares one for every server block, "" for a request until a set gives it a value. Its value is kept as a
     * map's is ({@code Exchange.mapValues}), so every text may name it and a map may take it as its source.
     */
    static VariableMaps read(Section section, Section geoSection, Set<String> declared, Problems problems,
            Function<String, String> reserved) {
        return read(section, geoSection, null, declared, problems, reserved);
    }

    /**
     * As {@link #read(Section, Section, Set, Problems, Function)}, and {@code splitSection}, {@code
     * server.split-clients} (null: none): each key a split's name, a name neither a map's, a geo's nor a variable's.
     * Maps may name the splits; a split's source names none.
     */
    static VariableMaps read(Section section, Section geoSection, Section splitSection, Set<String> declared,
            Problems problems, Function<String, String> reserved) {
        Set<String> names = names(section, reserved);
        Map<String, VariableMap> geos = new HashMap<>();
        readEach(geoSection, "a map's", GEO_EXPECTED, names, geos, reserved,
                (geo, name) -> readGeo(geo, name, problems));
        readEach(splitSection, "a map's or a geo's", SPLIT_EXPECTED, names, geos, reserved,
                (split, name) -> readSplit(split, name, problems));
        Set<String> setNames = new TreeSet<>();
        for (String name : declared) {
            if (!names.contains(name) && reserved.apply(name) == null && NAME.matcher(name).matches()
                    && NGINX_PREFIXES.stream().noneMatch(name::startsWith)) {
                // no source, no entries: "" until set
                setNames.add(name);
                geos.put(name, new VariableMap(name, List.of(), List.of(), false, Map.of(), List.of(), List.of(),
                        List.of()));
            }
        }
        names.addAll(setNames);
        VariableMaps read = read(section, names, geos, problems);
        return new VariableMaps(read.names, read.maps, setNames, Set.of());
    }

    /**
     * The variables of {@code section} (null: none), each read by {@code reader} (null with a problem) into {@code
     * read} and its name added to {@code names}, where no map ({@code names}) has it already ({@code whose}: a problem).
     */
    private static void readEach(Section section, String whose, String expected, Set<String> names,
            Map<String, VariableMap> read, Function<String, String> reserved,
            BiFunction<Section, String, VariableMap> reader) {
        if (section == null) {
            return;
        }
        for (String name : names(section, reserved)) {
            if (names.contains(name)) {
                section.problem(name, "$" + name + " is " + whose + " name already", "a name no map has");
                continue;
            }
            names.add(name);
            ConfigValue value = section.object().get(name);
            if (value.valueType() != ConfigValueType.OBJECT) {
                section.invalid(name, Section.render(value) + " is not an object", expected);
                continue;
            }
            VariableMap variable = reader.apply(section.section(name), name);
            if (variable != null) {
                read.put(name, variable);
            }
        }
    }

    /** The names {@code section}'s keys give variables, each that cannot be one said. */
    private static Set<String> names(Section section, Function<String, String> reserved) {
        Set<String> names = new TreeSet<>();
        for (String name : section.object().keySet()) {
            String clash = reserved.apply(name);
            if (!NAME.matcher(name).matches()) {
                section.problem(name, LocationMatch.quoted(name) + " is not a variable's name",
                        "lower-case letters, digits and '_', not starting with a digit, such as cors_origin");
            } else if (clash != null) {
                section.problem(name, "$" + name + " " + clash, "a name no variable of nginx's or edge's has");
            } else if (NGINX_PREFIXES.stream().anyMatch(name::startsWith)) {
                section.problem(name, "$" + name + " starts as a variable named after a header, an argument or a"
                        + " cookie does", "a name that starts with none of " + String.join(", ", NGINX_PREFIXES));
            } else {
                names.add(name);
            }
        }
        return names;
    }

    /**
     * A geo as read: its source (the request's variables, {@code $remote_addr} unless said), its default, and each of
     * its values' ranges, an address or a network once each; null with a problem.
     */
    private static VariableMap readGeo(Section geo, String name, Problems problems) {
        for (String key : new TreeSet<>(geo.object().keySet())) {
            if (!GEO_KEYS.contains(key)) {
                geo.problem(key, LocationMatch.quoted(key) + " is not a key of a geo", "source, default and values");
            }
        }
        int count = problems.count();
        Set<String> uses = new TreeSet<>();
        List<Return.Part> source = geo.isSet("source") ? text(geo, "source", geo.string("source"), Set.of(), null,
                uses) : List.of(new Return.Part(null, "remote_addr"));
        String fallback = geo.isSet("default") ? geo.string("default") : "";
        AddressTable<List<Return.Part>> ranges = new AddressTable<>();
        if (geo.isSet("values")) {
            Section noDefaults = new Section(ConfigValueFactory.fromMap(Map.of()), geo.key("values"), geo.anchor(),
                    problems);
            Map<String, String> written = new HashMap<>(); // each network once, as written where first
            for (Section entry : geo.sections("values", noDefaults)) {
                for (String key : new TreeSet<>(entry.object().keySet())) {
                    if (!ENTRY_KEYS.contains(key)) {
                        entry.problem(key, LocationMatch.quoted(key) + " is not a key of a geo's value",
                                "match and value");
                    }
                }
                String match = entry.string("match");
                String value = entry.string("value");
                AddressRange range;
                try {
                    range = Addresses.range(match.strip());
                } catch (IllegalArgumentException e) {
                    entry.invalid("match", LocationMatch.quoted(match) + " " + e.getMessage(),
                            "an IP address or network such as \"10.0.0.0/8\", \"192.168.1.7\" or \"2001:db8::/32\"");
                    continue;
                }
                if (!ranges.add(range, literal(value))) {
                    entry.problem("match", LocationMatch.quoted(match) + " is the network " + range + " of "
                            + written.get(range.toString()) + " already", "each network once");
                } else {
                    written.put(range.toString(), entry.path());
                }
            }
        }
        if (problems.count() != count) {
            return null;
        }
        return new VariableMap(name, source, literal(fallback), ranges);
    }

    /**
     * A split as read: its source (the request's variables) and its parts in order, each percentage as nginx's {@code
     * ngx_atofp(text, 2)} reads it (more than two decimals, none at all or zero are problems), the sum at most 100%
     * (a {@code *} the rest); null with a problem.
     */
    private static VariableMap readSplit(Section split, String name, Problems problems) {
        for (String key : new TreeSet<>(split.object().keySet())) {
            if (!SPLIT_KEYS.contains(key)) {
                split.problem(key, LocationMatch.quoted(key) + " is not a key of a split", "source and values");
            }
        }
        int count = problems.count();
        List<Return.Part> source = text(split, "source", split.string("source"), Set.of(), null, new TreeSet<>());
        List<VariableMap.Split> parts = new ArrayList<>();
        if (split.isSet("values")) {
            Section noDefaults = new Section(ConfigValueFactory.fromMap(Map.of()), split.key("values"),
                    split.anchor(), problems);
            long sum = 0; // hundredths of a percent, as nginx's
            long last = 0;
            for (Section entry : split.sections("values", noDefaults)) {
                for (String key : new TreeSet<>(entry.object().keySet())) {
                    if (!SPLIT_ENTRY_KEYS.contains(key)) {
                        entry.problem(key, LocationMatch.quoted(key) + " is not a key of a split's value",
                                "percent and value");
                    }
                }
                String percent = entry.string("percent");
                String value = entry.string("value");
                long hundredths = percent.equals("*") ? 0 : hundredths(percent);
                if (hundredths < 0) {
                    entry.invalid("percent", LocationMatch.quoted(percent) + " is not a percentage nginx takes",
                            "a percentage above 0 with at most two decimals, such as \"0.5%\" or \"20%\", or \"*\""
                            + " (the rest)");
                    continue;
                }
                sum = hundredths == 0 ? 10000 : sum + hundredths;
                if (sum > 10000) {
                    entry.invalid("percent", LocationMatch.quoted(percent) + " makes the split's percentages add up"
                            + " to more than 100% (a \"*\" before it takes the rest)", "percentages that add up to"
                            + " at most 100%");
                    continue;
                }
                long bound = 0;
                if (hundredths != 0) {
                    // nginx's: last += percent * (uint64_t) 0xffffffff / 10000, a uint32_t
                    last = last + hundredths * 0xffffffffL / 10000 & 0xffffffffL;
                    bound = last;
                }
                parts.add(new VariableMap.Split(bound, literal(value)));
            }
        }
        if (problems.count() != count) {
            return null;
        }
        return new VariableMap(name, source, parts);
    }

    /**
     * {@code text}, a percentage ({@code "0.5%"}), in hundredths as nginx's {@code ngx_atofp(text, length - 1, 2)}
     * reads it: digits with one {@code .} at most and at most two decimals, then {@code %}; -1 for none of those or 0.
     */
    static long hundredths(String text) {
        if (!text.endsWith("%") || text.length() < 2) {
            return -1;
        }
        long value = 0;
        int point = 2;
        boolean dot = false;
        for (int i = 0; i < text.length() - 1; i++) {
            char c = text.charAt(i);
            if (point == 0) {
                return -1;
            }
            if (c == '.') {
                if (dot) {
                    return -1;
                }
                dot = true;
                continue;
            }
            if (c < '0' || c > '9' || value > 1_000_000) {
                return -1; // beyond 100% already: said as no percentage, as nginx's sum would be
            }
            value = value * 10 + (c - '0');
            if (dot) {
                point--;
            }
        }
        for (; point > 0; point--) {
            value *= 10;
        }
        return value == 0 ? -1 : value;
    }

    /** {@code text} as a value's parts: a geo's values are literal text, as nginx's. */
    private static List<Return.Part> literal(String text) {
        return text.isEmpty() ? List.of() : List.of(new Return.Part(text, null));
    }

    /** The maps of {@code section} called {@code names} (the geos' among them, read already: {@code geos}). */
    private static VariableMaps read(Section section, Set<String> names, Map<String, VariableMap> geos,
            Problems problems) {
        Map<String, Read> read = new TreeMap<>();
        for (String name : section.object().keySet()) {
            if (!names.contains(name) || geos.containsKey(name)) {
                continue; // said
            }
            ConfigValue value = section.object().get(name);
            if (value.valueType() != ConfigValueType.OBJECT) {
                section.invalid(name, Section.render(value) + " is not an object", EXPECTED);
                continue;
            }
            Read map = readMap(section.section(name), name, names, problems);
            if (map != null) {
                read.put(name, map);
            }
        }
        Set<String> cyclic = cycles(read);
        Map<String, VariableMap> built = new HashMap<>(geos);
        for (String name : read.keySet()) {
            if (!cyclic.contains(name)) {
                build(name, read, built);
            }
        }
        return new VariableMaps(names, built);
    }

    private static Read readMap(Section map, String name, Set<String> names, Problems problems) {
        for (String key : new TreeSet<>(map.object().keySet())) {
            if (!MAP_KEYS.contains(key)) {
                map.problem(key, LocationMatch.quoted(key) + " is not a key of a map",
                        "source, default, hostnames and values");
            }
        }
        int count = problems.count();
        Set<String> uses = new TreeSet<>();
        List<Return.Part> source = text(map, "source", map.string("source"), names, null, uses);
        String writtenDefault = map.isSet("default") ? map.optionalString("default") : "";
        List<Return.Part> fallback = writtenDefault == null ? List.of()
                : text(map, "default", writtenDefault, names, null, uses);
        boolean hostnames = map.isSet("hostnames") && map.bool("hostnames");
        Map<String, List<Return.Part>> exact = new LinkedHashMap<>();
        Map<String, String> written = new HashMap<>(); // each key (a regex's as written) once
        List<VariableMap.Wildcard> heads = new ArrayList<>();
        List<VariableMap.Wildcard> tails = new ArrayList<>();
        List<VariableMap.Regex> regexes = new ArrayList<>();
        if (map.isSet("values")) {
            Section noDefaults = new Section(ConfigValueFactory.fromMap(Map.of()), map.key("values"), map.anchor(),
                    problems);
            for (Section entry : map.sections("values", noDefaults)) {
                entry(entry, names, hostnames, uses, exact, written, heads, tails, regexes);
            }
        }
        if (problems.count() != count) {
            return null;
        }
        Comparator<VariableMap.Wildcard> longestFirst = Comparator.comparingInt(w -> -w.text().length());
        heads.sort(longestFirst);
        tails.sort(longestFirst);
        return new Read(name, source, fallback, hostnames, exact, heads, tails, regexes, uses, map);
    }

    /** One of a map's {@code values}: its key to match and its value, sorted into exact, wildcard and regex. */
    private static void entry(Section entry, Set<String> names, boolean hostnames, Set<String> uses,
            Map<String, List<Return.Part>> exact, Map<String, String> written, List<VariableMap.Wildcard> heads,
            List<VariableMap.Wildcard> tails, List<VariableMap.Regex> regexes) {
        for (String key : new TreeSet<>(entry.object().keySet())) {
            if (!ENTRY_KEYS.contains(key)) {
                entry.problem(key, LocationMatch.quoted(key) + " is not a key of a map's value", "match and value");
            }
        }
        String match = entry.string("match");
        String value = entry.string("value");
        if (match.startsWith("~")) {
            boolean insensitive = match.startsWith("~*");
            String expression = match.substring(insensitive ? 2 : 1);
            Pattern regex;
            try {
                regex = LocationMatch.compile(expression, insensitive
                        ? Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE : 0);
            } catch (IllegalArgumentException e) {
                entry.invalid("match", LocationMatch.quoted(match) + " " + e.getMessage(),
                        "~regex (case-sensitive) or ~*regex (not), as PCRE writes it");
                return;
            }
            if (SettingsMapper.variableGroup(entry, "match", match, regex)) {
                return;
            }
            if (duplicate(entry, match, match, written)) {
                return;
            }
            List<Return.Part> parts = text(entry, "value", value, names, regex, uses);
            regexes.add(new VariableMap.Regex(regex, parts));
            return;
        }
        // "\~" is a key that starts with "~", as nginx reads it
        String key = match.startsWith("\\") ? match.substring(1) : match;
        String lower = VariableMap.asciiLowerCase(key);
        if (duplicate(entry, match, lower, written)) {
            return;
        }
        List<Return.Part> parts = text(entry, "value", value, names, null, uses);
        if (hostnames && lower.startsWith("*.") && lower.length() > 2) {
            heads.add(new VariableMap.Wildcard(lower.substring(1), false, parts));
        } else if (hostnames && lower.startsWith(".") && lower.length() > 1) {
            heads.add(new VariableMap.Wildcard(lower, true, parts));
        } else if (hostnames && lower.endsWith(".*") && lower.length() > 2) {
            tails.add(new VariableMap.Wildcard(lower.substring(0, lower.length() - 1), false, parts));
        } else if (hostnames && lower.contains("*")) {
            entry.invalid("match", LocationMatch.quoted(match) + " has a \"*\" inside, which no wildcard name has",
                    "a name, *.example.org, .example.org, www.example.* or ~regex");
        } else {
            exact.put(hostnames && lower.endsWith(".") ? lower.substring(0, lower.length() - 1) : lower, parts);
        }
    }

    /** Whether {@code key} was a key of the map before (a problem then). */
    private static boolean duplicate(Section entry, String match, String key, Map<String, String> written) {
        String before = written.putIfAbsent(key, entry.path());
        if (before != null) {
            entry.problem("match", LocationMatch.quoted(match) + " is a key of " + before + " already (keys are"
                    + " compared ignoring case)", "each key once");
            return true;
        }
        return false;
    }

    /**
     * {@code written}, {@code key} of {@code section}: text with the request's variables and maps (their names added
     * to {@code uses}), a regex entry's value its captures as well, as a return's ({@code $1} a capture, a {@code $}
     * always a variable's); none with a problem.
     */
    private static List<Return.Part> text(Section section, String key, String written, Set<String> names,
            Pattern regex, Set<String> uses) {
        if (written.chars().anyMatch(c -> c < 0x20 && c != '\t' || c == 0x7f)) {
            section.invalid(key, LocationMatch.quoted(written) + " has a control character",
                    "text without control characters but tab");
            return List.of();
        }
        // no names: a geo's or a split's source, read before the maps (a map's own name is among them)
        String maps = names.isEmpty() ? "; a geo's or a split's source names no map" : ", the maps";
        Set<String> groups = Return.namedGroups(regex);
        int groupCount = regex == null ? 0 : regex.matcher("").groupCount();
        try {
            List<Return.Part> parts = Return.parts(written, name -> {
                if (Return.VARIABLES.contains(name) || Return.prefixed(name) || groups.contains(name)) {
                    return null;
                }
                if (names.contains(name)) {
                    uses.add(name);
                    return null;
                }
                if (Character.isDigit(name.charAt(0))) {
                    int group = name.charAt(0) - '0';
                    return regex == null ? "has capture $" + group + ", but only a ~regex's value has captures"
                            : group <= groupCount ? null : "has capture $" + group + ", but its regex has "
                            + groupCount + " group" + (groupCount == 1 ? "" : "s");
                }
                return "has unknown variable $" + name + " (known: $" + String.join(", $",
                        new TreeSet<>(Return.VARIABLES)) + ", $http_<header>, $arg_<name>, $cookie_<name>"
                        + (regex == null ? "" : ", the regex's captures $1 to $9 and named groups") + maps + ")";
            });
            return parts;
        } catch (IllegalArgumentException e) {
            section.invalid(key, LocationMatch.quoted(written) + " " + e.getMessage(),
                    "text with the request's variables" + (names.isEmpty() ? "" : " and other maps"));
            return List.of();
        }
    }

    /** The maps that name themselves through others, each said at its source. */
    private static Set<String> cycles(Map<String, Read> read) {
        Set<String> cyclic = new HashSet<>();
        for (String start : read.keySet()) {
            List<String> path = cycleFrom(start, start, read, new ArrayList<>(List.of(start)), new HashSet<>());
            if (path != null) {
                cyclic.add(start);
                Read map = read.get(start);
                map.section().problem("source", "$" + start + " names itself: $" + String.join(" -> $", path),
                        "maps that do not name each other in a circle");
            }
        }
        return cyclic;
    }

    /** A path of uses from {@code at} back to {@code start}, or null. */
    private static List<String> cycleFrom(String start, String at, Map<String, Read> read, List<String> path,
            Set<String> seen) {
        Read map = read.get(at);
        if (map == null) {
            return null;
        }
        for (String used : map.uses()) {
            if (used.equals(start)) {
                List<String> cycle = new ArrayList<>(path);
                cycle.add(start);
                return cycle;
            }
            if (seen.add(used)) {
                path.add(used);
                List<String> found = cycleFrom(start, used, read, path, seen);
                if (found != null) {
                    return found;
                }
                path.remove(path.size() - 1);
            }
        }
        return null;
    }

    /** Builds {@code name}'s map after those it uses; null where one of them could not be (a problem said). */
    private static VariableMap build(String name, Map<String, Read> read, Map<String, VariableMap> built) {
        if (built.containsKey(name)) {
            return built.get(name);
        }
        Read map = read.get(name);
        if (map == null) {
            return null;
        }
        Map<String, VariableMap> uses = new HashMap<>();
        for (String used : map.uses()) {
            VariableMap usedMap = build(used, read, built);
            if (usedMap == null) {
                return null;
            }
            uses.put(used, usedMap);
        }
        VariableMaps bound = new VariableMaps(uses.keySet(), uses);
        Map<String, List<Return.Part>> exact = new LinkedHashMap<>();
        map.exact().forEach((key, value) -> exact.put(key, bound.bind(value, Set.of())));
        Function<VariableMap.Wildcard, VariableMap.Wildcard> wildcard = w -> new VariableMap.Wildcard(w.text(),
                w.bare(), bound.bind(w.value(), Set.of()));
        VariableMap result = new VariableMap(name, bound.bind(map.source(), Set.of()),
                bound.bind(map.fallback(), Set.of()), map.hostnames(), exact,
                map.heads().stream().map(wildcard).toList(), map.tails().stream().map(wildcard).toList(),
                map.regexes().stream().map(r -> new VariableMap.Regex(r.pattern(), bound.bind(r.value(),
                        Return.namedGroups(r.pattern())))).toList());
        built.put(name, result);
        return result;
    }
}
