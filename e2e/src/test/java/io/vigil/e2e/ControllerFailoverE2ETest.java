package io.vigil.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Three controllers, one leader. (a) The leader is SIGKILLed: another takes its lease within 10 s and a host killed
 * then fails over under it. (b) The next leader is frozen (SIGSTOP) for longer than its lease while a host dies: the
 * host fails over under a newer leader; once thawed, the old leader says it is not the leader and that it stops
 * deciding, and nothing it might still send is executed by an agent. No VM ever runs on two hosts.
 */
class ControllerFailoverE2ETest extends ClusterTestBase {
    /** What an agent logs when it refuses a command of a replaced leader (io.vigil.agent.leader.LeaderEpochs). */
    static final String REFUSAL = "refused: command from leader epoch ";
    /** The leader lease's timeout (Controller.LEADER_LEASE_TIMEOUT_MILLIS). */
    static final long LEADER_LEASE_TIMEOUT_MILLIS = 5000;

    @Override
    int controllerCount() {
        return 3;
    }

    @Override
    int vmCount() {
        return 4;
    }

    @Override
    long vmMemoryMiB(int i) {
        return 64;
    }

    @Test
    void aKilledOrFrozenLeaderIsReplacedAndHostsStillFailOver() throws Exception {
        String first = cluster.awaitLeader(Duration.ofSeconds(30));
        long firstEpoch = cluster.leaderEpoch();
        assertEquals(first, cluster.leaderOfEpoch(firstEpoch), "the leader holds the highest epoch on storage");

        // (a) SIGKILL the leader: another controller leads within 10 s.
        long killedAt = cluster.killController(first);
        String second = cluster.awaitLeader(Duration.ofSeconds(20));
        long takeoverMillis = (System.nanoTime() - killedAt) / 1_000_000;
        System.out.printf("controller failover: %s killed, %s leads %d ms later%n", first, second, takeoverMillis);
        assertNotEquals(first, second);
        assertTrue(takeoverMillis <= 10_000, "a new leader within 10 s of the kill, not " + takeoverMillis + " ms");
        assertTrue(cluster.leaderEpoch() > firstEpoch, "the new leader claimed a newer epoch");
        assertEquals(second, cluster.leaderOfEpoch(cluster.leaderEpoch()));

        String victim = busiestHost();
        List<String> moved = vmsOn(victim);
        cluster.killHost(victim);
        // The killed controller comes back meanwhile, as a follower.
        cluster.startController(first);
        awaitRunningElsewhere(moved, victim, Duration.ofSeconds(60));
        assertFalse(cluster.controllerHealth(first).path("leader").asBoolean(), "a restarted controller does not take over");
        assertEquals(List.of(second), cluster.leaders());

        // (b) SIGSTOP the leader for longer than its lease; a host dies meanwhile.
        long secondEpoch = cluster.leaderEpoch();
        Map<String, Long> pidsBefore = qemuPids();
        long frozenAt = cluster.freezeController(second);
        Thread.sleep(1000);
        String victim2 = busiestHost();
        List<String> moved2 = vmsOn(victim2);
        cluster.killHost(victim2);
        String third = cluster.awaitLeader(Duration.ofSeconds(20));
        long frozenTakeoverMillis = (System.nanoTime() - frozenAt) / 1_000_000;
        assertNotEquals(second, third);
        awaitRunningElsewhere(moved2, victim2, Duration.ofSeconds(60));
        long thirdEpoch = cluster.leaderEpoch();
        assertTrue(thirdEpoch > secondEpoch, "the new leader claimed a newer epoch");
        assertEquals(third, cluster.leaderOfEpoch(thirdEpoch));
        long frozenFor = (System.nanoTime() - frozenAt) / 1_000_000;
        if (frozenFor < LEADER_LEASE_TIMEOUT_MILLIS + 3000) Thread.sleep(LEADER_LEASE_TIMEOUT_MILLIS + 3000 - frozenFor);
        int logBefore = cluster.logLines(LocalCluster.controllerLogName(second)).size();
        cluster.thawController(second);
        System.out.printf("%s frozen for %d ms; %s led %d ms after the freeze%n", second,
                (System.nanoTime() - frozenAt) / 1_000_000, third, frozenTakeoverMillis);

        // The thawed controller knows it is not the leader, says it stops deciding, and nothing it does changes a VM.
        LocalCluster.awaitTrue(second + " answering health again", Duration.ofSeconds(10), () -> cluster.controllerHealth(second) != null);
        assertFalse(cluster.controllerHealth(second).path("leader").asBoolean(), "the thawed controller is not the leader");
        LocalCluster.awaitTrue(second + " logging that it stops deciding", Duration.ofSeconds(10), () -> {
            List<String> lines = cluster.logLines(LocalCluster.controllerLogName(second));
            return lines.subList(Math.min(logBefore, lines.size()), lines.size()).stream().anyMatch(l -> l.contains("stops deciding"));
        });
        Map<String, Long> pidsThawed = qemuPids();
        Thread.sleep(3000);
        assertEquals(List.of(third), cluster.leaders(), "one leader, the newest");
        assertFalse(cluster.controllerHealth(second).path("leader").asBoolean());
        assertEquals(pidsThawed, qemuPids(), "nothing was started or stopped after the old leader resumed");
        pidsBefore.forEach((vm, pid) -> {
            if (!moved2.contains(vm)) assertEquals(pid, qemuPids().get(vm), vm + " was restarted though its host lived");
        });
        for (String host : cluster.hosts()) {
            if (host.equals(victim) || host.equals(victim2)) continue;
            assertTrue(cluster.agentLeaderEpoch(host) >= thirdEpoch,
                    host + " knows the newest epoch, so it would refuse the old leader: " + cluster.agentLeaderEpoch(host));
        }
        // Any command of a replaced leader that reached an agent was refused, not executed (io.vigil.agent.leader).
        List<String> refusals = new ArrayList<>();
        for (String host : cluster.hosts()) {
            cluster.logLines("agent-" + host).stream().filter(l -> l.contains(REFUSAL)).forEach(l -> refusals.add(host + ": " + l));
        }
        System.out.printf("commands refused by agents as from a replaced leader: %d%s%n", refusals.size(),
                refusals.isEmpty() ? "" : "\n  " + String.join("\n  ", refusals));
        assertEquals(List.of(), watch.violations(), "a VM ran on two hosts at once");
        assertTrue(watch.samples() > 100, "the double-run watch sampled the whole run");
        JsonNode vms = cluster.rest().get("/vms").body();
        for (JsonNode vm : vms) assertEquals("running", vm.path("state").asText(), "every VM runs: " + vm);
    }
}
