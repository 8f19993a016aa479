package io.vigil.controller.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vigil.controller.ha.ClusterPolicy;
import io.vigil.controller.store.ClusterStore;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code /api/v1/policy}: the cluster policy. PUT replaces it (a field left out takes its value from
 * {@link ClusterPolicy#DEFAULT}), PATCH merges a JSON Merge Patch into the current one (null resets a field to its
 * default). The stored policy reaches the HA core through the store's listener, and the agents through the core.
 */
final class PolicyResource {
    private static final Logger log = LoggerFactory.getLogger(PolicyResource.class);
    static final String INVALID = "Invalid Policy";
    /** The policy's fields, as in the API. */
    static final List<String> FIELDS = List.of("heartbeatIntervalSeconds", "failureTimeoutSeconds",
            "leaseTimeoutSeconds", "isolationResponse", "hostFailuresToTolerate", "admissionControl", "reservePercent",
            "failoverHosts", "rejoinGraceSeconds", "shutdownPolicy");

    private final ClusterStore store;

    PolicyResource(ClusterStore store) {
        this.store = store;
    }

    ClusterPolicy get() {
        return store.policy().orElse(ClusterPolicy.DEFAULT);
    }

    ClusterPolicy put(JsonNode document) {
        return store(fromDocument(document));
    }

    ClusterPolicy patch(JsonNode mergePatch) {
        ClusterPolicy policy = store.updatePolicy(current -> apply(current, mergePatch));
        log.info("policy changed: {}", policy);
        return policy;
    }

    /** The policy a whole document describes, missing fields from {@link ClusterPolicy#DEFAULT}. */
    static ClusterPolicy fromDocument(JsonNode document) {
        ObjectNode full = Documents.withDefaults(document, Documents.tree(ClusterPolicy.DEFAULT), FIELDS);
        return Documents.build(full, ClusterPolicy.class, INVALID);
    }

    /** {@code current} with {@code mergePatch} applied (RFC 7396); a field patched to null takes its default. */
    static ClusterPolicy apply(ClusterPolicy current, JsonNode mergePatch) {
        return fromDocument(MergePatch.apply(Documents.tree(current), mergePatch));
    }

    private ClusterPolicy store(ClusterPolicy policy) {
        store.setPolicy(policy);
        log.info("policy changed: {}", policy);
        return policy;
    }
}
