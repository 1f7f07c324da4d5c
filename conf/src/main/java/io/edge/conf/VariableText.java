package io.edge.conf;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * A header's or a FastCGI param's value as configured: text with nginx's variables ({@code $http_origin},
 * {@code ${host}}), expanded for each request as nginx's {@code add_header} and {@code fastcgi_param} do. A value
 * that names none is {@link #constant}, the same for every request.
 *
 * @param parts    the value, as literal and variable parts in order ({@link Return.Part})
 * @param constant the value when {@code parts} has no variable, else null
 */
public record VariableText(List<Return.Part> parts, String constant) {

    public VariableText {
        parts = List.copyOf(parts);
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
        List<Return.Part> parts = Return.parts(written, fault, true);
        StringBuilder literal = new StringBuilder(written.length());
        for (Return.Part part : parts) {
            if (part.literal() == null) {
                return new VariableText(parts, null);
            }
            literal.append(part.literal());
        }
        return new VariableText(parts, literal.toString());
    }

    /** The value's literal text alone, each variable left out: what is sent of it at the least. */
    String literals() {
        StringBuilder literal = new StringBuilder();
        parts.forEach(part -> literal.append(part.literal() == null ? "" : part.literal()));
        return literal.toString();
    }
}
