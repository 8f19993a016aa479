package io.vigil.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A host loses the controller but keeps writing its storage heartbeat: it is isolated, not failed. Nothing restarts
 * elsewhere (the default isolation response leaves its VMs running), and it reconnects as it was.
 */
class IsolationE2ETest extends ClusterTestBase {

    @Test
    void anIsolatedHostKeepsItsVmsAndNoneRestartsElsewhere() throws Exception {
        String victim = busiestHost();
        List<String> its = vmsOn(victim);
        Map<String, Long> pidsBefore = qemuPids();
        long generation = host(victim).path("generation").asLong();
        long placedBefore = eventCount("type=vm-placed");
        assertFalse(its.isEmpty());

        cluster.cutLink(victim);
        LocalCluster.awaitTrue(victim + " isolated", Duration.ofSeconds(20),
                () -> "isolated".equals(host(victim).path("state").asText()));
        // Well past the lease timeout: a controller that mistook isolation for failure would have moved VMs by now.
        Thread.sleep(LEASE_TIMEOUT_MILLIS + 4000);

        assertEquals(pidsBefore, qemuPids(), "every VM still runs in the same QEMU process");
        assertEquals(placedBefore, eventCount("type=vm-placed"), "nothing was placed while the host was isolated");
        for (String vm : its) assertEquals(victim, restHostOf(vm));

        cluster.restoreLink(victim);
        LocalCluster.awaitTrue(victim + " connected again", Duration.ofSeconds(30),
                () -> "connected".equals(host(victim).path("state").asText()));
        assertEquals(generation, host(victim).path("generation").asLong(), "an isolated host keeps its generation");
        assertEquals(pidsBefore, qemuPids());
        assertEquals(List.of(), watch.violations());
    }
}
