package io.vigil.controller.ha;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vigil.protocol.AgentCommand;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** Rule 3: failover placement by priority, capacity waits, and several hosts in one pass. */
class FailoverPlacementTest {

    @Test
    void vmsThatFitNowhereWaitForCapacityAndStartByPriorityWhenItAppears() {
        FakeCluster c = new FakeCluster();
        c.addHost("h1");
        c.addHost("h2");
        c.create("big", 700, true, Priority.LOW);     // h1
        c.create("filler", 700, true, Priority.LOW);  // h2
        c.create("small", 300, true, Priority.HIGH);  // h1 (h1 324 free, h2 324 free: both one HA VM -> name)
        c.assertVm("small", VmState.RUNNING, "h1");
        c.run(1000);
        c.kill("h1");
        c.run(6000);
        assertEquals(HostState.FENCED, c.host("h1").state());
        // h2 has 324 MiB free: "small" (high) fits, "big" (low) does not.
        c.assertVm("small", VmState.RUNNING, "h2");
        c.assertVm("big", VmState.PENDING_CAPACITY, null);
        ClusterEvent waiting = c.lastEvent("vm-pending-capacity");
        assertEquals("big", waiting.vm());
        assertTrue(waiting.cause().contains("700 MiB"), waiting.cause());
        assertTrue(c.events("failover-completed").isEmpty(), "the failover is not over while a VM waits");

        int pendingEvents = c.events("vm-pending-capacity").size();
        c.run(3000);
        assertEquals(pendingEvents, c.events("vm-pending-capacity").size(), "retries do not repeat the event");

        c.addHost("h3"); // capacity appears
        c.deliver();
        c.assertVm("big", VmState.RUNNING, "h3");
        ClusterEvent done = c.lastEvent("failover-completed");
        assertEquals(2, done.details().get("started"));
    }

    @Test
    void deletingAVmFreesCapacityForAWaitingOne() {
        FakeCluster c = new FakeCluster();
        c.addHost("h1");
        c.create("a", 800, true, Priority.HIGH);
        c.create("b", 800, true, Priority.HIGH);
        c.assertVm("b", VmState.PENDING_CAPACITY, null);
        c.desire("a", RequestedState.DELETED);
        assertEquals(null, c.vm("a"));
        c.assertVm("b", VmState.RUNNING, "h1");
    }

    @Test
    void twoHostsFailingTogetherArePlacedInOnePassByPriority() {
        FakeCluster c = new FakeCluster();
        for (String h : List.of("h1", "h2", "h3", "h4")) c.addHost(h);
        c.create("p-low", 128, true, Priority.LOW);         // h1
        c.create("p-highest", 128, true, Priority.HIGHEST); // h2
        c.create("p-medium", 128, true, Priority.MEDIUM);   // h3
        c.create("p-high", 128, true, Priority.HIGH);       // h4
        c.run(1000);
        c.kill("h1");
        c.kill("h2");
        c.run(6000);
        List<ClusterEvent> fencings = c.events("host-leases-expired");
        assertEquals(2, fencings.size());
        assertEquals(fencings.get(0).timeMillis(), fencings.get(1).timeMillis(), "fenced in the same round");
        List<String> placed = c.events("vm-placed").stream()
                .filter(e -> e.timeMillis() == fencings.get(0).timeMillis()).map(ClusterEvent::vm)
                .collect(Collectors.toList());
        assertEquals(List.of("p-highest", "p-low"), placed, "one pass over both hosts' VMs, by priority");
        assertEquals(VmState.RUNNING, c.vm("p-highest").state());
        assertEquals(VmState.RUNNING, c.vm("p-low").state());
        // The two survivors had one HA VM each: the first goes to h3 (name), the second to h4 (fewest HA VMs).
        assertEquals("h3", c.vm("p-highest").host());
        assertEquals("h4", c.vm("p-low").host());
        assertEquals(2, c.events("failover-completed").size());
    }

    @Test
    void failoverStartsCarryGenerationPlusOneAndTheHaFlag() {
        FakeCluster c = new FakeCluster();
        c.addHost("h1");
        c.addHost("h2");
        c.create("vm1", 128, true, Priority.HIGH);
        c.run(1000);
        c.kill("h1");
        c.run(6000);
        List<HaCommand.SendToAgent> starts = c.sent(AgentCommand.StartVm.class);
        AgentCommand.StartVm last = (AgentCommand.StartVm) starts.get(starts.size() - 1).command();
        assertEquals("h2", starts.get(starts.size() - 1).host());
        assertEquals(2, last.generation());
        assertTrue(last.haEnabled());
        assertTrue(last.domainXml().contains("<name>vm1</name>"));
    }
}
