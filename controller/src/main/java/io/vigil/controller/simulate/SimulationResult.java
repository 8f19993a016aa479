package io.vigil.controller.simulate;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The outcome of a simulation: each host's final state, each VM's host and state (a VM that is not running keeps
 * the host it was last on), and every event in the order it happened. {@link #toJson()} is the document
 * {@code scripts/vigil simulate} prints; hosts and VMs by name, events in order, so the same run
 * gives the same bytes.
 */
public record SimulationResult(BigDecimal time, Map<String, HostOutcome> hosts, Map<String, VmOutcome> vms,
        List<Event> events) {

    public record HostOutcome(String state) {}

    public record VmOutcome(String host, String state) {}

    /** {@code millis} since the start; printed as seconds with one decimal. */
    public record Event(long millis, String type, String host, String vm, String detail) {
        BigDecimal seconds() {
            return BigDecimal.valueOf(millis, 3).setScale(1, RoundingMode.HALF_UP);
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public String toJson() {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("time", time.stripTrailingZeros().scale() <= 0 ? time.toBigInteger() : time);
        Map<String, Object> h = new LinkedHashMap<>();
        hosts.forEach((name, o) -> h.put(name, Map.of("state", o.state())));
        doc.put("hosts", h);
        Map<String, Object> v = new LinkedHashMap<>();
        vms.forEach((name, o) -> {
            Map<String, Object> fields = new LinkedHashMap<>();
            fields.put("host", o.host());
            fields.put("state", o.state());
            v.put(name, fields);
        });
        doc.put("vms", v);
        List<Map<String, Object>> list = events.stream().map(e -> {
            Map<String, Object> fields = new LinkedHashMap<>();
            fields.put("t", e.seconds());
            fields.put("type", e.type());
            fields.put("host", e.host());
            fields.put("vm", e.vm());
            fields.put("detail", e.detail());
            return fields;
        }).toList();
        doc.put("events", list);
        try {
            return JSON.writeValueAsString(doc) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write the result", e);
        }
    }
}
