package io.edge.conf;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * A header's or a FastCGI param's value as configured: text with nginx's variables ({@code $http_origin},
 * {@code ${host}}), expanded for each request as nginx's {@code add_header} and {@code fastcgi_param} do. A value
 * that names none is {@link #constant}, the same for every request.
 *
 * @param parts      the value, as literal and variable parts in order ({@link Return.Part})
 * @param constant   the value when {@code parts} has no variable, else null
 * @param ifNotEmpty a FastCGI param's {@code if_not_empty}, nginx's: the param is not sent where the value comes out
 *                   empty
 */
public record VariableText(List<Return.Part> parts, String constant, boolean ifNotEmpty) {

    /** The suffix of a FastCGI param's value that makes it {@link #ifNotEmpty}, as nginx's fastcgi_param writes it. */
    static final String IF_NOT_EMPTY = " if_not_empty";

    public VariableText {
        parts = List.copyOf(parts);
    }

    /** A value sent whatever it comes out as. */
    public VariableText(List<Return.Part> parts, String constant) {
        this(parts, constant, false);
    }

    /** A value that names no variable. */
    public static VariableText of(String constant) {
        return new VariableText(constant.isEmpty() ? List.of() : List.of(new Return.Part(constant, null)), constant);
    }

    /** {@code values}, each a constant, in the same order. */
    public static Map<String, VariableText> constants(Map<String, String> values) {
        Map<String, VariableText> texts = new LinkedHashMap<>();
        values.forEach((name, value) -> texts.put(name, of(value)));
        return texts;
    }

    /**
     * {@code written} as a value: {@code $name} or <code>${name}</code> a variable, whose name {@code fault} checks (why
     * it names nothing, or null); {@code $$} one {@code $}; a {@code $} before anything else kept as it is.
     *
     * @throws IllegalArgumentException saying what is wrong with {@code written}
     */
    static VariableText parse(String written, Function<String, String> fault) {
        return parse(written, fault, false);
    }

    /** As {@link #parse(String, Function)}, {@link #ifNotEmpty} as said. */
    static VariableText parse(String written, Function<String, String> fault, boolean ifNotEmpty) {
        return parse(written, fault, ifNotEmpty, Set.of());
    }

    /**
     * As {@link #parse(String, Function, boolean)}, a name of one of {@code groups} (the location regex's named groups;
     * names are read ignoring case) that group's capture.
     */
    static VariableText parse(String written, Function<String, String> fault, boolean ifNotEmpty, Set<String> groups) {
        List<Return.Part> parts = Return.parts(written, fault, true);
        if (!groups.isEmpty()) {
            parts = parts.stream().map(part -> {
                String group = part.variable() == null ? null : Return.group(part.variable(), groups);
                return group == null ? part : new Return.Part(null, group);
            }).toList();
        }
        StringBuilder literal = new StringBuilder(written.length());
        for (Return.Part part : parts) {
            if (part.literal() == null) {
                return new VariableText(parts, null, ifNotEmpty);
            }
            literal.append(part.literal());
        }
        return new VariableText(parts, literal.toString(), ifNotEmpty);
    }

    /** The value's literal text alone, each variable left out: what is sent of it at the least. */
    String literals() {
        StringBuilder literal = new StringBuilder();
        parts.forEach(part -> literal.append(part.literal() == null ? "" : part.literal()));
        return literal.toString();
    }
}
