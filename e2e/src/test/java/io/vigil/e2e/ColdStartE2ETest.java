package io.vigil.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The whole control plane goes away while the hosts run on. SIGKILL all three controllers and start them again: the
 * cluster state is back, every VM runs in the QEMU process it ran in, and HA resumes (a host killed afterwards fails
 * over). Then, with the isolation response set to poweroff, all controllers are frozen (SIGSTOP) for 10 s: a
 * control-plane outage is not host isolation, so no host applies it and no VM is powered off.
 */
class ColdStartE2ETest extends ClusterTestBase {
    /** What an agent logs when it applies its isolation response (io.vigil.agent.isolation.IsolationMonitor). */
    static final String ISOLATED = "ISOLATED:";

    @Override
    int controllerCount() {
        return 3;
    }

    @Override
    List<String> hosts() {
        return List.of("h1", "h2");
    }

    @Override
    int vmCount() {
        return 3;
    }

    @Override
    long vmMemoryMiB(int i) {
        return 64;
    }

    @Test
    void theWholeControlPlaneRestartsOrFreezesWithoutTouchingAVm() throws Exception {
        cluster.awaitLeader(Duration.ofSeconds(30));
        RestClient.Reply rule = cluster.rest().post("/rules", Map.of("name", "together", "type", "affinity",
                "vms", List.of("vm1", "vm2")));
        assertEquals(201, rule.status(), () -> "create rule: " + rule.body());
        RestClient.Reply policy = cluster.rest().patch("/policy", Map.of("isolationResponse", "poweroff"));
        assertEquals(200, policy.status(), () -> "patch policy: " + policy.body());
        for (String host : hosts()) {
            LocalCluster.awaitTrue(host + " applying the poweroff isolation response", Duration.ofSeconds(15),
                    () -> cluster.logLines("agent-" + host).stream().anyMatch(l -> l.contains("isolation response poweroff")));
        }
        Map<String, Long> pids = qemuPids();
        Map<String, String> where = placement();
        JsonNode vmsBefore = cluster.rest().get("/vms").body();

        // Every controller frozen for 10 s, then thawed: nobody applies the isolation response.
        for (String c : cluster.controllerNames()) cluster.freezeController(c);
        Thread.sleep(10_000);
        for (String c : cluster.controllerNames()) cluster.thawController(c);
        cluster.awaitLeader(Duration.ofSeconds(30));
        LocalCluster.awaitTrue("both hosts connected again", Duration.ofSeconds(30), () -> cluster.connectedHosts().size() == 2);
        Thread.sleep(3000);
        assertEquals(pids, qemuPids(), "no VM was powered off or restarted while the control plane was frozen");
        assertEquals(List.of(), isolationsApplied(), "no host applied its isolation response");

        // Every controller SIGKILLed, then all started again.
        long epochBefore = cluster.leaderEpoch();
        for (String c : cluster.controllerNames()) cluster.killController(c);
        Thread.sleep(2000);
        long startedAt = System.nanoTime();
        cluster.startController();
        String leader = cluster.awaitLeader(Duration.ofSeconds(30));
        System.out.printf("cold start: %s leads %d ms after the start of all controllers%n", leader,
                (System.nanoTime() - startedAt) / 1_000_000);
        assertTrue(cluster.leaderEpoch() > epochBefore, "a new epoch after the cold start");
        cluster.awaitConnectedHosts(2, Duration.ofSeconds(30));

        // The state is back: VM specs, the rule, the policy.
        JsonNode vmsAfter = cluster.rest().get("/vms").body();
        assertEquals(vmsBefore.size(), vmsAfter.size(), "the same VMs: " + vmsAfter);
        for (JsonNode before : vmsBefore) {
            JsonNode after = cluster.vm(before.path("name").asText());
            for (String field : List.of("priority", "haEnabled", "requestedState", "memoryMiB", "generation")) {
                assertEquals(before.path(field), after.path(field), before.path("name").asText() + " " + field);
            }
        }
        JsonNode together = cluster.rest().get("/rules/together").body();
        assertEquals("affinity", together.path("type").asText(), String.valueOf(together));
        assertEquals("poweroff", cluster.rest().get("/policy").body().path("isolationResponse").asText());
        awaitRunningOn(where, Duration.ofSeconds(30));
        Thread.sleep(LEASE_TIMEOUT_MILLIS);
        assertEquals(pids, qemuPids(), "every VM runs in the QEMU process it ran in before the cold start");
        assertEquals(List.of(), isolationsApplied(), "no host applied its isolation response");

        // HA resumes: a host killed now fails over.
        String victim = busiestHost();
        List<String> moved = vmsOn(victim);
        cluster.killHost(victim);
        awaitRunningElsewhere(moved, victim, Duration.ofSeconds(60));
        assertEquals(List.of(), watch.violations(), "a VM ran on two hosts at once");
    }

    private List<String> isolationsApplied() {
        List<String> found = new ArrayList<>();
        for (String host : hosts()) {
            cluster.logLines("agent-" + host).stream().filter(l -> l.contains(ISOLATED)).forEach(l -> found.add(host + ": " + l));
        }
        return found;
    }
}
