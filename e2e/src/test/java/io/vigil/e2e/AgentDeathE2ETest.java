package io.vigil.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * An agent dies and does not come back. QEMU outlives it, so without more its HA VMs would run on, unrenewed, while
 * the other hosts restart them after the lease timeout. The host's fence watchdog kills them at the agent's fence
 * deadline, before any other host may take their leases; then they run elsewhere, never twice.
 */
class AgentDeathE2ETest extends ClusterTestBase {

    @Test
    void theFenceWatchdogKillsTheHaVmsOfADeadAgentBeforeTheirLeasesCanBeTaken() throws Exception {
        String host = busiestHost();
        List<String> its = vmsOn(host);
        Map<String, Long> pids = qemuPids();
        assertFalse(its.isEmpty());
        assertEquals(1, LocalCluster.fenceWatchdogs(cluster.stateDir(host).toString()).size(), "one watchdog per host");

        long killedAt = System.nanoTime();
        cluster.killAgent(host);
        LocalCluster.awaitTrue("QEMU of " + its + " gone from " + host, Duration.ofMillis(LEASE_TIMEOUT_MILLIS + 5000),
                () -> its.stream().noneMatch(vm -> cluster.census().hostsByVm().getOrDefault(vm, List.of()).contains(host)));
        long goneAfterMillis = (System.nanoTime() - killedAt) / 1_000_000;
        assertTrue(goneAfterMillis < LEASE_TIMEOUT_MILLIS, "the HA VMs of the dead agent were gone only "
                + goneAfterMillis + " ms after the kill; other hosts may take their leases after " + LEASE_TIMEOUT_MILLIS + " ms");
        LoggerFactory.getLogger(AgentDeathE2ETest.class).info("{}'s HA VMs {} gone {} ms after its agent was killed",
                host, its, goneAfterMillis);
        String watchdogLog = Files.readString(cluster.stateDir(host).resolve("fence-watchdog.log"));
        for (String vm : its) {
            assertTrue(watchdogLog.contains("FENCE WATCHDOG: killed QEMU of " + vm + " (pid " + pids.get(vm) + ")"),
                    "the watchdog killed " + vm + ":\n" + watchdogLog);
        }

        awaitRunningElsewhere(its, host, Duration.ofSeconds(90));
        assertEquals(List.of(), watch.violations());
    }
}
