package io.vigil.controller.ha;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vigil.protocol.AgentCommand;
import io.vigil.protocol.VmPowerState;
import io.vigil.protocol.VmReport;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Rule 6: heartbeats are observed truth. */
class ReconcilerTest {

    @Test
    void aStartingVmReportedRunningIsRunning() {
        FakeCluster c = new FakeCluster();
        c.autoRespond = false;
        FakeCluster.Agent h1 = c.addHost("h1");
        c.create("vm1", 128, true, Priority.HIGH);
        c.assertVm("vm1", VmState.STARTING, "h1");
        h1.domains.put("vm1", new VmReport("vm1", "u", VmPowerState.RUNNING, 128, 1, 1));
        c.advance(1000);
        c.heartbeat("h1");
        c.assertVm("vm1", VmState.RUNNING, "h1");
        assertTrue(c.lastEvent("vm-started").cause().contains("heartbeat"));
        assertTrue(c.state.pendingCommandIds().isEmpty(), "the start no longer waits for its result");
    }

    @Test
    void aRunningVmSyncsItsGenerationFromTheHeartbeat() {
        FakeCluster c = new FakeCluster();
        FakeCluster.Agent h1 = c.addHost("h1");
        c.create("vm1", 128, true, Priority.HIGH);
        h1.domains.put("vm1", new VmReport("vm1", "u", VmPowerState.RUNNING, 128, 1, 4));
        c.advance(1000);
        c.heartbeat("h1");
        assertEquals(4, c.vm("vm1").generation());
    }

    @Test
    void anHaVmThatVanishedIsRestartedThereMaxRestartsTimesThenRelocatedThenInError() {
        FakeCluster c = new FakeCluster();
        FakeCluster.Agent h1 = c.addHost("h1");
        FakeCluster.Agent h2 = c.addHost("h2");
        c.create("vm1", 128, true, Priority.HIGH); // maxRestarts 1, maxRelocations 1 (the defaults)
        c.assertVm("vm1", VmState.RUNNING, "h1");

        h1.domains.put("vm1", new VmReport("vm1", "u", VmPowerState.SHUTOFF, 128, 1, 1));
        c.advance(1000);
        c.heartbeat("h1");
        c.assertVm("vm1", VmState.RUNNING, "h1");
        assertTrue(c.lastEvent("vm-lifecycle").message().contains("reported shutoff"));
        assertEquals("h1", c.sent(AgentCommand.StartVm.class).get(1).host(), "restarted on its own host first");
        assertEquals(2, ((AgentCommand.StartVm) c.sent(AgentCommand.StartVm.class).get(1).command()).generation());

        h1.domains.remove("vm1");
        c.advance(1000);
        c.heartbeat("h1");
        c.assertVm("vm1", VmState.RUNNING, "h2");
        assertEquals("h2", c.sent(AgentCommand.StartVm.class).get(2).host(), "maxRestarts used up: relocated");

        h2.domains.remove("vm1");
        c.advance(1000);
        c.heartbeat("h2");
        c.assertVm("vm1", VmState.RUNNING, "h2");
        assertEquals("h2", c.sent(AgentCommand.StartVm.class).get(3).host(), "restarted once on its new host");

        h2.domains.remove("vm1");
        c.advance(1000);
        c.heartbeat("h2");
        c.assertVm("vm1", VmState.ERROR, null);
        assertTrue(c.vm("vm1").lastError().contains("maxRelocations 1"), c.vm("vm1").lastError());
        assertEquals(4, c.sent(AgentCommand.StartVm.class).size());
    }

    @Test
    void aNonHaVmThatStoppedByItselfIsStopped() {
        FakeCluster c = new FakeCluster();
        FakeCluster.Agent h1 = c.addHost("h1");
        c.create("vm1", 128, false, Priority.HIGH);
        h1.domains.remove("vm1");
        c.advance(1000);
        c.heartbeat("h1");
        c.assertVm("vm1", VmState.STOPPED, "h1");
        assertEquals(1, c.sent(AgentCommand.StartVm.class).size());
    }

    @Test
    void aHeartbeatBuiltBeforeTheStartWasConfirmedDoesNotRestartIt() {
        FakeCluster c = new FakeCluster();
        FakeCluster.Agent h1 = c.addHost("h1");
        c.create("vm1", 128, true, Priority.HIGH);
        c.advance(100);
        c.step(new HaInput.AgentHeartbeat("h1", 1, new io.vigil.protocol.HostInventory(4, 1024, 1024, List.of()),
                true));
        c.assertVm("vm1", VmState.RUNNING, "h1");
        assertEquals(1, c.sent(AgentCommand.StartVm.class).size());
    }

    @Test
    void aVmRunningOnAHostOtherThanItsOwnIsDestroyedThere() {
        FakeCluster c = new FakeCluster();
        c.addHost("h1");
        FakeCluster.Agent h2 = c.addHost("h2");
        c.create("vm1", 128, true, Priority.HIGH);
        c.assertVm("vm1", VmState.RUNNING, "h1");
        // h2 runs a copy (for instance an old incarnation that came back): it must not keep running it.
        h2.domains.put("vm1", new VmReport("vm1", "u", VmPowerState.RUNNING, 128, 1, 0));
        c.autoRespond = false;
        c.advance(1000);
        c.step(c.heartbeatOf(h2));
        assertTrue(c.lastCommands.contains(new HaCommand.TellLostVms("h2", List.of("vm1"))));
        HaCommand.SendToAgent destroy = c.lastSent(AgentCommand.DestroyVm.class).get(0);
        assertEquals("h2", destroy.host());
        assertEquals("vm1", destroy.command().vm());
        c.assertVm("vm1", VmState.RUNNING, "h1");
        assertEquals(List.of(), c.host("h2").vms());
        // The next heartbeat, before the destroy's result, does not send it again.
        c.advance(1000);
        c.step(c.heartbeatOf(h2));
        assertTrue(c.lastSent(AgentCommand.DestroyVm.class).isEmpty());
    }

    @Test
    void aWaitingVmFoundRunningWhereNothingElseRunsItIsAdopted() {
        FakeCluster d = new FakeCluster();
        d.create("vm1", 256, true, Priority.HIGH);
        d.assertVm("vm1", VmState.PENDING_CAPACITY, null);
        d.autoRespond = false;
        FakeCluster.Agent a = new FakeCluster.Agent("h1");
        a.domains.put("vm1", new VmReport("vm1", "u", VmPowerState.RUNNING, 256, 1, 3));
        d.agents.put("h1", a);
        d.step(new HaInput.AgentConnected("h1", 1, a.inventory(), true));
        d.assertVm("vm1", VmState.RUNNING, "h1");
        assertEquals(3, d.vm("vm1").generation());
        assertTrue(d.lastSent(AgentCommand.StartVm.class).isEmpty(), "adopted, not started a second time");
    }

    @Test
    void lifecycleEventsAreRecorded() {
        FakeCluster c = new FakeCluster();
        c.addHost("h1");
        c.create("vm1", 128, true, Priority.HIGH);
        c.step(new HaInput.VmLifecycleObserved("h1", "vm1", "suspended", VmPowerState.PAUSED));
        ClusterEvent e = c.lastEvent("vm-lifecycle");
        assertEquals("h1", e.host());
        assertTrue(e.message().contains("suspended"));
        c.step(new HaInput.VmLifecycleObserved("h1", "unmanaged", "started", VmPowerState.RUNNING));
        assertTrue(c.lastCommands.isEmpty());
    }

    @Test
    void aPausedVmIsLeftRunningWhereItIsAndItsHostsReportSaysWhy() {
        FakeCluster c = new FakeCluster();
        FakeCluster.Agent h1 = c.addHost("h1");
        c.addHost("h2");
        c.create("vm1", 128, true, Priority.HIGH);
        c.assertVm("vm1", VmState.RUNNING, "h1");
        int commands = c.allCommands.size();
        VmReport running = h1.domains.get("vm1");
        String problem = "paused on an I/O error and could not be resumed: disk socket refused";
        h1.domains.put("vm1", new VmReport("vm1", running.uuid(), VmPowerState.PAUSED, 128, 1, running.leaseGeneration(),
                0, 0, 0, "ioerror", problem));
        c.run(5000);

        c.assertVm("vm1", VmState.RUNNING, "h1");
        assertTrue(c.allCommands.subList(commands, c.allCommands.size()).stream()
                .noneMatch(x -> x instanceof HaCommand.SendToAgent), "not restarted, stopped or moved");
        assertEquals(Map.of("vm1", new HostStatus.Reported(VmPowerState.PAUSED, "ioerror", problem)),
                c.host("h1").reported());
        assertEquals(1, c.events("vm-paused").size(), "recorded once: " + c.eventTypes());
        ClusterEvent paused = c.lastEvent("vm-paused");
        assertEquals(Map.of("stateReason", "ioerror", "problem", problem), paused.details());
        assertTrue(paused.message().contains(problem), paused.message());

        h1.domains.put("vm1", running);
        c.run(2000);
        assertEquals(Map.of(), c.host("h1").reported(), "a plain running domain needs no explaining");
        assertEquals(1, c.events("vm-resumed").size(), c.eventTypes().toString());
        assertEquals(1, c.events("vm-paused").size());
    }

    @Test
    void theAgentsProblemWithAPausedVmIsRecordedWhenItComes() {
        FakeCluster c = new FakeCluster();
        FakeCluster.Agent h1 = c.addHost("h1");
        c.create("vm1", 128, true, Priority.HIGH);
        VmReport running = h1.domains.get("vm1");
        h1.domains.put("vm1", new VmReport("vm1", running.uuid(), VmPowerState.PAUSED, 128, 1, running.leaseGeneration(),
                0, 0, 0, "ioerror", null));
        c.run(2000);
        assertEquals("h1's heartbeat reports it paused (reason: ioerror)", c.lastEvent("vm-paused").cause());
        h1.domains.put("vm1", new VmReport("vm1", running.uuid(), VmPowerState.PAUSED, 128, 1, running.leaseGeneration(),
                0, 0, 0, "ioerror", "could not be resumed: disk gone"));
        c.run(3000);
        assertEquals(2, c.events("vm-paused").size(), c.eventTypes().toString());
        assertEquals("could not be resumed: disk gone", c.lastEvent("vm-paused").details().get("problem"));
    }

    @Test
    void lifecycleEventsCarryLibvirtsDetailAndTheRepeatsFoldedBeforeThem() {
        FakeCluster c = new FakeCluster();
        c.addHost("h1");
        c.create("vm1", 128, true, Priority.HIGH);
        c.step(new HaInput.VmLifecycleObserved("h1", "vm1", "suspended", "ioerror", VmPowerState.PAUSED));
        ClusterEvent first = c.lastEvent("vm-lifecycle");
        assertEquals(Map.of("event", "suspended", "detail", "ioerror", "state", "paused"), first.details());
        assertTrue(first.message().contains("suspended ioerror (now paused)"), first.message());

        c.step(new HaInput.VmLifecycleObserved("h1", "vm1", "suspended", "ioerror", VmPowerState.PAUSED, 4));
        ClusterEvent next = c.lastEvent("vm-lifecycle");
        assertEquals(4, next.details().get("repeated"));
        assertTrue(next.message().contains("4 repeat(s)"), next.message());
    }
}
