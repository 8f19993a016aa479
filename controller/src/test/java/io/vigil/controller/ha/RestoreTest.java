package io.vigil.controller.ha;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vigil.protocol.AgentCommand;
import io.vigil.protocol.VmPowerState;
import io.vigil.protocol.VmReport;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Rule 10: a restored state continues where the previous controller stopped. */
class RestoreTest {

    private static HostStatus host(String name, HostState state) {
        return new HostStatus(name, state, 1, 4, 1024, 0, true, true, List.of(), 1, 1);
    }

    private static VmSpec spec(String name) {
        return FakeCluster.spec(name, 128, true, Priority.HIGH, RequestedState.STARTED);
    }

    @Test
    void restoredHostsAreNotDeclaredFailedBeforeAFailureTimeoutFromTheFirstInput() {
        ClusterState restored = ClusterState.restore(ClusterPolicy.DEFAULT, List.of(spec("vm1")),
                List.of(new VmStatus("vm1", "h1", VmState.RUNNING, 3, null, 1)),
                List.of(host("h1", HostState.CONNECTED)));
        assertEquals(VmState.RUNNING, restored.vmStatuses().get("vm1").state());
        assertEquals(3, restored.vmStatuses().get("vm1").generation());
        assertEquals(spec("vm1"), restored.specs().get("vm1"));

        FakeCluster c = new FakeCluster(restored);
        c.step(new HaInput.Tick());
        assertTrue(!c.host("h1").connected(), "not connected until its agent talks to this controller");
        assertEquals(HostState.CONNECTED, c.host("h1").state());
        assertEquals(c.now.epochMillis(), c.host("h1").lastHeartbeatMillis());
        c.advance(3000);
        c.step(new HaInput.Tick());
        assertEquals(HostState.SUSPECT, c.host("h1").state(), "judged from the restore, like any silent host");
        c.advance(1);
        c.step(new HaInput.Tick());
        assertEquals(HostState.FAILED, c.host("h1").state());
        c.assertVm("vm1", VmState.RECOVERY, "h1");
    }

    @Test
    void restoredHostsThatHeartbeatCarryOn() {
        ClusterState restored = ClusterState.restore(ClusterPolicy.DEFAULT, List.of(spec("vm1")),
                List.of(new VmStatus("vm1", "h1", VmState.RUNNING, 3, null, 1)),
                List.of(host("h1", HostState.CONNECTED)));
        FakeCluster c = new FakeCluster(restored);
        FakeCluster.Agent h1 = new FakeCluster.Agent("h1");
        h1.domains.put("vm1", new VmReport("vm1", "u", VmPowerState.RUNNING, 128, 1, 3));
        c.agents.put("h1", h1);
        c.step(new HaInput.AgentConnected("h1", 1, h1.inventory(), true));
        c.run(5000);
        assertEquals(HostState.CONNECTED, c.host("h1").state());
        c.assertVm("vm1", VmState.RUNNING, "h1");
        assertTrue(c.sent(AgentCommand.StartVm.class).isEmpty(), "nothing is restarted");
    }

    @Test
    void aStartWhoseResultWasLostIsResentIfNoResultComes() {
        ClusterState restored = ClusterState.restore(ClusterPolicy.DEFAULT, List.of(spec("vm1")),
                List.of(new VmStatus("vm1", "h1", VmState.STARTING, 3, null, 1)),
                List.of(host("h1", HostState.CONNECTED)));
        FakeCluster c = new FakeCluster(restored);
        FakeCluster.Agent h1 = new FakeCluster.Agent("h1");
        c.agents.put("h1", h1);
        c.step(new HaInput.AgentConnected("h1", 1, h1.inventory(), true));
        c.run(60_000);
        c.assertVm("vm1", VmState.STARTING, "h1");
        assertTrue(c.sent(AgentCommand.StartVm.class).isEmpty());
        c.run(500);
        HaCommand.SendToAgent resent = c.sent(AgentCommand.StartVm.class).get(0);
        assertEquals("h1", resent.host());
        assertEquals(4, ((AgentCommand.StartVm) resent.command()).generation());
        assertTrue(resent.command().id().startsWith("c-r"), "ids after a restore never repeat earlier ones");
        assertEquals("vm-command-resent", c.lastEvent("vm-command-resent").type());
        c.assertVm("vm1", VmState.RUNNING, "h1");
        assertEquals(4, c.vm("vm1").generation());
    }

    @Test
    void aStartingVmReportedRunningAfterTheRestoreNeedsNoResend() {
        ClusterState restored = ClusterState.restore(ClusterPolicy.DEFAULT, List.of(spec("vm1")),
                List.of(new VmStatus("vm1", "h1", VmState.STARTING, 3, null, 1)),
                List.of(host("h1", HostState.CONNECTED)));
        FakeCluster c = new FakeCluster(restored);
        FakeCluster.Agent h1 = new FakeCluster.Agent("h1");
        h1.domains.put("vm1", new VmReport("vm1", "u", VmPowerState.RUNNING, 128, 1, 4));
        c.agents.put("h1", h1);
        c.step(new HaInput.AgentConnected("h1", 1, h1.inventory(), true));
        c.assertVm("vm1", VmState.RUNNING, "h1");
        assertEquals(4, c.vm("vm1").generation());
        c.run(70_000);
        assertTrue(c.sent(AgentCommand.StartVm.class).isEmpty());
    }

    @Test
    void vmsOfAHostFencedBeforeTheRestartArePlaced() {
        ClusterState restored = ClusterState.restore(ClusterPolicy.DEFAULT, List.of(spec("vm1")),
                List.of(new VmStatus("vm1", "h1", VmState.RECOVERY, 3, null, 1)),
                List.of(host("h1", HostState.FENCED), host("h2", HostState.CONNECTED)));
        FakeCluster c = new FakeCluster(restored);
        c.step(new HaInput.Tick());
        c.assertVm("vm1", VmState.PENDING_CAPACITY, null); // h2 has not talked to this controller yet
        FakeCluster.Agent h2 = new FakeCluster.Agent("h2");
        c.agents.put("h2", h2);
        c.step(new HaInput.AgentConnected("h2", 1, h2.inventory(), true));
        c.deliver();
        c.assertVm("vm1", VmState.RUNNING, "h2");
        assertEquals(4, c.vm("vm1").generation());
    }

    @Test
    void aVmOnAHostTheStoreDidNotKeepWaitsForThatHostToBeJudged() {
        ClusterState restored = ClusterState.restore(ClusterPolicy.DEFAULT, List.of(spec("vm1")),
                List.of(new VmStatus("vm1", "ghost", VmState.RUNNING, 3, null, 1)),
                List.of(host("h2", HostState.CONNECTED)));
        FakeCluster c = new FakeCluster(restored);
        c.step(new HaInput.Tick());
        assertEquals(HostState.CONNECTED, c.host("ghost").state());
        c.advance(3001);
        c.step(new HaInput.Tick());
        assertEquals(HostState.FAILED, c.host("ghost").state());
        c.assertVm("vm1", VmState.RECOVERY, "ghost");
    }
}
