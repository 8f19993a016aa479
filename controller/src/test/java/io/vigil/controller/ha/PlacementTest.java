package io.vigil.controller.ha;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vigil.protocol.HostInventory;
import io.vigil.protocol.VmPowerState;
import io.vigil.protocol.VmReport;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Rule 3, the arithmetic: free memory, rules, preferences and the choice of host. */
class PlacementTest {
    private static final ClusterPolicy OFF = ClusterPolicy.DEFAULT.withAdmission(AdmissionControl.OFF, 1, 0, List.of());

    private static Placement.HostCapacity cap(String host, long total, long used, int ha) {
        return new Placement.HostCapacity(host, total, used, ha, 0, 0, List.of());
    }

    private static VmSpec vm(String name, long memoryMiB) {
        return FakeCluster.spec(name, memoryMiB, true, Priority.MEDIUM, RequestedState.STARTED);
    }

    private static String choose(List<Placement.HostCapacity> hosts, VmSpec spec, Set<String> excluded, String forced) {
        return Placement.choose(hosts, spec, excluded, forced, false, OFF, RuleBook.empty(), v -> null).host();
    }

    @Test
    void fewestHaVmsThenMostFreeMemoryThenName() {
        List<Placement.HostCapacity> hosts = List.of(cap("h1", 1024, 100, 2), cap("h2", 1024, 900, 1),
                cap("h3", 1024, 500, 1), cap("h4", 1024, 500, 1));
        assertEquals("h3", choose(hosts, vm("a", 100), Set.of(), null), "h2, h3 and h4 tie at one HA VM; h3 "
                + "and h4 have the most free memory; h3 wins by name");
        assertEquals("h4", choose(hosts, vm("a", 100), Set.of("h3"), null));
        assertEquals("h1", choose(hosts, vm("a", 600), Set.of(), null), "only h1 has room");
        assertNull(choose(hosts, vm("a", 1000), Set.of(), null));
        assertEquals("h2", choose(hosts, vm("a", 100), Set.of(), "h2"), "a forced host with room");
        assertNull(choose(hosts, vm("a", 200), Set.of(), "h2"), "a forced host without room: none");
    }

    @Test
    void preferredHostsComeBeforeLoadAndStrictExcludesTheOthers() {
        List<Placement.HostCapacity> hosts = List.of(cap("h1", 4096, 3000, 5), cap("h2", 4096, 0, 0),
                cap("h3", 4096, 1000, 2));
        VmSpec soft = vm("a", 512).withPreferredHosts(List.of(new HostPreference("h1", 1), new HostPreference("h3", 5)),
                false);
        assertEquals("h3", choose(hosts, soft, Set.of(), null), "the highest preferred-host priority wins over load");
        assertEquals("h1", choose(hosts, soft, Set.of("h3"), null), "then the next listed host");
        assertEquals("h2", choose(hosts, soft, Set.of("h1", "h3"), null), "unlisted hosts come after all listed ones");
        VmSpec strict = soft.withPreferredHosts(soft.preferredHosts(), true);
        Placement.Choice none = Placement.choose(hosts, strict, Set.of("h1", "h3"), null, false, OFF, RuleBook.empty(),
                v -> null);
        assertNull(none.host(), "strict: never outside its preferred hosts");
        assertTrue(none.whyNone().contains("preferred hosts"), none.whyNone());
    }

    @Test
    void strictAntiAffinityForbidsAndNonStrictIsWeighedAfterPreferences() {
        List<Placement.HostCapacity> hosts = List.of(cap("h1", 4096, 0, 0), cap("h2", 4096, 2000, 3));
        Map<String, String> where = new HashMap<>(Map.of("b", "h1"));
        RuleBook strict = new RuleBook(List.of(new Rule("apart", Rule.Type.ANTI_AFFINITY, List.of("a", "b"), true)));
        assertEquals("h2", Placement.choose(hosts, vm("a", 512), Set.of(), null, false, OFF, strict, where::get).host());
        Placement.Choice blocked = Placement.choose(hosts, vm("a", 512), Set.of("h2"), null, false, OFF, strict,
                where::get);
        assertNull(blocked.host());
        assertTrue(blocked.whyNone().contains("anti-affinity rule apart"), blocked.whyNone());

        RuleBook soft = new RuleBook(List.of(new Rule("apart", Rule.Type.ANTI_AFFINITY, List.of("a", "b"), false)));
        assertEquals("h2", Placement.choose(hosts, vm("a", 512), Set.of(), null, false, OFF, soft, where::get).host(),
                "a non-strict rule outweighs load");
        assertEquals("h1", Placement.choose(hosts, vm("a", 512), Set.of("h2"), null, false, OFF, soft, where::get)
                .host(), "but is broken rather than leave the VM waiting");

        RuleBook together = new RuleBook(List.of(new Rule("pair", Rule.Type.AFFINITY, List.of("a", "b"), true)));
        where.put("b", "h2");
        assertEquals("h2", Placement.choose(hosts, vm("a", 512), Set.of(), null, false, OFF, together, where::get)
                .host(), "strict affinity: with its partner");
    }

    @Test
    void dedicatedFailoverHostsTakeOnlyFailoverVmsAndComeFirstForThem() {
        ClusterPolicy dedicated = ClusterPolicy.DEFAULT.withAdmission(AdmissionControl.DEDICATED, 1, 0, List.of("spare"));
        List<Placement.HostCapacity> hosts = List.of(cap("h1", 4096, 0, 0), cap("spare", 4096, 0, 0));
        assertEquals("h1", Placement.choose(hosts, vm("a", 512), Set.of(), null, false, dedicated, RuleBook.empty(),
                v -> null).host());
        assertNull(Placement.choose(hosts, vm("a", 512), Set.of("h1"), null, false, dedicated, RuleBook.empty(),
                v -> null).host(), "an operator start never uses a failover host");
        assertEquals("spare", Placement.choose(hosts, vm("a", 512), Set.of(), null, true, dedicated, RuleBook.empty(),
                v -> null).host(), "a failover goes to the failover host first");
    }

    @Test
    void usedMemoryCountsOccupyingVmsAndUnmanagedActiveDomains() {
        HostInventory inventory = new HostInventory(4, 2048, 0, List.of(
                new VmReport("a", "u", VmPowerState.RUNNING, 999, 1, 1), // managed, counted by its spec
                new VmReport("outsider", "u", VmPowerState.PAUSED, 300, 1, 0),
                new VmReport("old", "u", VmPowerState.SHUTOFF, 700, 1, 0)));
        HostRecord h = HostRecord.joined("h1", 1, inventory, true, new Now(0, 0));
        Map<String, VmSpec> specs = Map.of(
                "a", FakeCluster.spec("a", 256, true, Priority.HIGH, RequestedState.STARTED),
                "b", FakeCluster.spec("b", 128, false, Priority.HIGH, RequestedState.STARTED),
                "c", FakeCluster.spec("c", 512, true, Priority.HIGH, RequestedState.STOPPED),
                "d", FakeCluster.spec("d", 64, true, Priority.HIGH, RequestedState.STARTED),
                "e", FakeCluster.spec("e", 32, true, Priority.HIGH, RequestedState.STARTED));
        Now t = new Now(0, 0);
        Map<String, VmRecord> vms = Map.of(
                "a", VmRecord.created("a", t).to(VmState.RUNNING, "h1", t),
                "b", VmRecord.created("b", t).to(VmState.STARTING, "h1", t),
                "c", VmRecord.created("c", t).to(VmState.STOPPED, "h1", t),
                "d", VmRecord.created("d", t).to(VmState.RECOVERY, "h2", t),
                "e", VmRecord.created("e", t).to(VmState.MIGRATING, "h2", t).withMove("h1", MoveKind.MIGRATE));
        Placement.HostCapacity capacity = Placement.capacities(List.of(h), vms, specs).get("h1");
        assertEquals(256 + 128 + 300 + 32, capacity.usedMiB(), "a move's target holds its memory from the start");
        assertEquals(1, capacity.haVms());
        assertEquals(256, capacity.haMiB());
        assertEquals(2048 - 716, capacity.freeMiB());
        assertEquals(Set.of("a", "b"), Set.copyOf(capacity.vms()));
    }
}
