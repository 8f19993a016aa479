package io.vigil.controller.ha;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vigil.protocol.AgentCommand;
import org.junit.jupiter.api.Test;

/** Rule 2: a failed host is fenced when its leases expire; a connected host that lost its storage has fenced itself. */
class FencingTest {

    @Test
    void failedHostIsFencedOnlyWhenItsLeaseExpired() {
        FakeCluster c = new FakeCluster();
        c.addHost("h1");
        c.addHost("h2");
        c.create("vm1", 256, true, Priority.MEDIUM); // fewest HA VMs, equal memory: h1
        c.assertVm("vm1", VmState.RUNNING, "h1");
        c.agents.get("h1").network = false;
        c.advance(3001);
        c.heartbeat("h2");
        c.storage("h1", 1, 3001, false);
        c.storage("h2", 1, 0, false);
        assertEquals(HostState.FAILED, c.host("h1").state());
        c.assertVm("vm1", VmState.RECOVERY, "h1");
        assertTrue(c.lastSent(AgentCommand.StartVm.class).isEmpty());

        c.advance(900);
        c.storage("h1", 1, 3901, false);
        assertEquals(HostState.FAILED, c.host("h1").state(), "a lease not yet expired may still be held");
        c.assertVm("vm1", VmState.RECOVERY, "h1");

        c.advance(100);
        c.agents.get("h1").domains.clear(); // it fenced itself before its lease ran out
        c.heartbeat("h2");
        c.storage("h1", 1, 4001, true);
        assertEquals(HostState.FENCED, c.host("h1").state());
        ClusterEvent fenced = c.lastEvent("host-leases-expired");
        assertEquals("leasesExpired", fenced.details().get("step"));
        c.assertVm("vm1", VmState.RUNNING, "h2");
    }

    @Test
    void aStorageViewOfAnOlderGenerationDoesNotFence() {
        FakeCluster c = new FakeCluster();
        c.addHost("h1");
        c.advance(3001);
        c.step(new HaInput.Tick());
        assertEquals(HostState.FAILED, c.host("h1").state());
        c.storage("h1", 0, 60_000, true);
        assertEquals(HostState.FAILED, c.host("h1").state());
    }

    @Test
    void connectedHostThatLostItsStorageIsFencedAndItsHaVmsMove() {
        FakeCluster c = new FakeCluster();
        c.addHost("h1");
        c.addHost("h2");
        c.create("ha1", 256, true, Priority.HIGH); // h1
        c.create("ha2", 256, true, Priority.HIGH); // h2
        c.create("plain", 128, false, Priority.LOW); // h1 (h1 has 1 HA, h2 has 1 HA; more free: h1? both 768 -> name)
        c.assertVm("plain", VmState.RUNNING, "h1");
        c.run(1000);
        c.agents.get("h1").storage = false;
        c.run(4000);
        assertEquals(HostState.FENCED, c.host("h1").state());
        assertTrue(c.host("h1").connected(), "its agent still talks to us");
        assertFalse(c.host("h1").storageOk());
        ClusterEvent lost = c.lastEvent("host-storage-lost");
        assertTrue(lost.cause().contains("cannot renew its storage lease"), lost.cause());
        c.assertVm("ha1", VmState.RUNNING, "h2");
        // Non-HA VMs are not restarted; the event says why.
        c.assertVm("plain", VmState.STOPPED, "h1");
        ClusterEvent stopped = c.events("vm-stopped").stream().filter(e -> e.vm().equals("plain")).findFirst()
                .orElseThrow();
        assertTrue(stopped.cause().contains("HA is off"), stopped.cause());
        assertTrue(c.events("failover-completed").size() == 1);
    }

    @Test
    void anExpiredLeaseSeenOnStorageFencesAConnectedHostOnlyWhenOurStorageViewWorks() {
        FakeCluster c = new FakeCluster();
        c.addHost("h1");
        c.addHost("h2");
        c.advance(500);
        c.step(new HaInput.StorageObserved(java.util.Map.of(
                "h1", new HaInput.StorageView(1, 4500, true),
                "h2", new HaInput.StorageView(1, 4500, true))));
        assertEquals(HostState.CONNECTED, c.host("h1").state(), "every heartbeat stale: our own storage is at fault");
        c.step(new HaInput.StorageObserved(java.util.Map.of(
                "h1", new HaInput.StorageView(1, 4500, true),
                "h2", new HaInput.StorageView(1, 200, false))));
        assertEquals(HostState.FENCED, c.host("h1").state());
        assertEquals(HostState.CONNECTED, c.host("h2").state());
        assertEquals("host-storage-lost", c.lastEvent("host-storage-lost").type());
    }
}
