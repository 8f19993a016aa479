package io.vigil.controller.ha;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vigil.protocol.AgentCommand;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * One host of three goes silent (network and storage cut, its QEMU processes still running until it fences
 * itself): suspect, failed, leases expired, its HA VMs placed by priority and started elsewhere. The harness checks
 * after every step that no VM runs on two hosts and that the core never lists a VM on two hosts.
 */
class WholeFailoverTest {

    @Test
    void silentHostIsDetectedFencedAndItsVmsRestartByPriority() {
        FakeCluster c = new FakeCluster();
        c.addHost("h1");
        c.addHost("h2");
        c.addHost("h3");
        // Fewest HA VMs first, then most free memory, then name: a->h1, b->h2, c->h3, d->h1, e->h2, f->h3.
        c.create("vm-a", 256, true, Priority.HIGH);
        c.create("vm-b", 256, true, Priority.LOWEST);
        c.create("vm-c", 256, true, Priority.MEDIUM);
        c.create("vm-d", 128, true, Priority.LOW);
        c.create("vm-e", 128, true, Priority.HIGHEST);
        c.create("vm-f", 128, true, Priority.HIGH);
        c.run(2000);
        assertEquals(Map.of("vm-a", "h1", "vm-b", "h2", "vm-c", "h3", "vm-d", "h1", "vm-e", "h2", "vm-f", "h3"),
                c.truth());
        for (String vm : List.of("vm-a", "vm-b", "vm-c", "vm-d", "vm-e", "vm-f"))
            assertEquals(VmState.RUNNING, c.vm(vm).state());
        assertEquals(1, c.vm("vm-e").generation());

        int before = c.events.size();
        long cutAt = c.elapsedMillis();
        FakeCluster.Agent h2 = c.agents.get("h2");
        h2.network = false;
        h2.storage = false;
        c.run(8000);

        List<ClusterEvent> story = c.events.subList(before, c.events.size()).stream()
                .filter(e -> e.details().containsKey("failover")).collect(Collectors.toList());
        List<String> told = story.stream().map(e -> e.type() + (e.vm() == null ? "" : ":" + e.vm()))
                .collect(Collectors.toList());
        assertEquals(List.of("host-suspect", "host-failed", "host-leases-expired", "vm-placed:vm-e", "vm-placed:vm-b",
                "vm-started:vm-e", "vm-started:vm-b", "failover-completed"), told);
        for (ClusterEvent e : story) {
            assertEquals("h2-1", e.details().get("failover"));
            assertFalse(e.cause() == null || e.cause().isBlank(), e.type());
            assertFalse(e.message() == null || e.message().isBlank(), e.type());
        }
        long previous = -1;
        for (ClusterEvent e : story) {
            long elapsed = (Long) e.details().get("elapsedMillis");
            assertTrue(elapsed >= previous, "elapsed times never go back: " + told);
            previous = elapsed;
        }
        // Detection after two missed intervals, failure after the failure timeout, fencing at the lease timeout.
        long cutEpoch = c.now.epochMillis() - (c.elapsedMillis() - cutAt);
        assertTrue(story.get(0).timeMillis() - cutEpoch > 2000, "suspect only after two missed heartbeats");
        assertTrue(story.get(1).timeMillis() - cutEpoch > 3000, "failed only after the failure timeout");
        assertTrue(story.get(2).timeMillis() - cutEpoch >= 4000, "fenced only once the lease timeout passed");
        assertTrue(story.get(7).timeMillis() - cutEpoch <= 5000, "all VMs run again within 5 s");

        ClusterEvent done = story.get(story.size() - 1);
        @SuppressWarnings("unchecked")
        Map<String, Long> steps = (Map<String, Long>) done.details().get("steps");
        assertEquals(List.of("detected", "declaredFailed", "leasesExpired", "placed", "started"),
                List.copyOf(steps.keySet()));
        assertEquals(2, done.details().get("started"));
        assertTrue(done.message().contains("completed in"), done.message());

        // Placed by priority: vm-e (highest) on the host with fewest HA VMs and most memory, vm-b then on the other.
        assertEquals(Map.of("vm-a", "h1", "vm-b", "h3", "vm-c", "h3", "vm-d", "h1", "vm-e", "h1", "vm-f", "h3"),
                c.truth());
        c.assertVm("vm-e", VmState.RUNNING, "h1");
        c.assertVm("vm-b", VmState.RUNNING, "h3");
        assertEquals(2, c.vm("vm-e").generation(), "restarted with generation + 1");
        assertEquals(2, c.vm("vm-b").generation());
        assertEquals(HostState.FENCED, c.host("h2").state());
        assertEquals(List.of(), c.host("h2").vms());
        List<HaCommand.SendToAgent> starts = c.sent(AgentCommand.StartVm.class);
        assertTrue(starts.stream().noneMatch(s -> s.host().equals("h2")
                && ((AgentCommand.StartVm) s.command()).generation() == 2));
    }
}
