package io.vigil.controller.ha;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vigil.protocol.IsolationResponse;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** Rules 8 and 9: policy changes, and what every event carries (checked on every step by {@link FakeCluster}). */
class PolicyAndEventsTest {

    private static final Set<String> DOCUMENTED = Set.of("host-connected", "host-disconnected", "host-suspect",
            "host-recovered", "host-isolated", "host-failed", "host-leases-expired", "host-storage-lost",
            "host-rejoined", "host-lost-vms", "vm-created", "vm-placed", "vm-start-requested", "vm-started",
            "vm-start-failed", "vm-stopped", "vm-stop-requested", "vm-delete-requested", "vm-deleted",
            "vm-destroy-requested", "vm-command-resent", "vm-pending-capacity", "vm-error", "vm-lifecycle",
            "failover-completed", "policy-changed");

    @Test
    void policyChangeIsStoredBroadcastAndRecorded() {
        FakeCluster c = new FakeCluster();
        c.addHost("h1");
        ClusterPolicy next = ClusterPolicy.timing(2, 6, 8, IsolationResponse.SHUTDOWN);
        c.step(new HaInput.PolicyChanged(next));
        assertEquals(next, c.state.policy());
        assertTrue(c.lastCommands.contains(new HaCommand.BroadcastPolicy(next)));
        ClusterEvent e = c.lastEvent("policy-changed");
        assertTrue(e.message().contains("heartbeat 1 s -> 2 s"), e.message());
        assertEquals("shutdown", e.details().get("isolationResponse"));
        // The new timing applies: with 2 s heartbeats, 4 s of silence is not yet suspect.
        c.advance(4000);
        c.step(new HaInput.Tick());
        assertEquals(HostState.CONNECTED, c.host("h1").state());
        c.advance(1);
        c.step(new HaInput.Tick());
        assertEquals(HostState.SUSPECT, c.host("h1").state());
    }

    @Test
    void aBusyRunUsesOnlyDocumentedEventTypes() {
        FakeCluster c = new FakeCluster();
        c.addHost("h1");
        c.addHost("h2");
        c.create("a", 700, true, Priority.HIGH);
        c.create("b", 700, true, Priority.LOW);
        c.create("c", 200, false, Priority.LOW);
        c.run(1000);
        c.kill("h1");
        c.run(6000);
        c.restart("h1");
        c.run(2000);
        c.desire("c", RequestedState.STARTED);
        c.desire("b", RequestedState.STOPPED);
        c.desire("a", RequestedState.DELETED);
        c.step(new HaInput.AgentDisconnected("h2"));
        Set<String> seen = new TreeSet<>(c.eventTypes());
        assertTrue(DOCUMENTED.containsAll(seen), "undocumented: " + seen);
        assertTrue(seen.size() >= 15, seen.toString());
    }
}
