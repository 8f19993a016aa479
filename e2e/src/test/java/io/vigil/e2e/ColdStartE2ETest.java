package io.vigil.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The whole control plane goes away while the hosts run on. SIGKILL all three controllers and start them again: the
 * cluster state is back and every VM runs in the QEMU process it ran in. Then, with the isolation response set to
 * poweroff, all controllers are frozen (SIGSTOP) for 10 s: a control-plane outage is not host isolation, so no host
 * applies it and no VM is powered off. Last, HA works as before: a host killed then fails over.
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
        controllers.awaitLeader(Duration.ofSeconds(30));
        RestClient.Reply rule = cluster.rest().post("/rules", Map.of("name", "together", "type", "affinity",
                "vms", List.of("vm1", "vm2")));
        assertEquals(201, rule.status(), () -> "create rule: " + rule.body());
        RestClient.Reply reserve = cluster.rest().patch("/policy", Map.of("reservePercent", 35));
        assertEquals(200, reserve.status(), () -> "patch policy: " + reserve.body());
        Map<String, Long> pids = qemuPids();
        Map<String, String> where = placement();
        JsonNode vmsBefore = cluster.rest().get("/vms").body();

        // Every controller SIGKILLed, then all started again.
        long epochBefore = controllers.leaderEpoch();
        for (String c : controllers.names()) controllers.kill(c);
        Thread.sleep(2000);
        long startedAt = System.nanoTime();
        controllers.start();
        String leader = controllers.awaitLeader(Duration.ofSeconds(30));
        System.out.printf("cold start: %s leads %d ms after the start of all controllers%n", leader,
                (System.nanoTime() - startedAt) / 1_000_000);
        assertTrue(controllers.leaderEpoch() > epochBefore, "a new epoch after the cold start");
        cluster.awaitConnectedHosts(2, Duration.ofSeconds(30));

        // The state is back: VM specs, the rule, the policy; the VMs run where they ran, in the same processes.
        JsonNode vmsAfter = cluster.rest().get("/vms").body();
        assertEquals(vmsBefore.size(), vmsAfter.size(), "the same VMs: " + vmsAfter);
        for (JsonNode before : vmsBefore) {
            JsonNode after = cluster.vm(before.path("name").asText());
            for (String field : List.of("priority", "haEnabled", "requestedState", "memoryMiB", "maxRestarts", "cacheMode")) {
                assertEquals(before.path(field), after.path(field), before.path("name").asText() + " " + field);
            }
        }
        JsonNode together = cluster.rest().get("/rules/together").body();
        assertEquals("affinity", together.path("type").asText(), String.valueOf(together));
        assertEquals(35, cluster.rest().get("/policy").body().path("reservePercent").asInt());
        awaitHostsReport(where, Duration.ofSeconds(30));
        Thread.sleep(LEASE_TIMEOUT_MILLIS); // a restored host is judged after a failure timeout of silence
        assertEquals(pids, qemuPids(), "every VM runs in the QEMU process it ran in before the cold start");

        // With the isolation response poweroff, every controller frozen for 10 s, then thawed: no host applies it.
        RestClient.Reply poweroff = cluster.rest().patch("/policy", Map.of("isolationResponse", "poweroff"));
        assertEquals(200, poweroff.status(), () -> "patch policy: " + poweroff.body());
        for (String host : hosts()) {
            LocalCluster.awaitTrue(host + " applying the poweroff isolation response", Duration.ofSeconds(15),
                    () -> cluster.logLines("agent-" + host).stream().anyMatch(l -> l.contains("isolation response poweroff")));
        }
        Map<String, Integer> logMarks = new HashMap<>();
        for (String host : hosts()) logMarks.put(host, cluster.logLines("agent-" + host).size());
        for (String c : controllers.names()) controllers.freeze(c);
        Thread.sleep(10_000);
        for (String c : controllers.names()) controllers.thaw(c);
        controllers.awaitLeader(Duration.ofSeconds(30));
        cluster.awaitConnectedHosts(2, Duration.ofSeconds(30));
        Thread.sleep(1000); // connected again: no isolation response can follow
        assertEquals(List.of(), isolationsApplied(logMarks), "no host applied its isolation response");
        assertEquals(pids, qemuPids(), "no VM was powered off or restarted while the control plane was frozen");

        // HA resumes: a host killed now fails over.
        String victim = busiestHost();
        List<String> moved = vmsOn(victim);
        cluster.killHost(victim);
        awaitRunningElsewhere(moved, victim, Duration.ofSeconds(60));
        assertEquals(List.of(), watch.violations(), "a VM ran on two hosts at once");
    }

    /** The isolation responses agents logged after line {@code marks.get(host)} of their logs. */
    private List<String> isolationsApplied(Map<String, Integer> marks) {
        List<String> found = new ArrayList<>();
        for (String host : hosts()) {
            List<String> lines = cluster.logLines("agent-" + host);
            lines.subList(Math.min(marks.get(host), lines.size()), lines.size()).stream().filter(l -> l.contains(ISOLATED))
                    .forEach(l -> found.add(host + ": " + l));
        }
        return found;
    }
}
