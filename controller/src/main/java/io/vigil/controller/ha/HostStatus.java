package io.vigil.controller.ha;

import io.vigil.controller.cache.HostCache;
import io.vigil.protocol.VmPowerState;
import io.vigil.protocol.VmReport;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A host as the core reports it: state, generation of its storage lease, capacity, and the VMs it runs.
 * {@code memoryUsedMiB} is the memory of the VMs the controller has placed on it (plus unmanaged domains it reports);
 * {@code reserveMiB} the memory it keeps free for failover ({@link FailoverReserve}); {@code maintenance} whether the
 * operator put it in maintenance; {@code cache} what it lends of that reserve as disk cache and what its VMs' caches
 * hold ({@link io.vigil.controller.cache.CacheLending}); {@code reported} what its agent last said of the domains whose
 * state needs explaining ({@link Reported#worthShowing}), by VM name: the REST view shows a paused VM from it.
 */
public record HostStatus(String name, HostState state, long generation, int cpus, long memoryTotalMiB,
        long memoryUsedMiB, boolean connected, boolean storageOk, List<String> vms, long lastHeartbeatMillis,
        long stateSinceMillis, boolean maintenance, long reserveMiB, HostCache cache, Map<String, Reported> reported) {

    public HostStatus {
        if (cache == null) cache = HostCache.NONE;
        reported = reported == null ? Map.of() : Collections.unmodifiableMap(new TreeMap<>(reported));
    }

    /**
     * One domain as the host's agent reported it: libvirt's power state, libvirt's reason for it ({@code stateReason},
     * e.g. ioerror for a pause) and what the agent found wrong and could not fix ({@code problem}); both may be null.
     * Observed truth for people to read: the HA core does not act on it (a paused VM still runs on its host).
     */
    public record Reported(VmPowerState state, String stateReason, String problem) {

        /** Whether {@code report} says more than that the domain runs or is off: paused, a reason, or a problem. */
        static boolean worthShowing(VmReport report) {
            return report.state() == VmPowerState.PAUSED || report.stateReason() != null || report.problem() != null;
        }

        /** The reports among {@code reports} worth showing, by VM name. */
        static Map<String, Reported> of(List<VmReport> reports) {
            Map<String, Reported> out = new TreeMap<>();
            for (VmReport r : reports)
                if (worthShowing(r)) out.put(r.name(), new Reported(r.state(), r.stateReason(), r.problem()));
            return out;
        }
    }

    public HostStatus(String name, HostState state, long generation, int cpus, long memoryTotalMiB, long memoryUsedMiB,
            boolean connected, boolean storageOk, List<String> vms, long lastHeartbeatMillis, long stateSinceMillis,
            boolean maintenance, long reserveMiB, HostCache cache) {
        this(name, state, generation, cpus, memoryTotalMiB, memoryUsedMiB, connected, storageOk, vms,
                lastHeartbeatMillis, stateSinceMillis, maintenance, reserveMiB, cache, Map.of());
    }

    public HostStatus(String name, HostState state, long generation, int cpus, long memoryTotalMiB, long memoryUsedMiB,
            boolean connected, boolean storageOk, List<String> vms, long lastHeartbeatMillis, long stateSinceMillis,
            boolean maintenance, long reserveMiB) {
        this(name, state, generation, cpus, memoryTotalMiB, memoryUsedMiB, connected, storageOk, vms,
                lastHeartbeatMillis, stateSinceMillis, maintenance, reserveMiB, HostCache.NONE);
    }

    public HostStatus(String name, HostState state, long generation, int cpus, long memoryTotalMiB, long memoryUsedMiB,
            boolean connected, boolean storageOk, List<String> vms, long lastHeartbeatMillis, long stateSinceMillis) {
        this(name, state, generation, cpus, memoryTotalMiB, memoryUsedMiB, connected, storageOk, vms,
                lastHeartbeatMillis, stateSinceMillis, false, 0);
    }

    /** Memory a new VM may use here: total less used less the failover reserve (never below zero). */
    public long freeMiB() {
        return Math.max(0, memoryTotalMiB - memoryUsedMiB - reserveMiB);
    }

    /** Whether new VMs may be placed here: connected, heard, storage fine, not in maintenance. */
    public boolean usable() {
        return state == HostState.CONNECTED && connected && storageOk && !maintenance;
    }
}
