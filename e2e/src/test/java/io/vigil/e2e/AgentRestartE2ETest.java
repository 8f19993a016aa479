package io.vigil.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** An agent crashes and comes back: QEMU outlived it, so it re-attaches; no VM is restarted or moved. */
class AgentRestartE2ETest extends ClusterTestBase {

    @Test
    void aRestartedAgentReattachesAndRestartsNothing() throws Exception {
        String host = busiestHost();
        List<String> its = vmsOn(host);
        Map<String, Long> pidsBefore = qemuPids();
        long generation = host(host).path("generation").asLong();
        long placedBefore = eventCount("type=vm-placed");
        assertFalse(its.isEmpty());

        cluster.killAgent(host);
        cluster.startAgent(host);
        LocalCluster.awaitTrue(host + " connected again", Duration.ofSeconds(30),
                () -> "connected".equals(host(host).path("state").asText())
                        && host(host).path("vms").size() == its.size());
        Thread.sleep(LEASE_TIMEOUT_MILLIS + 2000);

        assertEquals(pidsBefore, qemuPids(), "every VM still runs in its original QEMU process");
        assertEquals(generation, host(host).path("generation").asLong(), "a quick restart keeps the host's generation");
        assertEquals(placedBefore, eventCount("type=vm-placed"), "nothing was placed");
        for (String vm : its) {
            assertEquals(host, restHostOf(vm));
            assertEquals("running", restState(vm));
        }
        assertEquals(List.of(), watch.violations());
    }
}
