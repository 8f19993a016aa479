package io.vigil.controller.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.util.List;

/**
 * {@code KEY=VALUE} words as a JSON object (a merge patch, or fields of a create): a value is taken as JSON when it
 * parses as JSON ({@code 3}, {@code true}, {@code null}, {@code ["a","b"]}, {@code [{"host":"h1","priority":10}]}),
 * otherwise as a string ({@code priority=high}).
 */
final class Settings {
    private Settings() {}

    static ObjectNode parse(String command, List<String> pairs, ObjectMapper json) throws CliException {
        ObjectNode out = json.createObjectNode();
        for (String pair : pairs) {
            int eq = pair.indexOf('=');
            if (eq <= 0) throw CliException.usage(command + ": '" + pair + "' is not KEY=VALUE");
            out.set(pair.substring(0, eq), value(pair.substring(eq + 1), json));
        }
        return out;
    }

    static JsonNode value(String text, ObjectMapper json) {
        try {
            JsonNode parsed = json.reader().with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS).readTree(text);
            if (parsed != null && !parsed.isMissingNode()) return parsed;
        } catch (JsonProcessingException e) {
            // not JSON: a string
        }
        return TextNode.valueOf(text);
    }
}
