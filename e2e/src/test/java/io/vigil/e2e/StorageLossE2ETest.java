package io.vigil.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A host loses shared storage while its network is fine: it cannot renew its leases, so it must destroy its HA VMs
 * before its lease timeout can pass anywhere else; then they restart on other hosts, and the host rejoins with a
 * new generation when storage returns.
 */
class StorageLossE2ETest extends ClusterTestBase {

    @Test
    void aHostWithoutStorageFencesItselfBeforeTheLeaseTimeoutAndItsVmsMove() throws Exception {
        String victim = busiestHost();
        List<String> its = vmsOn(victim);
        long generation = host(victim).path("generation").asLong();
        assertFalse(its.isEmpty());

        long cutAt = System.nanoTime();
        cluster.cutStorage(victim);
        LocalCluster.awaitTrue("no QEMU left on " + victim, Duration.ofSeconds(30), () -> vmsOn(victim).isEmpty());
        long fencedAfterMillis = (System.nanoTime() - cutAt) / 1_000_000;
        // The last renewal happened before the cut, so fencing within the lease timeout of the cut is the promise.
        assertTrue(fencedAfterMillis < LEASE_TIMEOUT_MILLIS,
                "fenced " + fencedAfterMillis + " ms after losing storage; the lease timeout is " + LEASE_TIMEOUT_MILLIS);

        awaitRunningElsewhere(its, victim, Duration.ofSeconds(60));
        assertEquals(List.of(), watch.violations(), "a VM ran on two hosts at once");

        cluster.restoreStorage(victim);
        LocalCluster.awaitTrue(victim + " rejoined with a new generation", Duration.ofSeconds(40),
                () -> "connected".equals(host(victim).path("state").asText())
                        && host(victim).path("generation").asLong() > generation);
        Thread.sleep(3000);
        for (String vm : its) assertFalse(vmsOn(victim).contains(vm), vm + " came back on the host that lost it");
        assertEquals(List.of(), watch.violations());
    }
}
