package io.vigil.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Maintenance on a real host: its VMs migrate away through libvirt (saved to shared storage on the source, restored
 * on the target: the same guest carries on), never twice, nothing is placed on it, and it takes VMs again after.
 */
class MaintenanceE2ETest extends ClusterTestBase {

    @Test
    void maintenanceMigratesEveryVmAwayBySaveAndRestore() {
        String host = busiestHost();
        List<String> moved = vmsOn(host);
        assertFalse(moved.isEmpty(), "the busiest host runs VMs");
        Map<String, Long> pidsBefore = qemuPids();

        RestClient.Reply on = cluster.rest().post("/hosts/" + host + "/maintenance", Map.of("enabled", true));
        assertEquals(202, on.status(), () -> "maintenance on: " + on.body());
        awaitRunningElsewhere(moved, host, Duration.ofSeconds(90));

        assertEquals(List.of(), watch.violations(), "a VM ran on two hosts at once");
        JsonNode h = host(host);
        assertTrue(h.path("maintenance").asBoolean(), "the host shows maintenance: " + h);
        assertEquals(0, h.path("vms").size(), "nothing left on the host in maintenance: " + h);
        Map<String, Long> pidsAfter = qemuPids();
        pidsBefore.forEach((vm, pid) -> {
            if (!moved.contains(vm)) assertEquals(pid, pidsAfter.get(vm), vm + " was touched though its host stayed");
        });
        for (String vm : moved) {
            List<JsonNode> events = cluster.events("vm=" + vm);
            assertTrue(events.stream().anyMatch(e -> e.path("type").asText().equals("vm-saved")),
                    vm + " was saved on " + host + ": " + events);
            JsonNode placed = events.stream().filter(e -> e.path("type").asText().equals("vm-placed"))
                    .reduce((a, b) -> b).orElseThrow();
            assertTrue(placed.path("message").asText().contains("restoring its saved state"), placed.toString());
            // Ground truth: QEMU was started to receive the saved state (-incoming), not to boot the guest afresh.
            String cmdline = cmdline(pidsAfter.get(vm));
            assertTrue(cmdline.contains("-incoming"), vm + "'s new QEMU restores a saved state: " + cmdline);
            assertTrue(cluster.vm(vm).path("generation").asLong() >= 2, vm + " runs under a new lease generation");
        }

        RestClient.Reply off = cluster.rest().post("/hosts/" + host + "/maintenance", Map.of("enabled", false));
        assertEquals(202, off.status(), () -> "maintenance off: " + off.body());
        LocalCluster.awaitTrue(host + " out of maintenance", Duration.ofSeconds(20),
                () -> !host(host).path("maintenance").asBoolean());
        assertEquals(List.of(), watch.violations(), "a VM ran on two hosts at once");
    }

    private static String cmdline(Long pid) {
        try {
            return new String(java.nio.file.Files.readAllBytes(java.nio.file.Path.of("/proc/" + pid + "/cmdline")))
                    .replace('\0', ' ');
        } catch (java.io.IOException e) {
            throw new AssertionError("cannot read the command line of QEMU pid " + pid, e);
        }
    }
}
