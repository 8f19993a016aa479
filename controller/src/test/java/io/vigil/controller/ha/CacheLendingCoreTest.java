package io.vigil.controller.ha;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vigil.protocol.AgentCommand;
import io.vigil.protocol.CacheMode;
import io.vigil.protocol.VmPowerState;
import io.vigil.protocol.VmReport;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The core lends each host's failover reserve to its VMs as disk cache and takes it back when VMs start there: the
 * budgets follow the state, a StartVm carries the VM's cache mode and the cache its host must give back first, and
 * the agent's account of the reclaim becomes a cache-reclaimed event with the time it took.
 */
class CacheLendingCoreTest {

    private static VmSpec spec(String name, long memoryMiB, Priority priority, CacheMode mode, int weight) {
        return FakeCluster.spec(name, memoryMiB, true, priority, RequestedState.STARTED).withCacheWeight(weight)
                .withCacheMode(mode);
    }

    /**
     * Three hosts of 1024 MiB: a (600 MiB) on h1, b and c (300 MiB) on h2 and h3. With one host failure tolerated
     * each host reserves ceil(600 * 1024 / 2048) = 300 MiB, all of it lent to its one VM.
     */
    private static FakeCluster threeHosts() {
        FakeCluster c = new FakeCluster();
        for (String h : List.of("h1", "h2", "h3")) c.addHost(h);
        c.create(spec("vm-a", 600, Priority.HIGH, CacheMode.WRITE_THROUGH, 1));
        c.create(spec("vm-b", 300, Priority.MEDIUM, CacheMode.WRITE_BACK, 1));
        c.create(spec("vm-c", 300, Priority.MEDIUM, CacheMode.WRITE_BACK_RECOVERABLE, 3));
        c.run(2000);
        assertEquals(Map.of("vm-a", "h1", "vm-b", "h2", "vm-c", "h3"), c.truth());
        return c;
    }

    private static AgentCommand.StartVm startOf(FakeCluster c, String vm, String host) {
        return c.sent(AgentCommand.StartVm.class).stream()
                .filter(s -> s.host().equals(host) && s.command().vm().equals(vm))
                .map(s -> (AgentCommand.StartVm) s.command()).reduce((a, b) -> b).orElseThrow();
    }

    @Test
    void eachHostLendsItsReserveToItsRunningVmsByWeight() {
        FakeCluster c = threeHosts();
        assertEquals(Map.of("h1", Map.of("vm-a", 300L), "h2", Map.of("vm-b", 300L), "h3", Map.of("vm-c", 300L)),
                c.state.cacheBudgets());
        assertEquals(300, c.host("h2").reserveMiB());
        assertEquals(300, c.host("h2").cache().lentMiB());
        assertEquals(300, c.host("h2").cache().vm("vm-b").budgetMiB());
        // A first start on an empty host needs nothing back; every start carries the VM's cache mode.
        AgentCommand.StartVm a = startOf(c, "vm-a", "h1");
        assertEquals(0, a.reclaimMiB());
        assertEquals(CacheMode.WRITE_THROUGH, a.cacheMode());
        assertEquals(CacheMode.WRITE_BACK_RECOVERABLE, startOf(c, "vm-c", "h3").cacheMode());

        c.create(spec("vm-d", 100, Priority.LOW, CacheMode.WRITE_BACK, 0));
        c.create(spec("vm-e", 100, Priority.LOW, CacheMode.WRITE_BACK, 2));
        c.run(1000);
        assertEquals("h2", c.vm("vm-d").host());
        assertEquals("h3", c.vm("vm-e").host());
        // h2: reserve ceil(600 * 1024 / 2048) = 300, 624 MiB free; vm-d (weight 0) takes no cache.
        assertEquals(Map.of("vm-b", 300L), c.state.cacheBudgets().get("h2"));
        // h3: vm-c weight 3, vm-e weight 2 share 300 MiB.
        assertEquals(Map.of("vm-c", 180L, "vm-e", 120L), c.state.cacheBudgets().get("h3"));
    }

    @Test
    void aFailoverStartCarriesTheCacheItsTargetMustGiveBack() {
        FakeCluster c = threeHosts();
        c.kill("h1");
        c.run(10_000);
        c.assertVm("vm-a", VmState.RUNNING, "h2");
        AgentCommand.StartVm start = startOf(c, "vm-a", "h2");
        // h2: 1024 MiB, 300 used by vm-b, 300 lent: 424 MiB free and not lent; vm-a needs 600.
        assertEquals(176, start.reclaimMiB());
        assertEquals(CacheMode.WRITE_THROUGH, start.cacheMode());
        ClusterEvent placed = c.lastEvent("vm-placed");
        assertEquals(176L, placed.details().get("reclaimMiB"));
        assertTrue(placed.message().contains("gave back 176 MiB of disk cache"), placed.message());
        // The failed host lends nothing and is told nothing; h2 now lends what its reserve leaves: 1024 - 900 = 124 MiB.
        assertEquals(0, c.host("h1").cache().lentMiB());
        assertFalse(c.state.cacheBudgets().containsKey("h1"), "no budgets for a host that is not connected");
        assertEquals(Map.of("vm-a", 62L, "vm-b", 62L), c.state.cacheBudgets().get("h2"));
        assertEquals(124, c.host("h2").cache().lentMiB());
    }

    @Test
    void theAgentsReclaimBecomesAnEventWithTheTimeItTook() {
        FakeCluster c = threeHosts();
        c.agents.get("h2").mute = true;
        c.kill("h1");
        c.run(6000);
        c.assertVm("vm-a", VmState.STARTING, "h2");
        AgentCommand.StartVm start = startOf(c, "vm-a", "h2");
        c.step(new HaInput.CommandCompleted("h2", start.id(), "vm-a", true, null, start.generation(),
                "reclaimed 176 MiB of cache in 42 ms; wrote back 12 MiB of dirty blocks"));
        c.assertVm("vm-a", VmState.RUNNING, "h2");
        ClusterEvent e = c.lastEvent("cache-reclaimed");
        assertEquals("h2", e.host());
        assertEquals("vm-a", e.vm());
        assertEquals(176L, e.details().get("reclaimedMiB"));
        assertEquals(42L, e.details().get("reclaimMillis"));
        assertEquals(176L, e.details().get("requestedMiB"));
        assertEquals("h1-1", e.details().get("failover"), "a step of the failover, with its time since detection");
        assertTrue(e.message().contains("176 MiB") && e.message().contains("42 ms"), e.message());
        List<String> types = c.eventTypes();
        assertTrue(types.indexOf("cache-reclaimed") < types.lastIndexOf("vm-started"), types.toString());
        @SuppressWarnings("unchecked")
        Map<String, Object> steps = (Map<String, Object>) c.lastEvent("failover-completed").details().get("steps");
        assertTrue(steps.containsKey("cacheReclaimed"), steps.toString());
    }

    @Test
    void aReclaimDetailThatDoesNotParseIsKeptAsText() {
        FakeCluster c = threeHosts();
        c.agents.get("h2").mute = true;
        c.kill("h1");
        c.run(6000);
        AgentCommand.StartVm start = startOf(c, "vm-a", "h2");
        c.step(new HaInput.CommandCompleted("h2", start.id(), "vm-a", true, null, start.generation(),
                "reclaimed most of the cache, slowly"));
        ClusterEvent e = c.lastEvent("cache-reclaimed");
        assertEquals("reclaimed most of the cache, slowly", e.details().get("detail"));
        assertTrue(e.message().contains("reclaimed most of the cache, slowly"), e.message());
        c.assertVm("vm-a", VmState.RUNNING, "h2");
    }

    @Test
    void aStartResentAfterARestoreCarriesTheSameCacheFields() {
        VmSpec running = spec("vm0", 256, Priority.MEDIUM, CacheMode.WRITE_BACK, 1);
        VmSpec starting = spec("vm1", 512, Priority.HIGH, CacheMode.WRITE_THROUGH, 1);
        ClusterState restored = ClusterState.restore(ClusterPolicy.DEFAULT, List.of(running, starting),
                List.of(new VmStatus("vm0", "h1", VmState.RUNNING, 1, null, 1),
                        new VmStatus("vm1", "h1", VmState.STARTING, 3, null, 1)),
                List.of(new HostStatus("h1", HostState.CONNECTED, 1, 4, 1024, 768, true, true, List.of("vm0", "vm1"),
                        1, 1)));
        FakeCluster c = new FakeCluster(restored);
        FakeCluster.Agent h1 = new FakeCluster.Agent("h1");
        h1.domains.put("vm0", new VmReport("vm0", "u0", VmPowerState.RUNNING, 256, 1, 1, 300L << 20, 10L << 20));
        c.agents.put("h1", h1);
        c.step(new HaInput.AgentConnected("h1", 1, h1.inventory(), true));
        c.run(60_500);
        AgentCommand.StartVm resent = startOf(c, "vm1", "h1");
        // One host, one failure tolerated: h1 reserves all its memory. Without vm1, vm0 holds 256 MiB and is lent
        // the other 768; vm1's 512 MiB all come out of the cache.
        assertEquals(512, resent.reclaimMiB());
        assertEquals(CacheMode.WRITE_THROUGH, resent.cacheMode());
        c.assertVm("vm1", VmState.RUNNING, "h1");
        // What the agent reports of vm0's cache shows on the host.
        assertEquals(300, c.host("h1").cache().cacheMiB());
        assertEquals(10, c.host("h1").cache().dirtyMiB());
        assertEquals(300, c.host("h1").cache().vm("vm0").cacheMiB());
    }

    @Test
    void aHostInMaintenanceLendsNothing() {
        FakeCluster c = threeHosts();
        c.step(new HaInput.MaintenanceRequested("h3", true));
        c.deliver();
        c.run(2000);
        assertEquals(Map.of(), c.state.cacheBudgets().get("h3"));
        assertEquals(0, c.host("h3").cache().lentMiB());
    }
}
