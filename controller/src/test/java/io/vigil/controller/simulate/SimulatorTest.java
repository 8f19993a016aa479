package io.vigil.controller.simulate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The simulator's contract beyond single scenarios: determinism, strict parsing with lines, the command line. */
class SimulatorTest {
    private static final String HOSTS = """
            hosts:
              - {name: n1, memoryMiB: 4096}
              - {name: n2, memoryMiB: 4096}
            """;

    @Test
    void sameScenarioGivesTheSameJson() throws Exception {
        Path file = ScenarioFilesTest.DIR.resolve("host-failure.yaml");
        String first = Simulator.run(ScenarioParser.parse(file)).toJson();
        String second = Simulator.run(ScenarioParser.parse(file)).toJson();
        assertEquals(first, second);
        assertTrue(first.startsWith("{\n  \"time\" : 60,"), first.substring(0, 40));
        assertTrue(first.contains("\"t\" : 12.3,"), "seconds with one decimal");
    }

    @Test
    void unknownFieldIsRefusedWithItsLine() {
        ScenarioException e = assertThrows(ScenarioException.class, () -> ScenarioParser.parse(HOSTS + """
                vms:
                  - name: a
                    memoryMiB: 1024
                    hots: n1
                until: 10
                """));
        assertEquals(7, e.line());
        assertTrue(e.getMessage().startsWith("line 7: unknown field 'hots' in a VM"), e.getMessage());
    }

    @Test
    void unknownTopLevelFieldAndBadPolicyValues() {
        ScenarioException top = assertThrows(ScenarioException.class,
                () -> ScenarioParser.parse(HOSTS + "untill: 10\n"));
        assertEquals("line 4: unknown field 'untill' in the scenario (known: events, hosts, policy, rules, until, vms)",
                top.getMessage());
        ScenarioException admission = assertThrows(ScenarioException.class, () -> ScenarioParser.parse(HOSTS + """
                policy:
                  admissionControl: dedicated
                until: 10
                """));
        assertEquals("line 4: policy: failoverHosts must name at least one host when admissionControl is dedicated",
                admission.getMessage());
        ScenarioException failoverHost = assertThrows(ScenarioException.class, () -> ScenarioParser.parse(HOSTS + """
                policy:
                  admissionControl: dedicated
                  failoverHosts: [n7]
                until: 10
                """));
        assertEquals("line 6: unknown host 'n7'", failoverHost.getMessage());
        ScenarioException mode = assertThrows(ScenarioException.class, () -> ScenarioParser.parse(HOSTS + """
                policy: {shutdownPolicy: hibernate}
                until: 10
                """));
        assertTrue(mode.getMessage().startsWith("line 4: shutdownPolicy must be one of migrate, failover, freeze"),
                mode.getMessage());
    }

    @Test
    void vmSettingsAreCheckedWithTheirLine() throws ScenarioException {
        ScenarioException strict = assertThrows(ScenarioException.class, () -> ScenarioParser.parse(HOSTS + """
                vms:
                  - {name: a, memoryMiB: 1024, host: n1, strict: true}
                until: 10
                """));
        assertEquals("line 5: VM 'a': strict needs preferredHosts: a strict VM runs only on its preferred hosts",
                strict.getMessage());
        ScenarioException dep = assertThrows(ScenarioException.class, () -> ScenarioParser.parse(HOSTS + """
                vms:
                  - name: a
                    memoryMiB: 1024
                    startAfter: [b]
                until: 10
                """));
        assertEquals("line 7: unknown VM 'b'", dep.getMessage());
        ScenarioException rule = assertThrows(ScenarioException.class, () -> ScenarioParser.parse(HOSTS + """
                vms:
                  - {name: a, memoryMiB: 1024}
                rules:
                  - {name: r, type: together, vms: [a, a]}
                until: 10
                """));
        assertTrue(rule.getMessage().startsWith("line 7: rule 'r': type must be affinity or anti-affinity"),
                rule.getMessage());
        ScenarioException setVm = assertThrows(ScenarioException.class, () -> ScenarioParser.parse(HOSTS + """
                vms:
                  - {name: a, memoryMiB: 1024}
                events:
                  - {at: 1, action: set-vm, vm: a, fields: {memoryMiB: 2048}}
                until: 10
                """));
        assertTrue(setVm.getMessage().startsWith("line 7: unknown field 'memoryMiB' in set-vm fields"),
                setVm.getMessage());
        ScenarioException weight = assertThrows(ScenarioException.class, () -> ScenarioParser.parse(HOSTS + """
                vms:
                  - {name: a, memoryMiB: 1024, cacheWeight: 1001}
                until: 10
                """));
        assertEquals("line 5: cacheWeight must be between 0 and 1000 (0: no cache memory)", weight.getMessage());
        ScenarioException negative = assertThrows(ScenarioException.class, () -> ScenarioParser.parse(HOSTS + """
                vms:
                  - {name: a, memoryMiB: 1024}
                events:
                  - {at: 1, action: set-vm, vm: a, fields: {cacheWeight: -1}}
                until: 10
                """));
        assertEquals("line 7: cacheWeight must be at least 0", negative.getMessage());
        assertEquals(7, ScenarioParser.parse(HOSTS + """
                vms:
                  - {name: a, memoryMiB: 1024, cacheWeight: 7}
                until: 10
                """).vms().get(0).spec().cacheWeight());
    }

    @Test
    void unknownActionOrMissingFieldIsRefusedWithItsLine() {
        ScenarioException missing = assertThrows(ScenarioException.class, () -> ScenarioParser.parse(HOSTS + """
                events:
                  - {at: 1, action: fail-host, host: n1}
                  - {at: 2, action: maintenance, host: n2}
                until: 10
                """));
        assertEquals("line 6: 'enabled' is required", missing.getMessage());
        ScenarioException unknown = assertThrows(ScenarioException.class, () -> ScenarioParser.parse(HOSTS + """
                events:
                  - {at: 1, action: explode-host, host: n1}
                until: 10
                """));
        assertTrue(unknown.getMessage().startsWith("line 5: unknown action 'explode-host'"), unknown.getMessage());
    }

    @Test
    void badValuesNameTheirLine() {
        ScenarioException host = assertThrows(ScenarioException.class, () -> ScenarioParser.parse(HOSTS + """
                events:
                  - {at: 1, action: fail-host, host: n9}
                until: 10
                """));
        assertEquals("line 5: unknown host 'n9'", host.getMessage());
        ScenarioException policy = assertThrows(ScenarioException.class, () -> ScenarioParser.parse(HOSTS + """
                events:
                  - {at: 1, action: set-policy, fields: {leaseTimeoutSeconds: 2}}
                until: 10
                """));
        assertEquals("line 5: set-policy fields: leaseTimeoutSeconds must be at least three times "
                + "heartbeatIntervalSeconds", policy.getMessage());
        ScenarioException extra = assertThrows(ScenarioException.class, () -> ScenarioParser.parse(HOSTS + """
                events:
                  - {at: 1, action: stop, vm: a, host: n1}
                vms:
                  - {name: a, memoryMiB: 1024, host: n1}
                until: 10
                """));
        assertTrue(extra.getMessage().startsWith("line 5: unknown field 'host' in a stop event"), extra.getMessage());
    }

    @Test
    void commandLine(@TempDir Path dir) throws IOException {
        Path bad = dir.resolve("bad.yaml");
        Files.writeString(bad, HOSTS + "events:\n  - {at: 1, action: migrate, vm: a, to: n2}\nuntil: 5\n");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertEquals(2, SimulateMain.run(new String[] {"simulate", bad.toString()}, print(out), print(err)));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("line 5: unknown VM 'a'"),
                err.toString(StandardCharsets.UTF_8));
        assertEquals(0, out.size());

        Path good = dir.resolve("good.yaml");
        Files.writeString(good, HOSTS + "vms:\n  - {name: a, memoryMiB: 1024}\nuntil: 5\n");
        out.reset();
        assertEquals(0, SimulateMain.run(new String[] {"simulate", good.toString()}, print(out), print(err)));
        String json = out.toString(StandardCharsets.UTF_8);
        assertTrue(json.contains("\"a\" : {\n      \"host\" : \"n1\",\n      \"state\" : \"running\""), json);

        assertEquals(2, SimulateMain.run(new String[] {"simulate"}, print(out), print(err)));
        assertEquals(2, SimulateMain.run(new String[] {"simulate", dir.resolve("missing.yaml").toString()},
                print(out), print(err)));
    }

    private static PrintStream print(ByteArrayOutputStream b) {
        return new PrintStream(b, true, StandardCharsets.UTF_8);
    }
}
