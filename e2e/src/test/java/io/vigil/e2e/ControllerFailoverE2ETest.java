package io.vigil.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Three controllers, one leader. A leader stopped cleanly hands over at once. (a) The next leader is SIGKILLed: the
 * last one takes the lease within 10 s, and a host killed then fails over under it; the killed controller comes back
 * as a follower. (b) That leader is frozen (SIGSTOP) for longer than its lease while another host dies: the host fails
 * over under a newer leader; once thawed, the old leader says it is not the leader and that it stops deciding, and no
 * agent starts a command of an earlier leadership. No VM ever runs on two hosts.
 */
class ControllerFailoverE2ETest extends ClusterTestBase {
    /** What an agent logs when it refuses a command of a replaced leader (io.vigil.agent.leader.LeaderEpochs). */
    static final String REFUSAL = "refused: command from leader epoch ";
    /**
     * What an agent logs when it starts to execute a command ("command ID done: ..." is its end). A command id is the
     * prefix of the leadership that sent it (the HA core's, new at every restore: "c-r<millis>-") and a number.
     */
    static final Pattern COMMAND_STARTED = Pattern.compile("VmCommands - command (\\S+-)\\d+: ");
    /** The leader lease's timeout (Controller.LEADER_LEASE_TIMEOUT_MILLIS). */
    static final long LEADER_LEASE_TIMEOUT_MILLIS = 5000;

    @Override
    int controllerCount() {
        return 3;
    }

    @Override
    int vmCount() {
        return 3;
    }

    @Override
    long vmMemoryMiB(int i) {
        return 64;
    }

    /** Waits until exactly one controller leads, and it is not {@code old}; returns it. */
    private String awaitLeaderOtherThan(String old) {
        String[] found = new String[1];
        LocalCluster.awaitTrue("a leader other than " + old, Duration.ofSeconds(20), () -> {
            List<String> l = controllers.leaders();
            if (l.size() != 1 || l.get(0).equals(old)) return false;
            found[0] = l.get(0);
            return true;
        });
        return found[0];
    }

    @Test
    void aKilledOrFrozenLeaderIsReplacedAndHostsStillFailOver() throws Exception {
        String initial = controllers.awaitLeader(Duration.ofSeconds(30));
        long initialEpoch = controllers.leaderEpoch();
        assertEquals(initial, controllers.leaderOfEpoch(initialEpoch), "the leader holds the highest epoch on storage");

        // A clean stop releases the lease: another controller leads well within the lease timeout.
        long stoppingAt = System.nanoTime();
        controllers.terminate(initial);
        String first = awaitLeaderOtherThan(initial);
        long handoverMillis = (System.nanoTime() - stoppingAt) / 1_000_000;
        controllers.awaitStopped(initial);
        System.out.printf("clean stop: %s stopped, %s leads %d ms after the stop began%n", initial, first, handoverMillis);
        assertTrue(handoverMillis < LEADER_LEASE_TIMEOUT_MILLIS, "a released lease is taken at once, not after its timeout: "
                + handoverMillis + " ms");
        long firstEpoch = controllers.leaderEpoch();
        assertTrue(firstEpoch > initialEpoch);

        // (a) SIGKILL the leader: the last controller leads within 10 s.
        long killedAt = controllers.kill(first);
        String second = controllers.awaitLeader(Duration.ofSeconds(20));
        long takeoverMillis = (System.nanoTime() - killedAt) / 1_000_000;
        System.out.printf("controller failover: %s killed, %s leads %d ms later%n", first, second, takeoverMillis);
        assertNotEquals(first, second);
        assertTrue(takeoverMillis <= 10_000, "a new leader within 10 s of the kill, not " + takeoverMillis + " ms");
        assertTrue(controllers.leaderEpoch() > firstEpoch, "the new leader claimed a newer epoch");
        assertEquals(second, controllers.leaderOfEpoch(controllers.leaderEpoch()));

        // A host dies under the new leader, while the killed controller starts again (the stopped one stays down).
        String victim = busiestHost();
        List<String> moved = vmsOn(victim);
        cluster.killHost(victim);
        controllers.launch(first);
        awaitRunningElsewhere(moved, victim, Duration.ofSeconds(60));
        controllers.await(first);
        assertFalse(controllers.health(first).path("leader").asBoolean(), "a restarted controller does not take over");
        assertEquals(List.of(second), controllers.leaders());

        // (b) SIGSTOP the leader for longer than its lease; a host dies meanwhile.
        long secondEpoch = controllers.leaderEpoch();
        Map<String, Long> pidsBefore = qemuPids();
        // The leaderships whose commands agents started before the freeze, the one about to freeze among them.
        Set<String> earlierLeaderships = new HashSet<>();
        for (String host : cluster.hosts()) {
            for (String line : cluster.logLines("agent-" + host)) {
                var m = COMMAND_STARTED.matcher(line);
                if (m.find()) earlierLeaderships.add(m.group(1));
            }
        }
        long frozenAt = controllers.freeze(second);
        Thread.sleep(1000);
        String victim2 = busiestHost();
        List<String> moved2 = vmsOn(victim2);
        cluster.killHost(victim2);
        String third = controllers.awaitLeader(Duration.ofSeconds(20));
        long frozenTakeoverMillis = (System.nanoTime() - frozenAt) / 1_000_000;
        assertNotEquals(second, third);
        awaitRunningElsewhere(moved2, victim2, Duration.ofSeconds(60));
        long thirdEpoch = controllers.leaderEpoch();
        assertTrue(thirdEpoch > secondEpoch, "the new leader claimed a newer epoch");
        assertEquals(third, controllers.leaderOfEpoch(thirdEpoch));
        long frozenFor = (System.nanoTime() - frozenAt) / 1_000_000;
        if (frozenFor < LEADER_LEASE_TIMEOUT_MILLIS + 3000) Thread.sleep(LEADER_LEASE_TIMEOUT_MILLIS + 3000 - frozenFor);
        int logBefore = cluster.logLines(LocalControllers.logName(second)).size();
        Map<String, Integer> agentLogBefore = new HashMap<>();
        for (String host : cluster.hosts()) agentLogBefore.put(host, cluster.logLines("agent-" + host).size());
        controllers.thaw(second);
        System.out.printf("%s frozen for %d ms; %s led %d ms after the freeze%n", second,
                (System.nanoTime() - frozenAt) / 1_000_000, third, frozenTakeoverMillis);

        // The thawed controller knows it is not the leader, says it stops deciding, and nothing it does changes a VM.
        LocalCluster.awaitTrue(second + " answering health again", Duration.ofSeconds(10), () -> controllers.health(second) != null);
        assertFalse(controllers.health(second).path("leader").asBoolean(), "the thawed controller is not the leader");
        LocalCluster.awaitTrue(second + " logging that it stops deciding", Duration.ofSeconds(10), () -> {
            List<String> lines = cluster.logLines(LocalControllers.logName(second));
            return lines.subList(Math.min(logBefore, lines.size()), lines.size()).stream().anyMatch(l -> l.contains("stops deciding"));
        });
        Map<String, Long> pidsThawed = qemuPids();
        Thread.sleep(3000);
        assertEquals(List.of(third), controllers.leaders(), "one leader, the newest");
        assertFalse(controllers.health(second).path("leader").asBoolean());
        assertEquals(pidsThawed, qemuPids(), "nothing was started or stopped after the old leader resumed");
        pidsBefore.forEach((vm, pid) -> {
            if (!moved2.contains(vm)) assertEquals(pid, qemuPids().get(vm), vm + " was restarted though its host lived");
        });
        for (String host : cluster.hosts()) {
            if (host.equals(victim) || host.equals(victim2)) continue;
            assertTrue(cluster.agentLeaderEpoch(host) >= thirdEpoch,
                    host + " knows the newest epoch, so it would refuse the old leader: " + cluster.agentLeaderEpoch(host));
        }
        // No agent started a command of an earlier leadership (the old leader's) after the thaw. (Commands of the new
        // leader may follow: see ThawedControllerE2ETest for what a thawed controller's stale view makes it do.)
        for (String host : cluster.hosts()) {
            List<String> lines = cluster.logLines("agent-" + host);
            List<String> stale = lines.subList(Math.min(agentLogBefore.get(host), lines.size()), lines.size()).stream()
                    .filter(l -> {
                        var m = COMMAND_STARTED.matcher(l);
                        return m.find() && earlierLeaderships.contains(m.group(1));
                    }).toList();
            assertEquals(List.of(), stale, host + " started commands of an earlier leader after the old leader resumed");
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
        LocalCluster.awaitTrue("every VM running", Duration.ofSeconds(30), () -> {
            JsonNode vms = cluster.rest().get("/vms").body();
            for (JsonNode vm : vms) if (!"running".equals(vm.path("state").asText())) return false;
            return vms.size() == vmCount();
        });
    }
}
