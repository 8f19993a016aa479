package io.vigil.protocol.config;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.lang.reflect.RecordComponent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Binds a YAML file to a configuration record. Every top-level field can be overridden from the environment:
 * field {@code libvirtUri} with prefix {@code VIGIL_AGENT_} is {@code VIGIL_AGENT_LIBVIRT_URI}; a list field takes a
 * comma-separated value. Unknown fields and wrong types are refused with the field's name, so that a typo in a
 * config file is an error at start-up rather than a silently ignored setting. The record's compact constructor does
 * the semantic checks; its {@link IllegalArgumentException} messages should name the field.
 */
public final class ConfigFiles {
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory())
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);

    private ConfigFiles() {}

    /** {@code file} may be null: then the configuration comes from the environment and the record's defaults. */
    public static <T extends Record> T load(Path file, Class<T> type, Map<String, String> env, String envPrefix) {
        ObjectNode tree = JsonNodeFactory.instance.objectNode();
        if (file != null) {
            if (!Files.isRegularFile(file)) throw new ConfigException("configuration file not found: " + file);
            try {
                var parsed = YAML.readTree(file.toFile());
                if (parsed != null && !parsed.isMissingNode() && !parsed.isNull()) {
                    if (!parsed.isObject()) throw new ConfigException(file + ": expected a mapping of field: value");
                    tree.setAll((ObjectNode) parsed);
                }
            } catch (IOException e) {
                throw new ConfigException(file + ": not valid YAML: " + e.getMessage(), e);
            }
        }
        for (RecordComponent component : type.getRecordComponents()) {
            String value = env.get(envPrefix + envName(component.getName()));
            if (value == null) continue;
            if (component.getType() == java.util.List.class) {
                ArrayNode list = tree.putArray(component.getName());
                Arrays.stream(value.split(",")).map(String::strip).filter(s -> !s.isEmpty()).forEach(list::add);
            } else {
                tree.put(component.getName(), value);
            }
        }
        try {
            return YAML.treeToValue(tree, type);
        } catch (JsonMappingException e) {
            String field = e.getPath().stream().map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
                    .collect(Collectors.joining("."));
            Throwable root = e;
            while (root.getCause() != null) root = root.getCause();
            if (root instanceof IllegalArgumentException && !(root instanceof NumberFormatException)) {
                throw new ConfigException("invalid configuration: " + root.getMessage(), e);
            }
            String known = Arrays.stream(type.getRecordComponents()).map(RecordComponent::getName)
                    .collect(Collectors.joining(", "));
            if (e instanceof com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException u) {
                throw new ConfigException("unknown configuration field '" + u.getPropertyName() + "' (known: " + known + ")", e);
            }
            throw new ConfigException("invalid configuration field '" + field + "': " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new ConfigException("invalid configuration: " + e.getMessage(), e);
        }
    }

    /** {@code libvirtUri} becomes {@code LIBVIRT_URI}. */
    static String envName(String field) {
        return field.replaceAll("([a-z0-9])([A-Z])", "$1_$2").toUpperCase(java.util.Locale.ROOT);
    }
}
