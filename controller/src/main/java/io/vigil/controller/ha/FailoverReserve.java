package io.vigil.controller.ha;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The failover reserve: how much memory each host keeps free so that the cluster can absorb the failures admission
 * control promises, and whether an HA VM may be admitted. Pure arithmetic over {@link HostLoad}s. The rule, per
 * admission control mode, over the usable hosts (connected, storage fine, not in maintenance):
 *
 * <ul>
 *   <li><b>host-failures</b> (tolerate N = min(hostFailuresToTolerate, usable hosts) failures): let D be the sum of
 *       the N largest per-host HA memories (memory of the restartable VMs on a host) and C the smallest capacity N
 *       failures can leave (total memory less the N largest host totals). Each host reserves
 *       {@code ceil(D * total(h) / C)}, capped at its total. Then for any N failed hosts, the survivors' reserves add
 *       up to at least {@code D * C' / C >= D}, which covers the HA VMs of the failed hosts. Equal hosts reserve D/(H-N)
 *       each, the least that works. If no host would survive (C = 0), every host reserves all its memory.</li>
 *   <li><b>percentage</b>: each host reserves {@code ceil(total(h) * reservePercent / 100)}.</li>
 *   <li><b>dedicated</b>: each failover host reserves all its memory, other hosts nothing.</li>
 *   <li><b>off</b>: nothing.</li>
 * </ul>
 *
 * <p>Admission of an HA VM of M MiB: host-failures admits it when some host it may run on has
 * {@code total - used - reserve >= 0} for every host after the VM is counted there and the reserves recomputed;
 * percentage when cluster-wide used memory (and vCPUs) plus the VM's stay within {@code 100 - reservePercent}% of the
 * cluster's memory (and CPUs); dedicated when it fits on a non-failover host and the failover hosts can hold the HA
 * VMs of the N non-failover hosts with the most HA memory. Otherwise the refusal says how much is missing.
 */
public final class FailoverReserve {
    private FailoverReserve() {}

    /**
     * One host's figures. {@code usable}: it may take VMs and counts as capacity; {@code allowed}: the VM being admitted
     * may run there (its strict preferences), only read by {@link #admit}.
     */
    public record HostLoad(String host, long totalMiB, long usedMiB, long haMiB, int cpus, int vcpusUsed,
            boolean usable) {
        HostLoad plus(long memoryMiB, int vcpus) {
            return new HostLoad(host, totalMiB, usedMiB + memoryMiB, haMiB + memoryMiB, cpus, vcpusUsed + vcpus, usable);
        }
    }

    /** The outcome of an admission check: {@code host} is where it would fit (may be null when not host-specific). */
    public record Admission(boolean admitted, long missingMiB, int missingCpus, String host, String reason) {
        static Admission yes(String host, String why) {
            return new Admission(true, 0, 0, host, why);
        }
    }

    /** Each usable host's reserve in MiB (hosts that are not usable reserve nothing). */
    public static Map<String, Long> reserves(ClusterPolicy policy, List<HostLoad> hosts) {
        Map<String, Long> out = new HashMap<>();
        List<HostLoad> usable = hosts.stream().filter(HostLoad::usable).toList();
        for (HostLoad h : hosts) out.put(h.host(), 0L);
        switch (policy.admissionControl()) {
            case OFF -> { }
            case PERCENTAGE -> {
                for (HostLoad h : usable) out.put(h.host(), ceilDiv(h.totalMiB() * policy.reservePercent(), 100));
            }
            case DEDICATED -> {
                for (HostLoad h : usable) if (policy.failoverHosts().contains(h.host())) out.put(h.host(), h.totalMiB());
            }
            case HOST_FAILURES -> {
                int n = Math.min(policy.hostFailuresToTolerate(), usable.size());
                if (n == 0) break;
                long demand = largest(usable.stream().map(HostLoad::haMiB).toList(), n);
                long total = usable.stream().mapToLong(HostLoad::totalMiB).sum();
                long survivors = total - largest(usable.stream().map(HostLoad::totalMiB).toList(), n);
                for (HostLoad h : usable)
                    out.put(h.host(), survivors <= 0 ? h.totalMiB()
                            : Math.min(h.totalMiB(), ceilDiv(demand * h.totalMiB(), survivors)));
            }
        }
        return out;
    }

    /**
     * Whether an HA VM of {@code memoryMiB} and {@code vcpus} may start. {@code hosts} holds the cluster without this
     * VM; {@code candidates} are the hosts it may run on (its current host only, if it already runs).
     */
    public static Admission admit(ClusterPolicy policy, List<HostLoad> hosts, List<String> candidates, long memoryMiB,
            int vcpus) {
        List<HostLoad> usable = hosts.stream().filter(HostLoad::usable).toList();
        List<HostLoad> targets = usable.stream().filter(h -> candidates.contains(h.host()))
                .filter(h -> !policy.isFailoverHost(h.host())).toList();
        switch (policy.admissionControl()) {
            case OFF -> {
                return Admission.yes(null, "admission control is off");
            }
            case PERCENTAGE -> {
                long total = usable.stream().mapToLong(HostLoad::totalMiB).sum();
                long used = usable.stream().mapToLong(HostLoad::usedMiB).sum();
                int cpus = usable.stream().mapToInt(HostLoad::cpus).sum();
                int vcpusUsed = usable.stream().mapToInt(HostLoad::vcpusUsed).sum();
                long allowedMiB = total * (100 - policy.reservePercent()) / 100;
                int allowedCpus = cpus * (100 - policy.reservePercent()) / 100;
                long missing = Math.max(0, used + memoryMiB - allowedMiB);
                int missingCpus = Math.max(0, vcpusUsed + vcpus - allowedCpus);
                if (missing == 0 && missingCpus == 0)
                    return Admission.yes(null, "the cluster keeps " + policy.reservePercent() + "% free");
                return new Admission(false, missing, missingCpus, null, "admission control (percentage) keeps "
                        + policy.reservePercent() + "% of the cluster free: " + (used + memoryMiB) + " MiB of "
                        + allowedMiB + " MiB usable and " + (vcpusUsed + vcpus) + " of " + allowedCpus
                        + " CPUs would be used; missing " + missing + " MiB and " + missingCpus + " CPU(s)");
            }
            case DEDICATED -> {
                int n = policy.hostFailuresToTolerate();
                long failoverCapacity = usable.stream().filter(h -> policy.failoverHosts().contains(h.host()))
                        .mapToLong(HostLoad::totalMiB).sum();
                long bestMissing = Long.MAX_VALUE;
                String best = null;
                for (HostLoad t : targets) {
                    long room = t.totalMiB() - t.usedMiB() - memoryMiB;
                    List<Long> ha = new ArrayList<>();
                    for (HostLoad h : usable)
                        if (!policy.failoverHosts().contains(h.host()))
                            ha.add(h.host().equals(t.host()) ? h.haMiB() + memoryMiB : h.haMiB());
                    long missing = Math.max(0, -room) + Math.max(0, largest(ha, Math.min(n, ha.size())) - failoverCapacity);
                    if (missing < bestMissing) {
                        bestMissing = missing;
                        best = t.host();
                    }
                }
                if (best != null && bestMissing == 0)
                    return Admission.yes(best, "the failover hosts " + policy.failoverHosts() + " can hold it");
                return refuse(bestMissing, targets.isEmpty(), "admission control (dedicated) keeps the failover hosts "
                        + policy.failoverHosts() + " (" + failoverCapacity + " MiB) for the HA VMs of the " + n
                        + " busiest other host(s)");
            }
            case HOST_FAILURES -> {
                int n = Math.min(policy.hostFailuresToTolerate(), usable.size());
                long bestMissing = Long.MAX_VALUE;
                String best = null;
                for (HostLoad t : targets.stream().sorted(Comparator.comparing(HostLoad::host)).toList()) {
                    List<HostLoad> after = new ArrayList<>();
                    for (HostLoad h : usable) after.add(h.host().equals(t.host()) ? h.plus(memoryMiB, vcpus) : h);
                    Map<String, Long> reserve = reserves(policy, after);
                    long missing = 0;
                    for (HostLoad h : after)
                        missing += Math.max(0, h.usedMiB() + reserve.get(h.host()) - h.totalMiB());
                    if (missing < bestMissing) {
                        bestMissing = missing;
                        best = t.host();
                    }
                }
                if (best != null && bestMissing == 0)
                    return Admission.yes(best, "the cluster still tolerates " + n + " host failure(s)");
                if (usable.size() <= policy.hostFailuresToTolerate())
                    return new Admission(false, memoryMiB, 0, null, "admission control (host-failures) tolerates "
                            + policy.hostFailuresToTolerate() + " host failure(s) but only " + usable.size()
                            + " host(s) are usable: no host would survive to restart it");
                return refuse(bestMissing, targets.isEmpty(), "admission control (host-failures) keeps room to restart the HA VMs of "
                        + n + " failed host(s)");
            }
        }
        throw new IllegalStateException("unknown admission control " + policy.admissionControl());
    }

    private static Admission refuse(long missing, boolean noTarget, String rule) {
        if (noTarget) return new Admission(false, 0, 0, null, rule + "; no usable host may run this VM");
        return new Admission(false, missing, 0, null, rule + "; starting this VM would leave "
                + missing + " MiB missing from the failover reserve");
    }

    /** Sum of the {@code n} largest values. */
    static long largest(List<Long> values, int n) {
        if (n <= 0) return 0;
        List<Long> sorted = new ArrayList<>(values);
        sorted.sort(Comparator.reverseOrder());
        long sum = 0;
        for (int i = 0; i < n && i < sorted.size(); i++) sum += sorted.get(i);
        return sum;
    }

    static long ceilDiv(long a, long b) {
        return b <= 0 ? 0 : -Math.floorDiv(-a, b);
    }
}
