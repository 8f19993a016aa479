package io.vigil.controller.ha;

import io.vigil.protocol.VmReport;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Where a VM may go: pure arithmetic over host capacity, no decisions about when.
 *
 * <p>A host's used memory is the memory of the VMs the core has put on it (in any state where a QEMU process may
 * exist or is about to) plus every active domain it reports that the core has not put there (unmanaged domains,
 * stray copies being destroyed). Among hosts that accept VMs and have room, the one with the fewest HA VMs wins
 * (spreading HA VMs spreads the next failover), then the one with most free memory, then the first by name.
 */
final class Placement {

    /** States in which a VM holds memory on its host. */
    static final Set<VmState> OCCUPYING = EnumSet.of(VmState.STARTING, VmState.RUNNING, VmState.RECOVERY,
            VmState.MIGRATING, VmState.STOPPING, VmState.DELETING);

    private Placement() {}

    record HostCapacity(String host, long totalMiB, long usedMiB, int haVms, List<String> vms) {
        long freeMiB() {
            return totalMiB - usedMiB;
        }

        HostCapacity plus(String vm, long memoryMiB, boolean ha) {
            List<String> next = new ArrayList<>(vms);
            next.add(vm);
            return new HostCapacity(host, totalMiB, usedMiB + memoryMiB, haVms + (ha ? 1 : 0), List.copyOf(next));
        }
    }

    static HostCapacity capacity(HostRecord host, Map<String, VmRecord> vms, Map<String, VmSpec> specs) {
        long used = 0;
        int ha = 0;
        List<String> mine = new ArrayList<>();
        for (VmRecord v : vms.values()) {
            if (!host.name().equals(v.host()) || !OCCUPYING.contains(v.state())) continue;
            VmSpec spec = specs.get(v.name());
            mine.add(v.name());
            if (spec == null) continue;
            used += spec.memoryMiB();
            if (spec.haEnabled()) ha++;
        }
        Set<String> counted = new HashSet<>(mine);
        for (VmReport r : host.inventory().vms())
            if (r.state() != null && r.state().isActive() && !counted.contains(r.name())) used += r.memoryMiB();
        return new HostCapacity(host.name(), host.inventory().memoryTotalMiB(), used, ha, List.copyOf(mine));
    }

    static boolean fits(HostCapacity host, long memoryMiB) {
        return host.freeMiB() >= memoryMiB;
    }

    /**
     * The best host for a VM of {@code memoryMiB}, never one in {@code excluded}; {@code preferred} (may be null)
     * wins whenever it qualifies.
     */
    static Optional<String> choose(Collection<HostCapacity> hosts, long memoryMiB, Collection<String> excluded,
            String preferred) {
        if (preferred != null && !excluded.contains(preferred))
            for (HostCapacity h : hosts) if (h.host().equals(preferred) && fits(h, memoryMiB)) return Optional.of(preferred);
        return hosts.stream()
                .filter(h -> !excluded.contains(h.host()))
                .filter(h -> fits(h, memoryMiB))
                .min(Comparator.comparingInt(HostCapacity::haVms)
                        .thenComparing(Comparator.comparingLong(HostCapacity::freeMiB).reversed())
                        .thenComparing(HostCapacity::host))
                .map(HostCapacity::host);
    }

    /** Placement order: highest priority first, ties by name. */
    static Comparator<VmSpec> order() {
        return Comparator.comparing(VmSpec::priority).thenComparing(VmSpec::name);
    }
}
