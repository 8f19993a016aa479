package io.vigil.controller.ha;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vigil.protocol.AgentCommand;
import io.vigil.protocol.VmPowerState;
import io.vigil.protocol.VmReport;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Rule 7: hosts coming back. */
class RejoinTest {

    private static FakeCluster failedOver() {
        FakeCluster c = new FakeCluster();
        c.addHost("h1");
        c.addHost("h2");
        c.create("vm1", 128, true, Priority.HIGH); // h1
        c.create("vm2", 128, true, Priority.LOW);  // h2
        c.create("vm3", 128, true, Priority.LOW);  // h1
        c.run(1000);
        c.kill("h1");
        c.run(6000);
        assertEquals(HostState.FENCED, c.host("h1").state());
        c.assertVm("vm1", VmState.RUNNING, "h2");
        c.assertVm("vm3", VmState.RUNNING, "h2");
        return c;
    }

    @Test
    void aFencedHostRejoinsWithANewGenerationAndIsToldWhatItLost() {
        FakeCluster c = failedOver();
        c.autoRespond = false;
        c.restart("h1"); // Hello with generation 2
        assertEquals(HostState.REJOINING, c.host("h1").state());
        assertEquals(2, c.host("h1").generation());
        assertTrue(c.lastCommands.contains(new HaCommand.TellLostVms("h1", List.of("vm1", "vm3"))), c.lastCommands.toString());
        assertTrue(c.lastEvent("host-lost-vms").message().contains("[vm1, vm3]"));

        c.advance(1000);
        c.heartbeat("h1");
        assertEquals(HostState.CONNECTED, c.host("h1").state());
        assertEquals(2L, c.lastEvent("host-rejoined").details().get("generation"));
        // It takes new VMs again.
        c.autoRespond = true;
        c.create("vm4", 128, true, Priority.HIGH);
        c.assertVm("vm4", VmState.RUNNING, "h1");
    }

    @Test
    void aRejoiningHostThatStillRunsALostVmHasItDestroyed() {
        FakeCluster c = failedOver();
        c.autoRespond = false;
        FakeCluster.Agent h1 = c.agents.get("h1");
        h1.alive = true;
        h1.network = true;
        h1.generation = 2;
        h1.lastStorageWriteNanos = c.now.monotonicNanos();
        h1.domains.put("vm1", new VmReport("vm1", "u", VmPowerState.RUNNING, 128, 1, 1)); // should never happen
        c.checkDoubleRuns = false;
        c.step(new HaInput.AgentHeartbeat("h1", 2, h1.inventory(), true));
        HaCommand.SendToAgent destroy = c.lastSent(AgentCommand.DestroyVm.class).get(0);
        assertEquals("h1", destroy.host());
        assertEquals("vm1", destroy.command().vm());
        assertEquals(HostState.CONNECTED, c.host("h1").state(), "a heartbeat with a new generation rejoins at once");
        c.assertVm("vm1", VmState.RUNNING, "h2");
    }

    @Test
    void aFailedHostBackWithTheSameGenerationBeforeItsLeasesExpiredKeepsItsVms() {
        // A long lease timeout: the agent fences itself only after 5.5 s, its lease expires after 8 s.
        FakeCluster c = new FakeCluster(ClusterState.initial(
                ClusterPolicy.timing(1, 3, 8, io.vigil.protocol.IsolationResponse.NONE)));
        FakeCluster.Agent h1 = c.addHost("h1");
        c.addHost("h2");
        c.create("vm1", 128, true, Priority.HIGH); // h1
        c.run(1000);
        h1.network = false;
        h1.storage = false;
        // Long enough to be declared failed, not long enough for the lease to expire or the agent to fence itself.
        c.run(4000);
        h1.storage = true;
        assertEquals(HostState.FAILED, c.host("h1").state());
        c.assertVm("vm1", VmState.RECOVERY, "h1");
        h1.network = true;
        c.heartbeat("h1");
        assertEquals(HostState.CONNECTED, c.host("h1").state());
        c.assertVm("vm1", VmState.RUNNING, "h1");
        assertTrue(c.lastEvent("host-recovered").message().contains("its VMs stay"));
        assertEquals(1, c.sent(AgentCommand.StartVm.class).size(), "nothing moved");
        assertTrue(c.allCommands.stream().noneMatch(x -> x instanceof HaCommand.TellLostVms));
        c.run(3000);
        c.assertVm("vm1", VmState.RUNNING, "h1");
    }

    @Test
    void aFailedHostBackWithANewGenerationHasItsOldLeasesVoidAndItsVmsMove() {
        FakeCluster c = new FakeCluster();
        FakeCluster.Agent h1 = c.addHost("h1");
        c.addHost("h2");
        c.create("vm1", 128, true, Priority.HIGH); // h1
        c.run(1000);
        h1.network = false;
        c.run(3500); // its storage heartbeat is alive: isolated
        assertEquals(HostState.ISOLATED, c.host("h1").state());
        h1.storage = false;
        c.run(250);
        c.run(3000);
        assertEquals(HostState.FAILED, c.host("h1").state());
        c.restart("h1"); // restarted agent, generation 2: its HA domains were destroyed
        assertEquals(HostState.REJOINING, c.host("h1").state());
        c.assertVm("vm1", VmState.RUNNING, "h2");
        assertTrue(c.lastEvent("host-leases-expired").cause().contains("generation 2"));
    }
}
