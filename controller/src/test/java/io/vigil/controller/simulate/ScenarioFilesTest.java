package io.vigil.controller.simulate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Runs every {@code src/test/resources/scenarios/NAME.yaml} through the simulator and checks it against
 * {@code NAME.expect.yaml}: the final state of every host ({@code hosts: {name: state}}) and every VM
 * ({@code vms: {name: {host, state}}}), exactly; {@code events}: entries ({@code type}, and optionally
 * {@code host}, {@code vm}, and {@code detail}, a substring of the detail) that must occur in this order, others
 * may come between; {@code never}: event types that must not occur. No run may ever show a VM on two live hosts.
 */
class ScenarioFilesTest {
    static final Path DIR = Path.of("src/test/resources/scenarios");
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final ObjectMapper JSON = new ObjectMapper();

    static Stream<String> scenarios() throws IOException {
        try (Stream<Path> files = Files.list(DIR)) {
            return files.map(p -> p.getFileName().toString())
                    .filter(n -> n.endsWith(".yaml") && !n.endsWith(".expect.yaml"))
                    .map(n -> n.substring(0, n.length() - ".yaml".length())).sorted().toList().stream();
        }
    }

    @Test
    void everyScenarioHasAnExpectedOutcome() throws IOException {
        List<String> names = scenarios().toList();
        assertTrue(names.size() >= 30, "scenarios: " + names);
        for (String name : names)
            assertTrue(Files.exists(DIR.resolve(name + ".expect.yaml")), name + " has no " + name + ".expect.yaml");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("scenarios")
    void scenarioMeetsItsExpectations(String name) throws Exception {
        Scenario scenario = ScenarioParser.parse(DIR.resolve(name + ".yaml"));
        JsonNode out = JSON.readTree(Simulator.run(scenario).toJson());
        JsonNode expect = YAML.readTree(DIR.resolve(name + ".expect.yaml").toFile());
        String log = eventLog(out);

        Map<String, String> hosts = new TreeMap<>();
        out.get("hosts").fields().forEachRemaining(e -> hosts.put(e.getKey(), e.getValue().get("state").asText()));
        Map<String, String> expectedHosts = new TreeMap<>();
        expect.get("hosts").fields().forEachRemaining(e -> expectedHosts.put(e.getKey(), e.getValue().asText()));
        assertEquals(expectedHosts, hosts, "host states\n" + log);

        Map<String, String> vms = new TreeMap<>();
        out.get("vms").fields().forEachRemaining(e -> vms.put(e.getKey(),
                e.getValue().get("host").asText() + "/" + e.getValue().get("state").asText()));
        Map<String, String> expectedVms = new TreeMap<>();
        expect.get("vms").fields().forEachRemaining(e -> expectedVms.put(e.getKey(),
                e.getValue().get("host").asText() + "/" + e.getValue().get("state").asText()));
        assertEquals(expectedVms, vms, "VM host/state\n" + log);

        Iterator<JsonNode> events = out.get("events").iterator();
        for (JsonNode wanted : iterable(expect.get("events"))) {
            boolean found = false;
            while (events.hasNext() && !found) found = matches(wanted, events.next());
            if (!found) fail("no event " + wanted + " (in this order)\n" + log);
        }
        List<String> never = new ArrayList<>(List.of("simulator-invariant-violated"));
        for (JsonNode t : iterable(expect.get("never"))) never.add(t.asText());
        for (JsonNode e : out.get("events"))
            assertTrue(!never.contains(e.get("type").asText()), "unexpected " + e + "\n" + log);
    }

    private static boolean matches(JsonNode wanted, JsonNode event) {
        for (String field : List.of("type", "host", "vm"))
            if (wanted.has(field) && !wanted.get(field).asText().equals(event.get(field).asText())) return false;
        return !wanted.has("detail") || event.get("detail").asText().contains(wanted.get("detail").asText());
    }

    private static Iterable<JsonNode> iterable(JsonNode node) {
        return node == null ? List.of() : node::elements;
    }

    private static String eventLog(JsonNode out) {
        StringBuilder b = new StringBuilder("events:\n");
        for (JsonNode e : out.get("events"))
            b.append("  ").append(e.get("t")).append(' ').append(e.get("type").asText()).append(" host=")
                    .append(e.get("host").asText()).append(" vm=").append(e.get("vm").asText()).append(": ")
                    .append(e.get("detail").asText()).append('\n');
        return b.toString();
    }
}
