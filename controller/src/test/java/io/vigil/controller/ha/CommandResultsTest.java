package io.vigil.controller.ha;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vigil.protocol.AgentCommand;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** Rule 4: command results, retries on the next best host, timeouts, and deterministic command ids. */
class CommandResultsTest {

    @Test
    void startConfirmedTakesTheLeaseGenerationTheAgentReports() {
        FakeCluster c = new FakeCluster();
        c.autoRespond = false;
        c.addHost("h1");
        c.create("vm1", 128, true, Priority.HIGH);
        c.assertVm("vm1", VmState.STARTING, "h1");
        HaCommand.SendToAgent start = c.lastSent(AgentCommand.StartVm.class).get(0);
        assertEquals("c-1", start.command().id());
        assertEquals(1, ((AgentCommand.StartVm) start.command()).generation());
        c.advance(300);
        c.step(new HaInput.CommandCompleted("h1", "c-1", "vm1", true, null, 5));
        c.assertVm("vm1", VmState.RUNNING, "h1");
        assertEquals(5, c.vm("vm1").generation());
        assertTrue(c.lastEvent("vm-started").message().contains("generation 5"));
        assertTrue(c.state.pendingCommandIds().isEmpty());
    }

    @Test
    void refusedStartsAreRetriedMaxRestartsTimesThenRelocatedMaxRelocationsTimesThenInError() {
        FakeCluster c = new FakeCluster();
        for (String h : List.of("h1", "h2", "h3", "h4")) {
            c.addHost(h);
            c.agents.get(h).refuse.add("vm1");
        }
        c.create(FakeCluster.spec("vm1", 128, true, Priority.HIGH, RequestedState.STARTED).withRetries(1, 2));
        List<String> tried = c.sent(AgentCommand.StartVm.class).stream().map(HaCommand.SendToAgent::host)
                .collect(Collectors.toList());
        assertEquals(List.of("h1", "h1", "h2", "h2", "h3", "h3"), tried,
                "each host twice (maxRestarts 1), three hosts (maxRelocations 2)");
        List<Long> generations = c.sent(AgentCommand.StartVm.class).stream()
                .map(s -> ((AgentCommand.StartVm) s.command()).generation()).collect(Collectors.toList());
        assertEquals(List.of(1L, 2L, 3L, 4L, 5L, 6L), generations, "no generation is asked for twice");
        assertEquals(6, c.events("vm-start-failed").size());
        c.assertVm("vm1", VmState.ERROR, null);
        assertTrue(c.vm("vm1").lastError().contains("lease held by another host"), c.vm("vm1").lastError());
        assertTrue(c.lastEvent("vm-error").cause().contains("maxRelocations 2"), c.lastEvent("vm-error").cause());
    }

    @Test
    void noRestartsAndNoRelocationsMeansOneAttempt() {
        FakeCluster c = new FakeCluster();
        c.addHost("h1");
        c.addHost("h2");
        c.agents.get("h1").refuse.add("vm1");
        c.create(FakeCluster.spec("vm1", 128, true, Priority.HIGH, RequestedState.STARTED).withRetries(0, 0));
        assertEquals(1, c.sent(AgentCommand.StartVm.class).size());
        c.assertVm("vm1", VmState.ERROR, null);
    }

    @Test
    void whenEveryHostWithRoomRefusedTheVmIsInError() {
        FakeCluster c = new FakeCluster();
        c.addHost("h1");
        c.addHost("h2");
        c.agents.get("h1").refuse.add("vm1");
        c.agents.get("h2").refuse.add("vm1");
        c.create(FakeCluster.spec("vm1", 128, true, Priority.HIGH, RequestedState.STARTED).withRetries(0, 5));
        assertEquals(2, c.sent(AgentCommand.StartVm.class).size());
        c.assertVm("vm1", VmState.ERROR, null);
        assertTrue(c.vm("vm1").lastError().contains("every host it may use with room"), c.vm("vm1").lastError());
    }

    @Test
    void aStartWithoutResultWithinSixtySecondsCountsAsFailed() {
        FakeCluster c = new FakeCluster();
        c.addHost("h1");
        c.addHost("h2");
        c.agents.get("h1").mute = true;
        c.create("vm1", 128, true, Priority.HIGH);
        c.assertVm("vm1", VmState.STARTING, "h1");
        c.run(60_000);
        c.assertVm("vm1", VmState.STARTING, "h1");
        assertTrue(c.events("vm-start-failed").isEmpty());
        c.run(250);
        assertTrue(c.lastEvent("vm-start-failed").cause().contains("no result from h1 within 60 s"));
        c.assertVm("vm1", VmState.STARTING, "h1"); // maxRestarts 1: once more on h1
        c.run(60_250);
        c.assertVm("vm1", VmState.RUNNING, "h2");

        // The late result of the abandoned start is stale: it changes nothing (the id is forgotten).
        c.step(new HaInput.CommandCompleted("h1", "c-1", "vm1", true, null, 1));
        c.assertVm("vm1", VmState.RUNNING, "h2");
    }

    @Test
    void aLateSuccessForAStartTheCoreNoLongerWantsIsDestroyed() {
        FakeCluster c = new FakeCluster();
        c.autoRespond = false;
        c.addHost("h1");
        c.create("vm1", 128, true, Priority.HIGH);
        c.step(new HaInput.VmSpecChanged(c.state.specs().get("vm1").withRequested(RequestedState.STOPPED)));
        c.assertVm("vm1", VmState.STOPPING, "h1");
        String stopId = c.lastSent(AgentCommand.StopVm.class).get(0).command().id();
        c.step(new HaInput.CommandCompleted("h1", stopId, "vm1", true, null, 0));
        c.assertVm("vm1", VmState.STOPPED, "h1");
        c.step(new HaInput.CommandCompleted("h1", "c-1", "vm1", true, null, 1)); // the start, arriving last
        assertEquals(1, c.lastSent(AgentCommand.DestroyVm.class).size());
        c.assertVm("vm1", VmState.STOPPED, "h1");
    }

    @Test
    void theSameInputsGiveTheSameCommands() {
        List<HaCommand> first = scripted();
        List<HaCommand> second = scripted();
        assertEquals(first, second);
        List<String> ids = first.stream().filter(c -> c instanceof HaCommand.SendToAgent)
                .map(c -> ((HaCommand.SendToAgent) c).command().id()).collect(Collectors.toList());
        assertEquals(List.of("c-1", "c-2", "c-3"), ids);
    }

    private static List<HaCommand> scripted() {
        FakeCluster c = new FakeCluster();
        c.addHost("h1");
        c.addHost("h2");
        c.create("a", 128, true, Priority.HIGH);
        c.create("b", 128, false, Priority.LOW);
        c.desire("a", RequestedState.STOPPED);
        return c.allCommands;
    }
}
