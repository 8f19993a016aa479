package io.vigil.agent.lease;

import io.vigil.protocol.storage.LeaseTiming;

import static io.vigil.agent.lease.LeaseTestHosts.T;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vigil.protocol.storage.RecordFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VmLeasesTest {
    @TempDir Path dir;
    LeaseTestHosts hosts;
    LeaseTestHosts.Host h1;
    LeaseTestHosts.Host h2;

    @BeforeEach
    void twoHosts() throws Exception {
        hosts = new LeaseTestHosts(dir);
        h1 = hosts.host("h1");
        h2 = hosts.host("h2");
        h1.liveness.pollAll();
        h2.liveness.pollAll();
    }

    private Path leaseFile(String vm, long gen) {
        return hosts.storage.vmLeaseDir(vm).resolve("gen-" + gen);
    }

    @Test
    void firstAcquisitionCreatesTheLeaseExclusively() throws Exception {
        var a = h1.vms.acquire("vm1", 1);
        assertEquals(new VmLeases.Acquisition.Acquired(1), a);
        VmLease lease = RecordFiles.read(leaseFile("vm1", 1), VmLease.class).orElseThrow();
        assertEquals(new VmLease("vm1", "h1", 1, 1), lease);
        assertEquals(1, h1.vms.held("vm1").getAsLong());
        assertEquals(0, h1.sleeps, "a free lease is taken without waiting");
    }

    @Test
    void refusedWhileTheHolderKeepsRenewing() throws Exception {
        h1.vms.acquire("vm1", 1);
        h2.duringWait = h1::renew; // h1 is alive: it renews while h2 waits
        long start = hosts.nowMillis();
        var a = h2.vms.acquire("vm1", 2);
        assertEquals(new VmLeases.Acquisition.Refused("lease of vm1 held by h1"), a);
        assertTrue(hosts.nowMillis() - start >= T + 2000, "waited the lease timeout + 2 s before refusing");
        assertFalse(Files.exists(leaseFile("vm1", 2)));
        assertTrue(h2.vms.held("vm1").isEmpty());
    }

    @Test
    void takenOverOnlyAfterTheHolderStoppedRenewingForTheLeaseTimeout() throws Exception {
        h1.vms.acquire("vm1", 1);
        // h1 dies now: its heartbeat stays as h2 last saw it.
        long lastChangeSeenByH2 = hosts.nowMillis();
        long[] acquiredAt = new long[1];
        var a = h2.vms.acquire("vm1", 2);
        acquiredAt[0] = hosts.nowMillis();
        assertEquals(new VmLeases.Acquisition.Acquired(2), a);
        long waited = acquiredAt[0] - lastChangeSeenByH2;
        assertTrue(waited >= T, "took over after " + waited + " ms, before the lease timeout " + T);
        assertTrue(waited < T + 500, "took over " + waited + " ms after, much later than the timeout");
        assertEquals(new VmLease("vm1", "h2", 1, 2), RecordFiles.read(leaseFile("vm1", 2), VmLease.class).orElseThrow());
    }

    @Test
    void aRenewalDuringTheWaitRestartsTheTimeout() throws Exception {
        h1.vms.acquire("vm1", 1);
        int[] n = {0};
        h2.duringWait = () -> {
            if (++n[0] == 8) h1.renew(); // one late renewal at 2 s: the expiry clock restarts
        };
        long start = hosts.nowMillis();
        var a = h2.vms.acquire("vm1", 2);
        assertInstanceOf(VmLeases.Acquisition.Acquired.class, a, "h1 stopped renewing after that, so h2 gets it eventually");
        assertTrue(hosts.nowMillis() - start >= 2000 + T, "the timeout counts from the last change seen");
    }

    @Test
    void releasedLeaseIsFreeAtOnce() throws Exception {
        h1.vms.acquire("vm1", 1);
        h1.vms.release("vm1");
        assertTrue(Files.exists(hosts.storage.vmLeaseDir("vm1").resolve("gen-1.released")));
        assertTrue(h1.vms.held("vm1").isEmpty());
        assertEquals(new VmLeases.Acquisition.Acquired(2), h2.vms.acquire("vm1", 2));
        assertEquals(0, h2.sleeps);
    }

    @Test
    void releaseOfALeaseTakenOverElsewhereWritesNothing() throws Exception {
        h1.vms.acquire("vm1", 1);
        h1.vms.release("vm1");
        h2.vms.acquire("vm1", 2);
        h1.vms.forget("vm1");
        h1.vms.release("vm1"); // not held any more: no-op
        assertFalse(Files.exists(hosts.storage.vmLeaseDir("vm1").resolve("gen-2.released")));
    }

    @Test
    void ownerRejoinedWithANewGenerationFreesItsOldLeases() throws Exception {
        h1.vms.acquire("vm1", 1);
        // h1 self-fences (no renewal for longer than F) and rejoins at host generation 2
        hosts.advanceMillis(LeaseTiming.fenceDeadlineMillis(T) / 2);
        h2.renew();
        hosts.advanceMillis(LeaseTiming.fenceDeadlineMillis(T) / 2 + 1);
        assertTrue(h1.lease.checkDeadline());
        h1.renew();
        assertEquals(2, h1.lease.generation());
        var a = h2.vms.acquire("vm1", 2);
        assertEquals(new VmLeases.Acquisition.Acquired(2), a);
        assertEquals(0, h2.sleeps, "h1's newer generation proves its old leases void, no wait");
    }

    @Test
    void reacquiringOwnLeaseIsIdempotentAndABumpCreatesTheNextGeneration() throws Exception {
        assertEquals(new VmLeases.Acquisition.Acquired(1), h1.vms.acquire("vm1", 1));
        assertEquals(new VmLeases.Acquisition.Acquired(1), h1.vms.acquire("vm1", 1));
        assertEquals(new VmLeases.Acquisition.Acquired(1), h1.vms.acquire("vm1", 0));
        assertFalse(Files.exists(leaseFile("vm1", 2)));
        assertEquals(new VmLeases.Acquisition.Acquired(3), h1.vms.acquire("vm1", 3));
        assertEquals(3, h1.vms.current("vm1").orElseThrow().generation());
    }

    @Test
    void aGenerationBehindStorageTakesTheNextFreeOne() throws Exception {
        h1.vms.acquire("vm1", 5);
        h1.vms.release("vm1");
        assertEquals(new VmLeases.Acquisition.Acquired(6), h2.vms.acquire("vm1", 5));
    }

    @Test
    void aLeaseBeingCreatedByAnotherHostIsNotTaken() throws Exception {
        // another host's O_EXCL create of gen-2 has happened, its content not yet written: a blank file
        Files.createDirectories(hosts.storage.vmLeaseDir("vm1"));
        Files.writeString(leaseFile("vm1", 2), "");
        h1.duringWait = () -> {};
        var a = h1.vms.acquire("vm1", 2);
        assertInstanceOf(VmLeases.Acquisition.Refused.class, a);
    }

    @Test
    void onlyTheNewestGenerationsAreKept() throws Exception {
        for (int g = 1; g <= 6; g++) {
            h1.vms.acquire("vm1", g);
            h1.vms.release("vm1");
        }
        try (var files = Files.list(hosts.storage.vmLeaseDir("vm1"))) {
            var names = files.map(p -> p.getFileName().toString()).sorted().toList();
            assertEquals(java.util.List.of("gen-4", "gen-4.released", "gen-5", "gen-5.released", "gen-6", "gen-6.released"), names);
        }
    }

    @Test
    void restartedAgentReattachesToLeasesOfItsGeneration() throws Exception {
        h1.vms.acquire("vm1", 1);
        h1.vms.acquire("vm2", 1);
        h1.vms.release("vm2");
        h2.vms.acquire("vm3", 1);
        VmLeases again = new VmLeases(hosts.storage, h1.lease, h1.liveness, hosts.clock::get, ms -> {});
        assertEquals(Map.of("vm1", 1L), again.reattach());
    }

    @Test
    void aFencedHostTakesNoLease() throws Exception {
        hosts.advanceMillis(LeaseTiming.fenceDeadlineMillis(T) + 1);
        var a = h1.vms.acquire("vm1", 1);
        assertInstanceOf(VmLeases.Acquisition.Refused.class, a);
        assertFalse(Files.exists(leaseFile("vm1", 1)));
    }
}
