package io.vigil.controller.ha;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vigil.protocol.HostInventory;
import io.vigil.protocol.VmPowerState;
import io.vigil.protocol.VmReport;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Rule 3, the arithmetic: free memory and the choice of host. */
class PlacementTest {

    private static Placement.HostCapacity cap(String host, long total, long used, int ha) {
        return new Placement.HostCapacity(host, total, used, ha, List.of());
    }

    @Test
    void fewestHaVmsThenMostFreeMemoryThenName() {
        List<Placement.HostCapacity> hosts = List.of(cap("h1", 1024, 100, 2), cap("h2", 1024, 900, 1),
                cap("h3", 1024, 500, 1), cap("h4", 1024, 500, 1));
        assertEquals(Optional.of("h3"), Placement.choose(hosts, 100, Set.of(), null), "h2, h3 and h4 tie at one HA VM; h3 "
                + "and h4 have the most free memory; h3 wins by name");
        assertEquals(Optional.of("h4"), Placement.choose(hosts, 100, Set.of("h3"), null));
        assertEquals(Optional.of("h1"), Placement.choose(hosts, 600, Set.of(), null), "only h1 has room");
        assertEquals(Optional.empty(), Placement.choose(hosts, 1000, Set.of(), null));
        assertEquals(Optional.of("h2"), Placement.choose(hosts, 100, Set.of(), "h2"), "a preferred host with room wins");
        assertEquals(Optional.of("h3"), Placement.choose(hosts, 200, Set.of(), "h2"), "unless it has no room");
    }

    @Test
    void usedMemoryCountsOccupyingVmsAndUnmanagedActiveDomains() {
        HostInventory inventory = new HostInventory(4, 2048, 0, List.of(
                new VmReport("a", "u", VmPowerState.RUNNING, 999, 1, 1), // managed, counted by its spec
                new VmReport("outsider", "u", VmPowerState.PAUSED, 300, 1, 0),
                new VmReport("old", "u", VmPowerState.SHUTOFF, 700, 1, 0)));
        HostRecord h = HostRecord.joined("h1", 1, inventory, true, new Now(0, 0));
        Map<String, VmSpec> specs = Map.of(
                "a", FakeCluster.spec("a", 256, true, Priority.HIGH, DesiredState.RUNNING),
                "b", FakeCluster.spec("b", 128, false, Priority.HIGH, DesiredState.RUNNING),
                "c", FakeCluster.spec("c", 512, true, Priority.HIGH, DesiredState.STOPPED),
                "d", FakeCluster.spec("d", 64, true, Priority.HIGH, DesiredState.RUNNING));
        Now t = new Now(0, 0);
        Map<String, VmRecord> vms = Map.of(
                "a", VmRecord.created("a", t).to(VmState.RUNNING, "h1", t),
                "b", VmRecord.created("b", t).to(VmState.STARTING, "h1", t),
                "c", VmRecord.created("c", t).to(VmState.STOPPED, "h1", t),
                "d", VmRecord.created("d", t).to(VmState.RECOVERY, "h2", t));
        Placement.HostCapacity capacity = Placement.capacity(h, vms, specs);
        assertEquals(256 + 128 + 300, capacity.usedMiB());
        assertEquals(1, capacity.haVms());
        assertEquals(2048 - 684, capacity.freeMiB());
        assertEquals(Set.of("a", "b"), Set.copyOf(capacity.vms()));
    }
}
