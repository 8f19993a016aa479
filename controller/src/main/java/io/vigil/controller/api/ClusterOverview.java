package io.vigil.controller.api;

import io.vigil.controller.ha.AdmissionControl;
import io.vigil.controller.ha.ClusterPolicy;
import io.vigil.controller.ha.ClusterView;
import io.vigil.controller.ha.FailoverReserve.HostLoad;
import io.vigil.controller.ha.HostStatus;
import io.vigil.controller.ha.VmSpec;
import io.vigil.controller.ha.VmState;
import io.vigil.controller.ha.VmStatus;
import io.vigil.controller.store.ClusterStore;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * {@code GET /api/v1/cluster}: the dashboard's overview in one read. Hosts and VMs counted by state, how many VMs
 * are protected, what admission control promises, how many host failures the cluster survives right now
 * ({@link #failuresTolerated}), and each host's memory split the way the dashboard's bar draws it.
 */
final class ClusterOverview {
    private final ClusterStore store;
    private final String controllerName;

    ClusterOverview(ClusterStore store, String controllerName) {
        this.store = store;
        this.controllerName = controllerName;
    }

    record Overview(String controller, boolean leader, long generatedAtMillis, HostCounts hosts, VmCounts vms,
            Memory memory, Admission admission, int failuresTolerated, String failuresToleratedDetail,
            List<HostMemory> hostMemory) {}

    /** {@code usable}: connected, storage fine, not in maintenance (may take VMs, counts as failover capacity). */
    record HostCounts(int total, int usable, Map<String, Integer> byState) {}

    /**
     * {@code protectedVms}: restartable (haEnabled, priority not disabled, requested started); of them running.
     * {@code byState}: by the state the VM list shows (a VM its host reports paused is paused, not running).
     */
    record VmCounts(int total, int running, int protectedVms, int protectedRunning, Map<String, Integer> byState) {}

    /** Sums over every host. */
    record Memory(long totalMiB, long usedMiB, long reserveMiB, long cacheLentMiB, long cacheDirtyMiB, long freeMiB) {}

    /**
     * The policy's promise: {@code promisedHostFailures} for host-failures and dedicated, {@code reservePercent} for
     * percentage, neither when off.
     */
    record Admission(AdmissionControl admissionControl, Integer promisedHostFailures, Integer reservePercent,
            List<String> failoverHosts) {}

    /**
     * One host's bar: {@code vmsMiB} used by VMs, {@code reserveMiB} kept for failover (of it {@code cacheLentMiB}
     * lent as disk cache, of that {@code cacheDirtyMiB} not yet written back), {@code freeMiB} the rest;
     * {@code haMiB} the memory of its restartable VMs.
     */
    record HostMemory(String name, String state, boolean maintenance, boolean connected, boolean usable, int vms,
            long totalMiB, long vmsMiB, long reserveMiB, long cacheLentMiB, long cacheMiB, long cacheDirtyMiB,
            long freeMiB, long haMiB) {}

    Overview get() {
        ClusterPolicy policy = store.policy().orElse(ClusterPolicy.DEFAULT);
        List<HostStatus> hostStatuses = store.hostStatuses().stream().sorted(Comparator.comparing(HostStatus::name))
                .toList();
        List<VmSpec> specs = store.specs();
        List<VmStatus> statuses = store.vmStatuses();
        List<HostLoad> loads = new ClusterView(policy, hostStatuses, specs, statuses, store.rules()).hostLoads();
        Map<String, HostLoad> loadByHost = loads.stream().collect(Collectors.toMap(HostLoad::host, Function.identity()));

        Map<String, Integer> hostsByState = new TreeMap<>();
        List<HostMemory> bars = new ArrayList<>();
        long total = 0, used = 0, reserve = 0, lent = 0, dirty = 0, free = 0;
        for (HostStatus h : hostStatuses) {
            hostsByState.merge(h.state().wireName(), 1, Integer::sum);
            HostLoad load = loadByHost.get(h.name());
            bars.add(new HostMemory(h.name(), h.state().wireName(), h.maintenance(), h.connected(), h.usable(),
                    h.vms() == null ? 0 : h.vms().size(), h.memoryTotalMiB(), h.memoryUsedMiB(), h.reserveMiB(),
                    h.cache().lentMiB(), h.cache().cacheMiB(), h.cache().dirtyMiB(), h.freeMiB(),
                    load == null ? 0 : load.haMiB()));
            total += h.memoryTotalMiB();
            used += h.memoryUsedMiB();
            reserve += h.reserveMiB();
            lent += h.cache().lentMiB();
            dirty += h.cache().dirtyMiB();
            free += h.freeMiB();
        }

        Map<String, VmStatus> statusByName = statuses.stream().collect(Collectors.toMap(VmStatus::name,
                Function.identity(), (a, b) -> a));
        Map<String, HostStatus> hostByName = hostStatuses.stream().collect(Collectors.toMap(HostStatus::name,
                Function.identity(), (a, b) -> a));
        Map<String, Integer> vmsByState = new TreeMap<>();
        int running = 0, protectedVms = 0, protectedRunning = 0;
        for (VmSpec s : specs) {
            VmStatus st = statusByName.get(s.name());
            // As the VM list shows it: a VM its host reports paused counts as paused, not running.
            String state = st == null ? "unknown" : Views.vm(s, st, Views.hostOf(st,
                    h -> Optional.ofNullable(hostByName.get(h)))).state();
            vmsByState.merge(state, 1, Integer::sum);
            boolean isRunning = VmState.RUNNING.wireName().equals(state);
            if (isRunning) running++;
            if (s.restartable()) {
                protectedVms++;
                if (isRunning) protectedRunning++;
            }
        }

        int tolerated = failuresTolerated(loads);
        int usable = (int) loads.stream().filter(HostLoad::usable).count();
        return new Overview(controllerName, store.isLocalLeader(), System.currentTimeMillis(),
                new HostCounts(hostStatuses.size(), usable, hostsByState),
                new VmCounts(specs.size(), running, protectedVms, protectedRunning, vmsByState),
                new Memory(total, used, reserve, lent, dirty, free), admission(policy), tolerated,
                toleratedDetail(tolerated, usable), bars);
    }

    static Admission admission(ClusterPolicy p) {
        return switch (p.admissionControl()) {
            case HOST_FAILURES -> new Admission(p.admissionControl(), p.hostFailuresToTolerate(), null, List.of());
            case DEDICATED -> new Admission(p.admissionControl(), p.hostFailuresToTolerate(), null, p.failoverHosts());
            case PERCENTAGE -> new Admission(p.admissionControl(), null, p.reservePercent(), List.of());
            case OFF -> new Admission(p.admissionControl(), null, null, List.of());
        };
    }

    /**
     * How many host failures the cluster survives right now with every HA VM restarted: the largest N (at most the
     * usable hosts less one) such that for every set S of N usable hosts, the HA memory of S fits in the memory the
     * other usable hosts do not use ({@code total - used}: the failover reserve is there for exactly this, and
     * failover placement does not hold it back). With {@code room(h) = total(h) - used(h)}, that is
     * {@code HA(S) <= sum(room) - room(S)} for every S, i.e. the N largest {@code HA(h) + room(h)} add up to at most
     * {@code sum(room)}: an exact test over all sets, computed from the current placement, whatever the policy
     * promises. It counts memory in aggregate: it does not check how single VMs pack onto the survivors, nor
     * placement rules or strict host preferences, so it is an upper bound when those constrain placement. Hosts that
     * are not usable (failed, offline, in maintenance) count neither as capacity nor as hosts that could fail.
     */
    static int failuresTolerated(List<HostLoad> loads) {
        List<HostLoad> usable = loads.stream().filter(HostLoad::usable).toList();
        if (usable.size() <= 1) return 0;
        long room = 0;
        List<Long> cost = new ArrayList<>();
        for (HostLoad h : usable) {
            long r = Math.max(0, h.totalMiB() - h.usedMiB());
            room += r;
            cost.add(h.haMiB() + r);
        }
        cost.sort(Comparator.reverseOrder());
        int n = 0;
        long lost = 0;
        while (n < usable.size() - 1 && lost + cost.get(n) <= room) lost += cost.get(n++);
        return n;
    }

    private static String toleratedDetail(int tolerated, int usable) {
        if (usable == 0) return "no usable host: nothing can be restarted";
        if (usable == 1) return "one usable host: if it fails, no host is left to restart its VMs";
        if (tolerated == 0)
            return "if the host whose loss costs most failed, the other usable hosts would lack the memory to restart "
                    + "its HA VMs";
        return "any " + tolerated + " of the " + usable + " usable hosts may fail and the others have the memory to "
                + "restart all their HA VMs (memory in aggregate; placement rules and strict preferences not counted)";
    }
}
