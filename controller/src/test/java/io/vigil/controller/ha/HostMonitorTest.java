package io.vigil.controller.ha;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vigil.protocol.AgentCommand;
import io.vigil.protocol.HostInventory;
import io.vigil.protocol.VmPowerState;
import io.vigil.protocol.VmReport;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Rule 1: host states from network and storage heartbeats. */
class HostMonitorTest {

    @Test
    void connectAndHeartbeatRecordInventoryGenerationAndLastHeartbeat() {
        FakeCluster c = new FakeCluster();
        c.addHost("h1");
        assertEquals("host-connected", c.lastEvent("host-connected").type());
        c.advance(1000);
        HostInventory inventory = new HostInventory(8, 2048, 1900,
                List.of(new VmReport("outsider", "u", VmPowerState.RUNNING, 100, 1, 0)));
        c.step(new HaInput.AgentHeartbeat("h1", 3, inventory, true));
        HostStatus h = c.host("h1");
        assertEquals(HostState.CONNECTED, h.state());
        assertEquals(3, h.generation());
        assertEquals(8, h.cpus());
        assertEquals(2048, h.memoryTotalMiB());
        assertEquals(100, h.memoryUsedMiB(), "unmanaged active domains use memory");
        assertEquals(c.now.epochMillis(), h.lastHeartbeatMillis());
        assertTrue(h.connected());
    }

    @Test
    void suspectAfterMoreThanTwoMissedIntervalsAndRecoveredOnHeartbeat() {
        FakeCluster c = new FakeCluster();
        c.addHost("h1");
        c.advance(2000);
        c.step(new HaInput.Tick());
        assertEquals(HostState.CONNECTED, c.host("h1").state(), "exactly two intervals is not yet suspect");
        c.advance(1);
        c.step(new HaInput.Tick());
        assertEquals(HostState.SUSPECT, c.host("h1").state());
        ClusterEvent suspect = c.lastEvent("host-suspect");
        assertEquals("h1", suspect.host());
        assertEquals("h1-1", suspect.details().get("failover"));
        assertEquals("detected", suspect.details().get("step"));
        assertTrue(suspect.cause().contains("no network heartbeat for 2001 ms"), suspect.cause());

        c.advance(500);
        c.heartbeat("h1");
        assertEquals(HostState.CONNECTED, c.host("h1").state());
        assertTrue(c.lastEvent("host-recovered").message().contains("2501 ms"));
        assertTrue(c.state.failovers().isEmpty(), "the failover is called off");
    }

    @Test
    void aDeadHostWhoseLastStorageWriteTrailedItsLastHeartbeatIsFailedNotIsolated() {
        // Network and storage heartbeats are written on independent phases: the last storage write of a host that
        // dies can be up to an interval younger than its last network heartbeat. That is no sign of life.
        FakeCluster c = new FakeCluster();
        long generation = c.addHost("h1").generation;
        c.advance(500);
        c.storage("h1", generation, 0, false);
        c.advance(2501);
        c.storage("h1", generation, 2501, false);
        c.step(new HaInput.Tick());
        assertEquals(HostState.FAILED, c.host("h1").state());
        assertTrue(c.events("host-isolated").isEmpty(), "no misleading isolated step");
    }

    @Test
    void aHostRenewingItsStorageHeartbeatWithinTwoIntervalsIsIsolated() {
        FakeCluster c = new FakeCluster();
        long generation = c.addHost("h1").generation;
        c.advance(3001);
        c.storage("h1", generation, 1900, false);
        c.step(new HaInput.Tick());
        assertEquals(HostState.ISOLATED, c.host("h1").state());
    }

    @Test
    void silentNetworkWithLiveStorageIsIsolatedAndItsVmsStay() {
        FakeCluster c = new FakeCluster();
        c.addHost("h1");
        c.addHost("h2");
        c.create("vm1", 256, true, Priority.HIGH);
        c.create("vm2", 256, true, Priority.HIGH);
        c.run(2000);
        String host = c.vm("vm1").host();
        c.agents.get(host).network = false; // storage heartbeat continues
        int starts = c.sent(AgentCommand.StartVm.class).size();
        c.run(20_000);
        assertEquals(HostState.ISOLATED, c.host(host).state());
        assertTrue(c.lastEvent("host-isolated").cause().contains("storage heartbeat changed"));
        c.assertVm("vm1", VmState.RUNNING, host);
        assertEquals(starts, c.sent(AgentCommand.StartVm.class).size(), "nothing restarts for an isolated host");
        assertTrue(c.events("host-failed").isEmpty());

        // Its storage goes stale as well: now it is failed, and once its lease expires its VMs move.
        c.agents.get(host).storage = false;
        c.run(6000);
        assertTrue(c.lastEvent("host-failed").cause().contains("it was isolated"), c.lastEvent("host-failed").cause());
        assertEquals(HostState.FENCED, c.host(host).state());
        assertEquals(VmState.RUNNING, c.vm("vm1").state());
        assertFalse(host.equals(c.vm("vm1").host()));
    }

    @Test
    void silentNetworkAndStorageIsFailedAfterTheFailureTimeout() {
        FakeCluster c = new FakeCluster();
        c.addHost("h1");
        c.advance(2500);
        c.step(new HaInput.Tick());
        assertEquals(HostState.SUSPECT, c.host("h1").state());
        c.advance(500);
        c.storage("h1", 1, 3000, false);
        assertEquals(HostState.SUSPECT, c.host("h1").state(), "not before the failure timeout");
        c.advance(1);
        c.storage("h1", 1, 3001, false);
        assertEquals(HostState.FAILED, c.host("h1").state());
        ClusterEvent failed = c.lastEvent("host-failed");
        assertTrue(failed.message().contains("declared failed"), failed.message());
        assertEquals("declaredFailed", failed.details().get("step"));
        assertEquals(3001L - 2500L, failed.details().get("elapsedMillis"), "timed from detection");
    }

    @Test
    void aHostWithoutAnyStorageReadingIsFailedNotIsolated() {
        FakeCluster c = new FakeCluster();
        c.addHost("h1");
        c.advance(3001);
        c.step(new HaInput.Tick());
        assertEquals(HostState.FAILED, c.host("h1").state());
        assertEquals(List.of("host-connected", "host-suspect", "host-failed"), c.eventTypes());
    }

    @Test
    void disconnectAloneDecidesNothing() {
        FakeCluster c = new FakeCluster();
        c.addHost("h1");
        c.step(new HaInput.AgentDisconnected("h1"));
        assertFalse(c.host("h1").connected());
        assertEquals(HostState.CONNECTED, c.host("h1").state());
        assertEquals("host-disconnected", c.lastEvent("host-disconnected").type());
    }

    @Test
    void aHeartbeatFromAnOlderGenerationIsIgnored() {
        FakeCluster c = new FakeCluster();
        c.step(new HaInput.AgentConnected("h1", 5, new HostInventory(4, 1024, 1024, List.of()), true));
        c.advance(2500);
        c.step(new HaInput.AgentHeartbeat("h1", 4, new HostInventory(4, 1024, 1024, List.of()), true));
        assertEquals(5, c.host("h1").generation());
        assertEquals(HostState.SUSPECT, c.host("h1").state(), "the stale heartbeat does not count as one");
    }
}
