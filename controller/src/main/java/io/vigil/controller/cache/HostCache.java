package io.vigil.controller.cache;

import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * A host's disk cache as the REST API shows it: what it lends by the rule ({@code lentMiB}), what its agent last
 * reported its VMs' caches hold ({@code cacheMiB}) and how much of that is not yet written back
 * ({@code dirtyMiB}), and the same per VM running there.
 */
public record HostCache(long lentMiB, long cacheMiB, long dirtyMiB, Map<String, VmCache> vms) {
    public static final HostCache NONE = new HostCache(0, 0, 0, Map.of());

    public HostCache {
        vms = vms == null ? Map.of() : Collections.unmodifiableMap(new TreeMap<>(vms));
    }

    /** One VM's cache: its budget by the rule, and what its host's agent last reported. */
    public record VmCache(long budgetMiB, long cacheMiB, long dirtyMiB) {
        public static final VmCache NONE = new VmCache(0, 0, 0);
    }

    /** {@code vm}'s figures, zero when it has none here. */
    public VmCache vm(String vm) {
        return vms.getOrDefault(vm, VmCache.NONE);
    }

    /** Bytes as whole MiB, rounded down. */
    public static long mib(long bytes) {
        return Math.max(0, bytes) >> 20;
    }
}
