package io.vigil.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A host dies (agent and QEMU SIGKILLed): its HA VMs come back elsewhere, never twice, and the events tell how. */
class HostFailoverE2ETest extends ClusterTestBase {

    @Test
    void vmsOfAKilledHostRestartElsewhereAndNeverRunTwice() {
        String victim = busiestHost();
        List<String> moved = vmsOn(victim);
        Map<String, Long> pidsBefore = qemuPids();
        assertFalse(moved.isEmpty(), "the busiest host runs VMs");

        long killedAt = cluster.killHost(victim);
        awaitRunningElsewhere(moved, victim, Duration.ofSeconds(60));
        long tookMillis = (System.nanoTime() - killedAt) / 1_000_000;

        assertEquals(List.of(), watch.violations(), "a VM ran on two hosts at once");
        assertTrue(watch.samples() > 10, "the double-run watch sampled the whole run");
        // The VMs of the surviving hosts were not touched.
        Map<String, Long> pidsAfter = qemuPids();
        pidsBefore.forEach((vm, pid) -> {
            if (!moved.contains(vm)) assertEquals(pid, pidsAfter.get(vm), vm + " was restarted though its host lived");
        });
        for (String vm : moved) assertTrue(cluster.vm(vm).path("generation").asLong() >= 2, vm + " has a new generation");

        // The story, in order, with timings: detected, declared failed, leases expired, placed, started.
        List<JsonNode> hostEvents = cluster.events("host=" + victim);
        long suspect = firstTime(hostEvents, "host-suspect");
        long failed = firstTime(hostEvents, "host-failed");
        long expired = firstTime(hostEvents, "host-leases-expired");
        assertTrue(suspect <= failed && failed <= expired, "detected <= declared failed <= leases expired: " + hostEvents);
        for (String vm : moved) {
            List<JsonNode> vmEvents = cluster.events("vm=" + vm);
            long placed = lastTime(vmEvents, "vm-placed");
            long started = lastTime(vmEvents, "vm-started");
            assertTrue(expired <= placed && placed <= started, vm + ": leases expired <= placed <= started: " + vmEvents);
            JsonNode startedEvent = vmEvents.stream().filter(e -> e.path("type").asText().equals("vm-started"))
                    .reduce((a, b) -> b).orElseThrow();
            assertTrue(startedEvent.path("details").has("elapsedMillis"), "vm-started says how long since detection: " + startedEvent);
        }
        System.out.printf("failover of %d VMs from %s took %d ms%n", moved.size(), victim, tookMillis);
    }

    private static long firstTime(List<JsonNode> events, String type) {
        return events.stream().filter(e -> e.path("type").asText().equals(type)).mapToLong(e -> e.path("timeMillis").asLong())
                .min().orElseThrow(() -> new AssertionError("no " + type + " event in " + events));
    }

    private static long lastTime(List<JsonNode> events, String type) {
        return events.stream().filter(e -> e.path("type").asText().equals(type)).mapToLong(e -> e.path("timeMillis").asLong())
                .max().orElseThrow(() -> new AssertionError("no " + type + " event in " + events));
    }
}
