package io.vigil.controller.ha;

import io.vigil.controller.cache.HostCache;
import java.util.List;

/**
 * A host as the core reports it: state, generation of its storage lease, capacity, and the VMs it runs.
 * {@code memoryUsedMiB} is the memory of the VMs the controller has placed on it (plus unmanaged domains it reports);
 * {@code reserveMiB} the memory it keeps free for failover ({@link FailoverReserve}); {@code maintenance} whether the
 * operator put it in maintenance; {@code cache} what it lends of that reserve as disk cache and what its VMs' caches
 * hold ({@link io.vigil.controller.cache.CacheLending}).
 */
public record HostStatus(String name, HostState state, long generation, int cpus, long memoryTotalMiB,
        long memoryUsedMiB, boolean connected, boolean storageOk, List<String> vms, long lastHeartbeatMillis,
        long stateSinceMillis, boolean maintenance, long reserveMiB, HostCache cache) {

    public HostStatus {
        if (cache == null) cache = HostCache.NONE;
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
