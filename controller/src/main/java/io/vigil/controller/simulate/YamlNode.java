package io.vigil.controller.simulate;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A YAML value with the line it was written on, so every validation error can name the line. {@code value} is a
 * {@code Map<String, YamlNode>} (in file order), a {@code List<YamlNode>}, a String, Number, Boolean, or null.
 * A value inside a mapping carries the line of its key.
 */
record YamlNode(Object value, int line) {

    static YamlNode parse(String text) throws ScenarioException {
        try (JsonParser p = new YAMLFactory().createParser(text)) {
            JsonToken t = p.nextToken();
            if (t == null) throw new ScenarioException(0, "the scenario is empty");
            YamlNode root = read(p);
            if (p.nextToken() != null)
                throw new ScenarioException(line(p), "only one YAML document is allowed");
            return root;
        } catch (JsonProcessingException e) {
            int line = e.getLocation() == null ? 0 : e.getLocation().getLineNr();
            throw new ScenarioException(line, "not valid YAML: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new ScenarioException(0, "cannot read the scenario: " + e.getMessage());
        }
    }

    private static int line(JsonParser p) {
        return p.currentTokenLocation().getLineNr();
    }

    /** Reads the value starting at the current token. */
    private static YamlNode read(JsonParser p) throws IOException, ScenarioException {
        int line = line(p);
        switch (p.currentToken()) {
            case START_OBJECT -> {
                Map<String, YamlNode> fields = new LinkedHashMap<>();
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String name = p.currentName();
                    int keyLine = line(p);
                    p.nextToken();
                    YamlNode value = read(p);
                    if (fields.containsKey(name))
                        throw new ScenarioException(keyLine, "field '" + name + "' is given twice");
                    fields.put(name, new YamlNode(value.value(), keyLine));
                }
                return new YamlNode(fields, line);
            }
            case START_ARRAY -> {
                List<YamlNode> items = new ArrayList<>();
                while (p.nextToken() != JsonToken.END_ARRAY) items.add(read(p));
                return new YamlNode(items, line);
            }
            case VALUE_STRING -> {
                return new YamlNode(p.getText(), line);
            }
            case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> {
                return new YamlNode(p.getNumberValue(), line);
            }
            case VALUE_TRUE, VALUE_FALSE -> {
                return new YamlNode(p.getBooleanValue(), line);
            }
            case VALUE_NULL -> {
                return new YamlNode(null, line);
            }
            default -> throw new ScenarioException(line, "unexpected YAML token " + p.currentToken());
        }
    }
}
