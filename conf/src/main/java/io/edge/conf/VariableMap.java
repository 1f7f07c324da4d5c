package io.edge.conf;

import io.edge.fastcgi.regex.BoundedMatch;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One of the server's maps ({@code server.maps}), nginx's {@code map $source $name { ... }}: the variable
 * {@code $name}, whose value for a request is that of the entry its {@link #source}'s value matches, nginx's order:
 * an exact key (compared ignoring ASCII case); with {@code hostnames} the longest wildcard name that starts with
 * {@code *.} or {@code .}, then the longest that ends with {@code .*}; then the first regex as written (not tried on
 * an empty value); else the default. A value is text with variables, an entry's regex's captures among them.
 *
 * <p>A geo ({@code server.geo}) is one too: its value is found by the address its source names; and a split
 * ({@code server.split-clients}, nginx's {@code split_clients}): its value is found by the MurmurHash2 of its source.
 *
 * <p>Identity is the map's: its parts name it, and one map names another.
 */
public final class VariableMap {

    /** What nginx's geo looks up for a source that is no address: INADDR_NONE. */
    private static final byte[] NO_ADDRESS = {-1, -1, -1, -1};

    private final String name;
    private final List<Return.Part> source;
    private final List<Return.Part> fallback;
    private final boolean hostnames;
    private final Map<String, List<Return.Part>> exact;
    private final List<Wildcard> heads;
    private final List<Wildcard> tails;
    private final List<Regex> regexes;
    /** A geo's ranges ({@code server.geo}), else null. */
    private final AddressTable<List<Return.Part>> ranges;
    /** A split's parts ({@code server.split-clients}) in order, else null. */
    private final List<Split> splits;

    /**
     * A wildcard name's entry: {@code *.example.org} ({@code text} ".example.org", a name under it),
     * {@code .example.org} (the same, {@code bare} the name itself as well), {@code www.example.*} ({@code text}
     * "www.example.", a name after it).
     */
    record Wildcard(String text, boolean bare, List<Return.Part> value) {
    }

    /** A regex's entry: {@code ~} is case-sensitive, {@code ~*} not (in {@code pattern}'s flags). */
    record Regex(Pattern pattern, List<Return.Part> value) {
    }

    /**
     * A split's part, as nginx's {@code ngx_http_split_clients_part_t}: {@code bound} the sum of this and the parts
     * before it as a share of 2^32 - 1 (taken by a hash below it), 0 for {@code *} (taken by every hash).
     */
    record Split(long bound, List<Return.Part> value) {
    }

    /** The entry a value took: its value's parts, and the match of its regex for their captures (null: none). */
    public record Found(List<Return.Part> value, Matcher captures) {
    }

    /**
     * @param exact lower-case keys; {@code heads} and {@code tails} lower case, longest first
     */
    VariableMap(String name, List<Return.Part> source, List<Return.Part> fallback, boolean hostnames,
            Map<String, List<Return.Part>> exact, List<Wildcard> heads, List<Wildcard> tails, List<Regex> regexes) {
        this.name = name;
        this.source = List.copyOf(source);
        this.fallback = List.copyOf(fallback);
        this.hostnames = hostnames;
        this.exact = Map.copyOf(exact);
        this.heads = List.copyOf(heads);
        this.tails = List.copyOf(tails);
        this.regexes = List.copyOf(regexes);
        this.ranges = null;
        this.splits = null;
    }

    /**
     * One of the server's geos ({@code server.geo}), nginx's {@code geo $source $name { ... }}: the value of the most
     * specific of {@code ranges} that holds the address {@code source} names, else {@code fallback}.
     */
    VariableMap(String name, List<Return.Part> source, List<Return.Part> fallback,
            AddressTable<List<Return.Part>> ranges) {
        this.name = name;
        this.source = List.copyOf(source);
        this.fallback = List.copyOf(fallback);
        this.hostnames = false;
        this.exact = Map.of();
        this.heads = List.of();
        this.tails = List.of();
        this.regexes = List.of();
        this.ranges = ranges;
        this.splits = null;
    }

    /**
     * One of the server's splits ({@code server.split-clients}), nginx's {@code split_clients $source $name { ... }}:
     * the value of the first of {@code splits} that takes the MurmurHash2 of the source's bytes, else "".
     */
    VariableMap(String name, List<Return.Part> source, List<Split> splits) {
        this.name = name;
        this.source = List.copyOf(source);
        this.fallback = List.of();
        this.hostnames = false;
        this.exact = Map.of();
        this.heads = List.of();
        this.tails = List.of();
        this.regexes = List.of();
        this.ranges = null;
        this.splits = List.copyOf(splits);
    }

    /** The variable's name, without {@code $}. */
    public String name() {
        return name;
    }

    /** The text whose value is looked up: variables and other maps. */
    public List<Return.Part> source() {
        return source;
    }

    /**
     * The entry {@code value} (the source's, as sent: one char per byte) takes; the default where none does. A regex
     * runs within {@link BoundedMatch#STEPS}: one that gives up matches not. A geo's value is an address.
     */
    public Found find(String value) {
        if (splits != null) {
            long hash = murmurHash2(value);
            for (Split split : splits) {
                if (hash < split.bound() || split.bound() == 0) {
                    return new Found(split.value(), null);
                }
            }
            return new Found(fallback, null);
        }
        if (ranges != null) {
            // as nginx's geo: a value that is no address is looked up as 255.255.255.255
            byte[] address = AddressTable.parse(value);
            List<Return.Part> found = ranges.find(address != null ? address : NO_ADDRESS);
            return new Found(found != null ? found : fallback, null);
        }
        String key = hostnames && value.endsWith(".") ? value.substring(0, value.length() - 1) : value;
        String lower = asciiLowerCase(key);
        List<Return.Part> found = exact.get(lower);
        if (found != null) {
            return new Found(found, null);
        }
        for (Wildcard head : heads) {
            if (lower.endsWith(head.text()) && lower.length() > head.text().length()
                    || head.bare() && lower.length() == head.text().length() - 1 && head.text().endsWith(lower)) {
                return new Found(head.value(), null);
            }
        }
        for (Wildcard tail : tails) {
            if (lower.startsWith(tail.text()) && lower.length() > tail.text().length()) {
                return new Found(tail.value(), null);
            }
        }
        if (!key.isEmpty()) {
            for (Regex regex : regexes) {
                Matcher match = BoundedMatch.first(regex.pattern(), key, BoundedMatch.STEPS);
                if (match != null) {
                    return new Found(regex.value(), match);
                }
            }
        }
        return new Found(fallback, null);
    }

    /**
     * Every value an entry or the default gives, as written (each a text that may name variables); the default left
     * out where {@link #find} can never take it: a geo that holds every address (0.0.0.0/0 and ::/0), a split with a
     * {@code *} part.
     */
    List<List<Return.Part>> values() {
        List<List<Return.Part>> values = new ArrayList<>();
        boolean defaultUnreachable = ranges != null && ranges.holdsEveryAddress()
                || splits != null && splits.stream().anyMatch(split -> split.bound() == 0);
        if (!defaultUnreachable) {
            values.add(fallback);
        }
        values.addAll(exact.values());
        heads.forEach(head -> values.add(head.value()));
        tails.forEach(tail -> values.add(tail.value()));
        regexes.forEach(regex -> values.add(regex.value()));
        if (ranges != null) {
            values.addAll(ranges.values());
        }
        if (splits != null) {
            splits.forEach(split -> values.add(split.value()));
        }
        return values;
    }

    /**
     * nginx's {@code ngx_murmur_hash2} of {@code text}'s bytes (one char each), an unsigned 32-bit value: Austin
     * Appleby's MurmurHash2 with seed 0, the bytes read little-endian four at a time.
     */
    static long murmurHash2(String text) {
        final int m = 0x5bd1e995;
        int length = text.length();
        int h = length;
        int i = 0;
        for (; length - i >= 4; i += 4) {
            int k = text.charAt(i) & 0xff | (text.charAt(i + 1) & 0xff) << 8 | (text.charAt(i + 2) & 0xff) << 16
                    | (text.charAt(i + 3) & 0xff) << 24;
            k *= m;
            k ^= k >>> 24;
            k *= m;
            h *= m;
            h ^= k;
        }
        int rest = length - i;
        if (rest == 3) {
            h ^= (text.charAt(i + 2) & 0xff) << 16;
        }
        if (rest >= 2) {
            h ^= (text.charAt(i + 1) & 0xff) << 8;
        }
        if (rest >= 1) {
            h ^= text.charAt(i) & 0xff;
            h *= m;
        }
        h ^= h >>> 13;
        h *= m;
        h ^= h >>> 15;
        return h & 0xffffffffL;
    }

    /**
     * {@code text} with A to Z lower case, as nginx compares a map's keys (and an upstream's name); other characters as
     * they are.
     */
    public static String asciiLowerCase(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c >= 'A' && c <= 'Z') {
                char[] chars = text.toCharArray();
                for (int j = i; j < chars.length; j++) {
                    if (chars[j] >= 'A' && chars[j] <= 'Z') {
                        chars[j] += 'a' - 'A';
                    }
                }
                return new String(chars);
            }
        }
        return text;
    }

    @Override
    public String toString() {
        return "$" + name;
    }
}
