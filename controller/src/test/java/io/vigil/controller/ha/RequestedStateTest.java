package io.vigil.controller.ha;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vigil.protocol.AgentCommand;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Rule 5: converging to the operator's desired state. */
class RequestedStateTest {

    @Test
    void newRunningVmIsPlacedAndStartedWithGenerationOne() {
        FakeCluster c = new FakeCluster();
        c.addHost("h1");
        c.create("vm1", 128, true, Priority.HIGH);
        assertEquals(List.of("host-connected", "vm-created", "vm-start-requested", "vm-placed", "vm-started"),
                c.eventTypes());
        AgentCommand.StartVm start = (AgentCommand.StartVm) c.sent(AgentCommand.StartVm.class).get(0).command();
        assertEquals(1, start.generation());
        c.assertVm("vm1", VmState.RUNNING, "h1");
        assertEquals(1, c.vm("vm1").generation());
    }

    @Test
    void stopThenRunAgain() {
        FakeCluster c = new FakeCluster();
        c.addHost("h1");
        c.create("vm1", 128, true, Priority.HIGH);
        c.desire("vm1", RequestedState.STOPPED);
        HaCommand.SendToAgent stop = c.sent(AgentCommand.StopVm.class).get(0);
        assertEquals("h1", stop.host());
        assertEquals(30, ((AgentCommand.StopVm) stop.command()).timeoutSeconds());
        c.assertVm("vm1", VmState.STOPPED, "h1");
        assertEquals("vm-stop-requested", c.events.get(c.events.size() - 2).type());
        assertEquals("vm-stopped", c.events.get(c.events.size() - 1).type());
        assertTrue(c.truth().isEmpty());
        assertEquals(0, c.host("h1").memoryUsedMiB(), "a stopped VM holds no memory");

        c.desire("vm1", RequestedState.STARTED);
        c.assertVm("vm1", VmState.RUNNING, "h1");
        List<HaCommand.SendToAgent> starts = c.sent(AgentCommand.StartVm.class);
        assertEquals(2, ((AgentCommand.StartVm) starts.get(1).command()).generation());
        assertEquals("vm-start-requested", c.events("vm-start-requested").get(1).type());
    }

    @Test
    void aStopThatFailsPutsTheVmInError() {
        FakeCluster c = new FakeCluster();
        c.autoRespond = false;
        c.addHost("h1");
        c.create("vm1", 128, true, Priority.HIGH);
        c.step(new HaInput.CommandCompleted("h1", "c-1", "vm1", true, null, 1));
        c.desire("vm1", RequestedState.STOPPED);
        c.step(new HaInput.CommandCompleted("h1", "c-2", "vm1", false, "guest ignored shutdown", 0));
        c.assertVm("vm1", VmState.ERROR, "h1");
        assertTrue(c.vm("vm1").lastError().contains("guest ignored shutdown"));
    }

    @Test
    void runRequestedWhileStoppingStartsItOnceStopped() {
        FakeCluster c = new FakeCluster();
        c.autoRespond = false;
        c.addHost("h1");
        c.create("vm1", 128, true, Priority.HIGH);
        c.step(new HaInput.CommandCompleted("h1", "c-1", "vm1", true, null, 1));
        c.desire("vm1", RequestedState.STOPPED);
        c.desire("vm1", RequestedState.STARTED);
        c.assertVm("vm1", VmState.STOPPING, "h1");
        c.step(new HaInput.CommandCompleted("h1", "c-2", "vm1", true, null, 0));
        c.assertVm("vm1", VmState.STARTING, "h1");
        assertEquals(2, ((AgentCommand.StartVm) c.lastSent(AgentCommand.StartVm.class).get(0).command()).generation());
    }

    @Test
    void deleteUndefinesOnItsHostThenForgets() {
        FakeCluster c = new FakeCluster();
        c.addHost("h1");
        c.create("vm1", 128, true, Priority.HIGH);
        c.desire("vm1", RequestedState.DELETED);
        assertEquals("h1", c.sent(AgentCommand.UndefineVm.class).get(0).host());
        assertTrue(c.allCommands.contains(new HaCommand.ForgetVm("vm1")));
        assertNull(c.vm("vm1"));
        assertTrue(c.state.specs().isEmpty());
        assertEquals(List.of("vm-delete-requested", "vm-deleted"),
                c.eventTypes().subList(c.eventTypes().size() - 2, c.eventTypes().size()));
        assertDeletionRecordedBeforeForgotten(c.allCommands, "vm1");
    }

    /**
     * The shell carries out commands in order: the VM's last event must come before ForgetVm, so that a client that
     * sees the VM gone (404) finds its deletion in the event log (VigilCliTest.eventsAreListedWithFilters relies on it).
     */
    private static void assertDeletionRecordedBeforeForgotten(List<HaCommand> commands, String vm) {
        int forgotten = commands.indexOf(new HaCommand.ForgetVm(vm));
        assertTrue(forgotten >= 0, "ForgetVm " + vm + " in " + commands);
        for (int i = forgotten + 1; i < commands.size(); i++) {
            if (commands.get(i) instanceof HaCommand.RecordEvent e)
                assertTrue(!vm.equals(e.event().vm()), "an event about " + vm + " after ForgetVm: " + e.event());
        }
        boolean deletedBefore = commands.subList(0, forgotten).stream().anyMatch(c -> c instanceof HaCommand.RecordEvent e
                && "vm-deleted".equals(e.event().type()) && vm.equals(e.event().vm()));
        assertTrue(deletedBefore, "vm-deleted recorded before ForgetVm: " + commands);
    }

    @Test
    void deleteOfAVmThatRunsNowhereForgetsAtOnce() {
        FakeCluster c = new FakeCluster();
        c.create("vm1", 128, true, Priority.HIGH); // no host: waits for capacity
        c.assertVm("vm1", VmState.PENDING_CAPACITY, null);
        c.step(new HaInput.VmSpecChanged(c.state.specs().get("vm1").withRequested(RequestedState.DELETED)));
        assertTrue(c.lastCommands.contains(new HaCommand.ForgetVm("vm1")));
        assertTrue(c.lastSent(AgentCommand.UndefineVm.class).isEmpty());
        assertNull(c.vm("vm1"));
        assertTrue(c.lastEvent("vm-deleted").cause().contains("ran nowhere"));
        assertDeletionRecordedBeforeForgotten(c.lastCommands, "vm1");
    }

    @Test
    void aStoppedVmCreatedStoppedIsNotStarted() {
        FakeCluster c = new FakeCluster();
        c.addHost("h1");
        c.step(new HaInput.VmSpecChanged(FakeCluster.spec("vm1", 128, true, Priority.HIGH, RequestedState.STOPPED)));
        c.assertVm("vm1", VmState.STOPPED, null);
        assertTrue(c.sent(AgentCommand.StartVm.class).isEmpty());
        c.desire("vm1", RequestedState.STARTED);
        c.assertVm("vm1", VmState.RUNNING, "h1");
    }

    /** The operator's start: a new start request in the spec, as the REST API stores it. */
    private static void startAgain(FakeCluster c, String vm) {
        c.step(new HaInput.VmSpecChanged(c.state.specs().get(vm).withStartRequested(c.now.epochMillis())));
        c.deliver();
    }

    @Test
    void theOperatorsStartAcknowledgesAnErrorAndStartsTheVmAfresh() {
        FakeCluster c = new FakeCluster();
        c.addHost("h1");
        c.agents.get("h1").refuse.add("vm1");
        c.create(FakeCluster.spec("vm1", 128, true, Priority.HIGH, RequestedState.STARTED).withRetries(1, 0));
        assertEquals(2, c.sent(AgentCommand.StartVm.class).size(), "the first attempt and one restart");
        c.assertVm("vm1", VmState.ERROR, null);

        // Its restarts count from zero again: two more attempts, then error again.
        startAgain(c, "vm1");
        assertEquals(4, c.sent(AgentCommand.StartVm.class).size());
        c.assertVm("vm1", VmState.ERROR, null);
        String error = c.vm("vm1").lastError();
        assertTrue(error.contains("lease held by another host"), error);

        c.agents.get("h1").refuse.clear();
        startAgain(c, "vm1");
        c.assertVm("vm1", VmState.RUNNING, "h1");
        assertNull(c.vm("vm1").lastError());
        ClusterEvent requested = c.lastEvent("vm-start-requested");
        assertEquals("the operator asked for it to run", requested.cause());
        assertEquals(error, requested.details().get("acknowledgedError"));
        assertTrue(requested.message().contains("after an error, which is cleared"), requested.message());
    }

    @Test
    void anAcknowledgedErrorIsClearedAtOnceEvenWhenTheVmMustWaitForRoom() {
        FakeCluster c = new FakeCluster();
        c.addHost("h1");
        c.agents.get("h1").refuse.add("vm1");
        c.create(FakeCluster.spec("vm1", 128, true, Priority.HIGH, RequestedState.STARTED).withRetries(0, 0));
        c.assertVm("vm1", VmState.ERROR, null);
        c.step(new HaInput.MaintenanceRequested("h1", true));
        c.deliver();

        startAgain(c, "vm1");
        c.assertVm("vm1", VmState.PENDING_CAPACITY, null);
        assertNull(c.vm("vm1").lastError(), "the operator acknowledged it; it waits for a host, not in error");
    }

    @Test
    void aStartOfARunningVmChangesNothing() {
        FakeCluster c = new FakeCluster();
        c.addHost("h1");
        c.create("vm1", 128, true, Priority.HIGH);
        int events = c.events.size();
        startAgain(c, "vm1");
        c.assertVm("vm1", VmState.RUNNING, "h1");
        assertEquals(1, c.sent(AgentCommand.StartVm.class).size());
        assertEquals(events, c.events.size(), "nothing to record: " + c.eventTypes());
    }
}
