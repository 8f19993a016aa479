package io.vigil.controller.cache;

import java.util.Collection;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * The lending rule. The memory a host keeps free for failover (its reserve, sized by admission control) is idle until
 * a failover needs it, so the host lends it to its VMs as disk cache and takes it back when VMs arrive:
 *
 * <ul>
 *   <li>A host's pool is {@code min(reserve, max(0, total - used))}, where used is the memory of the VMs it holds
 *       (running or starting there, and domains it runs unmanaged): never memory a VM holds, never more than the
 *       reserve. A host that does not take VMs (failed, offline, in maintenance, shutting down) lends nothing.</li>
 *   <li>The pool is divided among the VMs running on the host with {@code cacheWeight > 0}, in proportion to their
 *       weights, each share rounded down to a MiB. The host lends the sum of the shares (nothing when no VM takes
 *       cache).</li>
 *   <li>A VM starting on a host needs its memory free of cache: the host gives back
 *       {@code max(0, memory - (total - used - lent))} before it starts the VM, the part of the VM's memory that the
 *       memory neither used by VMs nor lent cannot cover.</li>
 * </ul>
 */
public final class CacheLending {
    private CacheLending() {}

    /** A host as the rule sees it. {@code lends}: it takes VMs, so its reserve may be lent. */
    public record Host(String name, long totalMiB, long usedMiB, long reserveMiB, boolean lends) {}

    /** A VM running on {@code host}, with its {@code cacheWeight}. */
    public record Tenant(String vm, String host, int weight) {}

    /** What one host lends: {@code lentMiB}, the sum of {@code budgetsMiB}, each of its VMs' share by name. */
    public record Loan(long lentMiB, Map<String, Long> budgetsMiB) {
        public static final Loan NONE = new Loan(0, Map.of());

        public Loan {
            budgetsMiB = Collections.unmodifiableMap(new TreeMap<>(budgetsMiB));
        }
    }

    /** The memory {@code host} may lend: its reserve, as far as VMs do not use it. */
    public static long pool(Host host) {
        if (!host.lends()) return 0;
        return Math.max(0, Math.min(host.reserveMiB(), host.totalMiB() - host.usedMiB()));
    }

    /** {@code poolMiB} shared in proportion to {@code weights} (by VM), each share rounded down; weight 0 gets none. */
    public static Map<String, Long> share(long poolMiB, Map<String, Integer> weights) {
        long total = 0;
        for (int w : weights.values()) if (w > 0) total += w;
        Map<String, Long> out = new TreeMap<>();
        if (total == 0 || poolMiB <= 0) return out;
        for (Map.Entry<String, Integer> e : weights.entrySet())
            if (e.getValue() > 0) out.put(e.getKey(), Math.multiplyExact(poolMiB, (long) e.getValue()) / total);
        return out;
    }

    /** Each host's loan, by host name; a host without VMs that take cache lends nothing. */
    public static Map<String, Loan> lend(Collection<Host> hosts, Collection<Tenant> tenants) {
        Map<String, Map<String, Integer>> weights = new TreeMap<>();
        for (Tenant t : tenants) weights.computeIfAbsent(t.host(), h -> new TreeMap<>()).put(t.vm(), t.weight());
        Map<String, Loan> out = new TreeMap<>();
        for (Host h : hosts) {
            Map<String, Long> budgets = share(pool(h), weights.getOrDefault(h.name(), Map.of()));
            long lent = budgets.values().stream().mapToLong(Long::longValue).sum();
            out.put(h.name(), budgets.isEmpty() ? Loan.NONE : new Loan(lent, budgets));
        }
        return out;
    }

    /**
     * How much cache a host with {@code totalMiB}, {@code usedMiB} held by VMs (without the one starting) and
     * {@code lentMiB} lent must give back before a VM of {@code vmMemoryMiB} starts there.
     */
    public static long reclaimMiB(long vmMemoryMiB, long totalMiB, long usedMiB, long lentMiB) {
        long uncovered = vmMemoryMiB - Math.max(0, totalMiB - usedMiB - lentMiB);
        return Math.max(0, Math.min(uncovered, lentMiB));
    }
}
