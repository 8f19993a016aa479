package io.vigil.controller.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * What a command prints on stdout: with {@code --output json} the API's JSON as it came (pretty-printed; one compact
 * object per line for a stream), otherwise aligned columns for people.
 */
final class Output {
    final PrintStream out;
    final boolean json;
    private final ObjectMapper mapper;

    /** A table column: its header and how a row's JSON object shows in it. */
    record Column(String header, Function<JsonNode, String> value) {
        /** The field {@code field}, shown as {@link #text}. */
        static Column of(String header, String field) {
            return new Column(header, row -> text(field, row.get(field)));
        }
    }

    Output(PrintStream out, boolean json, ObjectMapper mapper) {
        this.out = out;
        this.json = json;
        this.mapper = mapper;
    }

    /** The JSON document, pretty-printed. */
    void json(JsonNode node) {
        try {
            out.println(mapper.writerWithDefaultPrettyPrinter().writeValueAsString(node));
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** One JSON value on one line (streams: one event per line). */
    void jsonLine(JsonNode node) {
        out.println(node.toString());
        out.flush();
    }

    /** The rows of a JSON array in {@code columns} (json mode: the array itself). */
    void list(JsonNode array, List<Column> columns) {
        if (json) {
            json(array);
            return;
        }
        List<List<String>> rows = new ArrayList<>();
        for (JsonNode row : array) rows.add(columns.stream().map(c -> c.value().apply(row)).toList());
        table(columns.stream().map(Column::header).toList(), rows);
    }

    /** The rows of a JSON array whose fields are not known in advance: a column per scalar field, in order of appearance. */
    void list(JsonNode array) {
        Set<String> fields = new LinkedHashSet<>();
        for (JsonNode row : array) {
            for (Iterator<Map.Entry<String, JsonNode>> it = row.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> f = it.next();
                if (!f.getValue().isContainerNode() || f.getValue().isArray()) fields.add(f.getKey());
            }
        }
        list(array, fields.stream().map(f -> Column.of(header(f), f)).toList());
    }

    /** One JSON object as {@code field  value} lines (json mode: the object itself). */
    void object(JsonNode object) {
        if (json) {
            json(object);
            return;
        }
        List<List<String>> rows = new ArrayList<>();
        object.fields().forEachRemaining(f -> rows.add(List.of(f.getKey(), text(f.getKey(), f.getValue()))));
        table(null, rows);
    }

    /** A message for people; nothing in json mode, where the command prints the API's JSON instead. */
    void say(String line) {
        if (!json) out.println(line);
    }

    /** Aligned columns, separated by two spaces; no header line when {@code headers} is null. */
    void table(List<String> headers, List<List<String>> rows) {
        List<List<String>> all = new ArrayList<>();
        if (headers != null) all.add(headers);
        all.addAll(rows);
        int columns = all.stream().mapToInt(List::size).max().orElse(0);
        int[] width = new int[columns];
        for (List<String> row : all) for (int i = 0; i < row.size(); i++) width[i] = Math.max(width[i], row.get(i).length());
        for (List<String> row : all) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < row.size(); i++) {
                if (i > 0) line.append("  ");
                line.append(i == row.size() - 1 ? row.get(i) : pad(row.get(i), width[i]));
            }
            out.println(line.toString().stripTrailing());
        }
    }

    private static String pad(String s, int width) {
        return s.length() >= width ? s : s + " ".repeat(width - s.length());
    }

    /**
     * A field's value for people: "-" for none, lists of plain values joined by commas, other structures as compact
     * JSON, and epoch milliseconds of a field named {@code ...AtMillis} or {@code timeMillis} as a UTC time.
     */
    static String text(String field, JsonNode value) {
        if (value == null || value.isNull() || value.isMissingNode()) return "-";
        if (value.isIntegralNumber() && isEpochMillis(field)) {
            return Instant.ofEpochMilli(value.asLong()).truncatedTo(ChronoUnit.SECONDS).toString();
        }
        if (value.isTextual() && isIsoTime(field)) {
            // The API writes times as Instant.toString() (milliseconds when there are any); shown like the millis ones.
            try {
                return Instant.parse(value.asText()).truncatedTo(ChronoUnit.SECONDS).toString();
            } catch (java.time.format.DateTimeParseException e) {
                return value.asText();
            }
        }
        if (value.isArray()) {
            boolean plain = true;
            for (JsonNode e : value) plain &= e.isValueNode();
            if (plain) {
                List<String> items = new ArrayList<>();
                for (JsonNode e : value) items.add(e.asText());
                return items.isEmpty() ? "-" : String.join(",", items);
            }
            return value.toString();
        }
        if (value.isObject()) return value.toString();
        return value.asText();
    }

    /** A field the API writes as an ISO 8601 instant: {@code time}, {@code ...At}, {@code notBefore}, {@code notAfter}. */
    private static boolean isIsoTime(String field) {
        return field != null && (field.equals("time") || field.endsWith("At") || field.equals("notBefore")
                || field.equals("notAfter"));
    }

    private static boolean isEpochMillis(String field) {
        return field != null && (field.endsWith("AtMillis") || field.equals("timeMillis"));
    }

    /** A column header from a field name: {@code createdAtMillis} becomes {@code CREATED-AT}. */
    static String header(String field) {
        String f = isEpochMillis(field) ? field.substring(0, field.length() - "Millis".length()) : field;
        return f.replaceAll("([a-z0-9])([A-Z])", "$1-$2").toUpperCase(Locale.ROOT);
    }
}
