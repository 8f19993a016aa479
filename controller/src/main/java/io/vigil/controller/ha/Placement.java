package io.vigil.controller.ha;

import io.vigil.protocol.VmReport;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Where a VM may go: arithmetic over host capacity and the VM's rules, no decisions about when.
 *
 * <p>A host's used memory is the memory of the VMs the core has put on it (in any state where a QEMU process may
 * exist or is about to, including the target of a move in progress) plus every active domain it reports that the
 * core has not put there (unmanaged domains, stray copies being destroyed).
 *
 * <p>A host is allowed for a VM when it accepts VMs (connected, storage fine, not in maintenance or shutting down),
 * the VM's strict preferred hosts include it, no strict affinity or anti-affinity rule forbids it, it is not a
 * dedicated failover host (unless the VM is being failed over), and it has room. Among allowed hosts the best is, in
 * order: a dedicated failover host (for a failover), the highest preferred-host priority (unlisted hosts last),
 * fewest non-strict rules broken, fewest HA VMs, most free memory, then name.
 */
final class Placement {

    /** States in which a VM holds memory on its host. */
    static final Set<VmState> OCCUPYING = EnumSet.of(VmState.STARTING, VmState.RUNNING, VmState.RECOVERY,
            VmState.MIGRATING, VmState.STOPPING, VmState.DELETING);

    private Placement() {}

    record HostCapacity(String host, long totalMiB, long usedMiB, int haVms, long haMiB, int vcpus, List<String> vms) {
        long freeMiB() {
            return totalMiB - usedMiB;
        }

        HostCapacity plus(String vm, long memoryMiB, int vmVcpus, boolean ha) {
            List<String> next = new ArrayList<>(vms);
            next.add(vm);
            return new HostCapacity(host, totalMiB, usedMiB + memoryMiB, haVms + (ha ? 1 : 0),
                    haMiB + (ha ? memoryMiB : 0), vcpus + vmVcpus, List.copyOf(next));
        }
    }

    /** The capacity of each of {@code hosts}, in one pass over the VMs (a plan must not cost hosts x VMs). */
    static Map<String, HostCapacity> capacities(Collection<HostRecord> hosts, Map<String, VmRecord> vms,
            Map<String, VmSpec> specs) {
        final class Tally {
            long used;
            long haMiB;
            int ha;
            int vcpus;
            final List<String> mine = new ArrayList<>();
        }
        Map<String, Tally> tallies = new java.util.HashMap<>();
        for (HostRecord h : hosts) tallies.put(h.name(), new Tally());
        for (VmRecord v : vms.values()) {
            Tally here = v.host() != null && OCCUPYING.contains(v.state()) ? tallies.get(v.host()) : null;
            Tally incoming = v.moveTarget() != null ? tallies.get(v.moveTarget()) : null;
            if (here == null && incoming == null) continue;
            VmSpec spec = specs.get(v.name());
            if (here != null) here.mine.add(v.name());
            if (spec == null) continue;
            for (Tally t : incoming == here ? List.of(here) : java.util.Arrays.asList(here, incoming)) {
                if (t == null) continue;
                t.used += spec.memoryMiB();
                t.vcpus += spec.vcpus();
            }
            if (here != null && spec.restartable()) {
                here.ha++;
                here.haMiB += spec.memoryMiB();
            }
        }
        Map<String, HostCapacity> out = new java.util.TreeMap<>();
        for (HostRecord host : hosts) {
            Tally t = tallies.get(host.name());
            long used = t.used;
            Set<String> counted = new HashSet<>(t.mine);
            for (VmReport r : host.inventory().vms())
                if (r.state() != null && r.state().isActive() && !counted.contains(r.name())
                        && !host.name().equals(moveTargetOf(vms.get(r.name()))))
                    used += r.memoryMiB();
            out.put(host.name(), new HostCapacity(host.name(), host.inventory().memoryTotalMiB(), used, t.ha, t.haMiB,
                    t.vcpus, List.copyOf(t.mine)));
        }
        return out;
    }

    private static String moveTargetOf(VmRecord v) {
        return v == null ? null : v.moveTarget();
    }

    static boolean fits(HostCapacity host, long memoryMiB) {
        return host.freeMiB() >= memoryMiB;
    }

    /** The outcome of choosing a host: the host, or why none qualifies. */
    record Choice(String host, String whyNone) {}

    /**
     * The best host for {@code spec} among {@code hosts} (all accept VMs), never one in {@code excluded}.
     * {@code forced} (may be null) is the only host allowed, when set. {@code failover}: the VM restarts after a host
     * failure, so dedicated failover hosts are allowed and come first. {@code hostOf} tells where the other VMs are
     * (placements made earlier in this pass included).
     */
    static Choice choose(Collection<HostCapacity> hosts, VmSpec spec, Collection<String> excluded, String forced,
            boolean failover, ClusterPolicy policy, RuleBook rules, Function<String, String> hostOf) {
        HostCapacity best = null;
        long[] bestKey = null;
        int strictBlocked = 0;
        int noRoom = 0;
        int considered = 0;
        String ruleReason = null;
        for (HostCapacity h : hosts) {
            if (forced != null && !forced.equals(h.host())) continue;
            if (excluded.contains(h.host())) continue;
            boolean dedicated = policy.isFailoverHost(h.host());
            if (dedicated && !failover) continue;
            if (!spec.allowedOn(h.host())) continue;
            considered++;
            String conflict = rules.strictConflict(spec.name(), h.host(), hostOf);
            if (conflict != null) {
                strictBlocked++;
                if (ruleReason == null) ruleReason = conflict;
                continue;
            }
            if (!fits(h, spec.memoryMiB())) {
                noRoom++;
                continue;
            }
            int pref = spec.preference(h.host());
            long[] key = {dedicated ? 0 : 1, -(long) pref, rules.softConflicts(spec.name(), h.host(), hostOf), h.haVms(),
                    -h.freeMiB()};
            if (best == null || compare(key, bestKey) < 0 || compare(key, bestKey) == 0
                    && h.host().compareTo(best.host()) < 0) {
                best = h;
                bestKey = key;
            }
        }
        if (best != null) return new Choice(best.host(), null);
        if (considered == 0) {
            if (forced != null) return new Choice(null, "its host " + forced + " is not available");
            return new Choice(null, spec.strict() ? "none of its preferred hosts " + preferredNames(spec)
                    + " accepts VMs" : "no host accepts VMs");
        }
        if (strictBlocked == considered) return new Choice(null, ruleReason + " on every host it may use");
        return new Choice(null, "no host it may use has " + spec.memoryMiB() + " MiB free"
                + (ruleReason != null ? " (and the " + ruleReason + ")" : ""));
    }

    private static List<String> preferredNames(VmSpec spec) {
        return spec.preferredHosts().stream().map(HostPreference::host).toList();
    }

    private static int compare(long[] a, long[] b) {
        for (int i = 0; i < a.length; i++) if (a[i] != b[i]) return Long.compare(a[i], b[i]);
        return 0;
    }

    /** Placement order: highest priority first, ties by name. */
    static Comparator<VmSpec> order() {
        return Comparator.comparing(VmSpec::priority).thenComparing(VmSpec::name);
    }
}
