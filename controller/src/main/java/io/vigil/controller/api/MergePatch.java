package io.vigil.controller.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Map;

/**
 * JSON Merge Patch (RFC 7396) over Jackson trees: members of the patch replace the target's, objects merge
 * recursively, {@code null} removes a member, and anything that is not an object (arrays included) replaces the
 * target as a whole. No library on the classpath implements it, and the RFC's algorithm is these few lines.
 */
final class MergePatch {
    private MergePatch() {}

    /** The patched document; neither argument is modified. {@code target} may be null (no document). */
    static JsonNode apply(JsonNode target, JsonNode patch) {
        if (patch == null || !patch.isObject()) return patch == null ? null : patch.deepCopy();
        ObjectNode result = target != null && target.isObject() ? ((ObjectNode) target).deepCopy()
                : JsonNodeFactory.instance.objectNode();
        for (Map.Entry<String, JsonNode> member : patch.properties()) {
            if (member.getValue().isNull()) {
                result.remove(member.getKey());
            } else {
                result.set(member.getKey(), apply(result.get(member.getKey()), member.getValue()));
            }
        }
        return result;
    }
}
