package io.vigil.controller.ha;

import io.vigil.controller.cache.CacheLending;
import io.vigil.controller.cache.HostCache;
import io.vigil.protocol.VmReport;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The lending rule ({@link CacheLending}) applied to the core's records: each host's reserve as admission control
 * sizes it ({@link FailoverReserve}, over the hosts that accept VMs), the memory its VMs hold
 * ({@link Placement#capacities}), and the VMs running there with their {@code cacheWeight}. The same arithmetic gives
 * the budgets the shell sends the agents, the figures the REST API shows, and the cache a placement takes back.
 */
final class CacheLoans {
    private CacheLoans() {}

    /** Each host's failover reserve; hosts that do not accept VMs reserve nothing. */
    static Map<String, Long> reserves(ClusterPolicy policy, Collection<HostRecord> hosts,
            Map<String, Placement.HostCapacity> capacities) {
        List<FailoverReserve.HostLoad> loads = new ArrayList<>();
        for (HostRecord h : hosts) {
            Placement.HostCapacity c = capacities.get(h.name());
            loads.add(new FailoverReserve.HostLoad(h.name(), c.totalMiB(), c.usedMiB(), c.haMiB(), h.inventory().cpus(),
                    c.vcpus(), h.acceptsVms()));
        }
        return FailoverReserve.reserves(policy, loads);
    }

    /** Each host's loan, by host name. */
    static Map<String, CacheLending.Loan> loans(Collection<HostRecord> hosts,
            Map<String, Placement.HostCapacity> capacities, Map<String, Long> reserves, Map<String, VmRecord> vms,
            Map<String, VmSpec> specs) {
        List<CacheLending.Host> lenders = new ArrayList<>();
        for (HostRecord h : hosts) {
            Placement.HostCapacity c = capacities.get(h.name());
            lenders.add(new CacheLending.Host(h.name(), c.totalMiB(), c.usedMiB(), reserves.getOrDefault(h.name(), 0L),
                    h.acceptsVms()));
        }
        List<CacheLending.Tenant> tenants = new ArrayList<>();
        for (VmRecord v : vms.values()) {
            VmSpec spec = specs.get(v.name());
            if (spec == null || v.state() != VmState.RUNNING || v.host() == null || !capacities.containsKey(v.host()))
                continue;
            // An ignored VM is never touched, cache budgets included.
            if (spec.requestedState() == RequestedState.IGNORED || spec.cacheWeight() == 0) continue;
            tenants.add(new CacheLending.Tenant(v.name(), v.host(), spec.cacheWeight()));
        }
        return CacheLending.lend(lenders, tenants);
    }

    /** Each host's loan, everything computed from the records. */
    static Map<String, CacheLending.Loan> loans(ClusterPolicy policy, Collection<HostRecord> hosts,
            Map<String, VmRecord> vms, Map<String, VmSpec> specs) {
        Map<String, Placement.HostCapacity> capacities = Placement.capacities(hosts, vms, specs);
        return loans(hosts, capacities, reserves(policy, hosts, capacities), vms, specs);
    }

    /**
     * The cache {@code host} must take back before {@code vm} starts there, as the placement that sent it there
     * computed it: from the host as it was without the VM (used memory and loan).
     */
    static long reclaimBefore(ClusterPolicy policy, Collection<HostRecord> hosts, Map<String, VmRecord> vms,
            Map<String, VmSpec> specs, String vm, String host) {
        VmSpec spec = specs.get(vm);
        if (spec == null) return 0;
        Map<String, VmRecord> without = new TreeMap<>(vms);
        without.remove(vm);
        Map<String, Placement.HostCapacity> capacities = Placement.capacities(hosts, without, specs);
        Placement.HostCapacity c = capacities.get(host);
        if (c == null) return 0;
        CacheLending.Loan loan = loans(hosts, capacities, reserves(policy, hosts, capacities), without, specs)
                .getOrDefault(host, CacheLending.Loan.NONE);
        return CacheLending.reclaimMiB(spec.memoryMiB(), c.totalMiB(), c.usedMiB(), loan.lentMiB());
    }

    /** What the REST API shows of {@code host}'s cache: its loan and what its agent last reported. */
    static HostCache figures(HostRecord host, CacheLending.Loan loan) {
        Map<String, HostCache.VmCache> vms = new TreeMap<>();
        long cacheBytes = 0;
        long dirtyBytes = 0;
        for (VmReport r : host.inventory().vms()) {
            cacheBytes += Math.max(0, r.cacheBytes());
            dirtyBytes += Math.max(0, r.cacheDirtyBytes());
            if (r.cacheBytes() > 0 || r.cacheDirtyBytes() > 0 || loan.budgetsMiB().containsKey(r.name()))
                vms.put(r.name(), new HostCache.VmCache(loan.budgetsMiB().getOrDefault(r.name(), 0L),
                        HostCache.mib(r.cacheBytes()), HostCache.mib(r.cacheDirtyBytes())));
        }
        loan.budgetsMiB().forEach((vm, budget) -> vms.putIfAbsent(vm, new HostCache.VmCache(budget, 0, 0)));
        return new HostCache(loan.lentMiB(), HostCache.mib(cacheBytes), HostCache.mib(dirtyBytes), vms);
    }
}
