package io.vigil.controller.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vigil.protocol.Json;
import java.util.Collection;
import java.util.stream.Collectors;

/**
 * Request documents turned into the core's validating records ({@code ClusterPolicy}, {@code VmSpec},
 * {@code Rule}), whose constructors refuse an inconsistent value with a message naming the field. The OpenAPI
 * validator has checked field names and types already; what is left to refuse here is a value the record refuses,
 * reported as a 400 with the record's own words.
 */
final class Documents {
    private Documents() {}

    /** {@code value} as a JSON object tree, field names as in the API. */
    static ObjectNode tree(Object value) {
        return Json.mapper().valueToTree(value);
    }

    /**
     * {@code defaults} overlaid with {@code document}'s members: a member the document leaves out (or that a merge
     * patch removed with null) takes its default.
     */
    static ObjectNode withDefaults(JsonNode document, ObjectNode defaults, Collection<String> fields) {
        ObjectNode out = document == null || !document.isObject() ? Json.mapper().createObjectNode()
                : ((ObjectNode) document).deepCopy();
        for (String f : fields) if (!out.has(f) && defaults.has(f)) out.set(f, defaults.get(f).deepCopy());
        return out;
    }

    /** The record {@code document} describes, or a 400 titled {@code title} that says which field is wrong. */
    static <T> T build(JsonNode document, Class<T> type, String title) {
        try {
            return Json.mapper().treeToValue(document, type);
        } catch (JsonProcessingException | IllegalArgumentException e) {
            throw ApiException.badRequest(title, reason(e));
        }
    }

    /** The record's own message when its constructor refused a value; otherwise the field and Jackson's complaint. */
    static String reason(Exception e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof IllegalArgumentException && t.getMessage() != null) return t.getMessage();
        }
        if (e instanceof JsonMappingException m && !m.getPath().isEmpty()) {
            String field = m.getPath().stream()
                    .map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
                    .collect(Collectors.joining(".")).replace(".[", "[");
            return "field " + field + ": " + m.getOriginalMessage();
        }
        return e instanceof JsonProcessingException j ? j.getOriginalMessage() : String.valueOf(e.getMessage());
    }
}
