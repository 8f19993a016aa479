package io.vigil.controller.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vigil.controller.ha.Rule;
import io.vigil.controller.ha.VmSpec;
import io.vigil.controller.store.ClusterStore;
import io.vigil.protocol.Json;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code /api/v1/rules}: placement rules (affinity, anti-affinity) over named VMs. Stored in the cluster store; every
 * change reaches the HA core as the whole new set of rules (the store's listener), and applies to placements from then
 * on. A VM a rule names must exist when it is added to the rule; a rule naming a VM deleted since is kept, and the
 * core ignores the missing VM.
 */
final class RuleResource {
    private static final Logger log = LoggerFactory.getLogger(RuleResource.class);
    static final String INVALID = "Invalid Rule";
    private static final List<String> FIELDS = List.of("name", "type", "vms", "strict");
    /** {@code strict} is the only field with a default. */
    private static final ObjectNode DEFAULTS = Json.mapper().createObjectNode().put("strict", false);

    private final ClusterStore store;

    RuleResource(ClusterStore store) {
        this.store = store;
    }

    List<Rule> list() {
        return store.rules();
    }

    Rule get(String name) {
        return store.rule(name).orElseThrow(() -> unknownRule(name));
    }

    private static ApiException unknownRule(String name) {
        return ApiException.notFound("no rule named '" + name + "'; GET /api/v1/rules lists the rules");
    }

    Rule create(JsonNode document) {
        Rule rule = build(document);
        checkVms(null, rule);
        if (!store.createRule(rule))
            throw ApiException.conflict("a rule named '" + rule.name() + "' already exists; PUT or PATCH /api/v1/rules/"
                    + rule.name() + " changes it");
        log.info("rule created: {}", rule);
        return rule;
    }

    /** Replaces a rule as a whole ({@code strict} left out: false); {@code name}, if given, must be the rule's. */
    Rule replace(String name, JsonNode document) {
        Rule before = get(name);
        ObjectNode named = ((ObjectNode) document).deepCopy();
        refuseRename(name, named);
        named.put("name", name);
        Rule rule = build(named);
        checkVms(before, rule);
        if (!store.replaceRule(rule)) throw unknownRule(name);
        log.info("rule replaced: {}", rule);
        return rule;
    }

    /** Applies a JSON Merge Patch; {@code strict} patched to null becomes false, a required field patched to null is refused. */
    Rule patch(String name, JsonNode mergePatch) {
        refuseRename(name, mergePatch);
        Rule rule = store.updateRule(name, before -> {
            JsonNode patched = MergePatch.apply(Documents.tree(before), mergePatch);
            ((ObjectNode) patched).put("name", name);
            Rule next = build(patched);
            checkVms(before, next);
            return next;
        }).orElseThrow(() -> unknownRule(name));
        log.info("rule changed: {}", rule);
        return rule;
    }

    void delete(String name) {
        if (!store.removeRule(name)) throw unknownRule(name);
        log.info("rule {} deleted", name);
    }

    private static Rule build(JsonNode document) {
        return Documents.build(Documents.withDefaults(document, DEFAULTS, FIELDS), Rule.class, INVALID);
    }

    private static void refuseRename(String name, JsonNode document) {
        JsonNode given = document.get("name");
        if (given != null && !given.isNull() && !given.asText().equals(name))
            throw ApiException.badRequest(INVALID, "field name: a rule cannot be renamed ('" + given.asText()
                    + "' given for rule '" + name + "'); create a new rule and delete this one");
    }

    /** Each VM added to the rule must exist. */
    private void checkVms(Rule before, Rule after) {
        Set<String> added = new HashSet<>(after.vms());
        if (before != null) added.removeAll(before.vms());
        if (added.isEmpty()) return;
        Set<String> known = store.specs().stream().map(VmSpec::name).collect(Collectors.toSet());
        List<String> unknown = added.stream().filter(v -> !known.contains(v)).sorted().toList();
        if (!unknown.isEmpty())
            throw ApiException.badRequest(INVALID, "field vms: no VM named " + unknown.stream().map(v -> "'" + v + "'")
                    .collect(Collectors.joining(", ")) + "; GET /api/v1/vms lists the VMs");
    }
}
