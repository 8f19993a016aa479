package io.vigil.controller.api;

import io.vigil.controller.cache.HostCache;
import io.vigil.protocol.CacheMode;
import io.vigil.controller.ha.ClusterEvent;
import io.vigil.controller.ha.HostPreference;
import io.vigil.controller.ha.HostState;
import io.vigil.controller.ha.HostStatus;
import io.vigil.controller.ha.Priority;
import io.vigil.controller.ha.RequestedState;
import io.vigil.controller.ha.VmSpec;
import io.vigil.controller.ha.VmState;
import io.vigil.controller.ha.VmStatus;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/** The JSON shapes of the REST resources (see openapi.yaml), built from the store's records. */
final class Views {
    private Views() {}

    /** A VM: what the core reports (host, state, generation, lastError), then its spec's fields. */
    record VmView(String name, String host, VmState state, RequestedState requestedState, Priority priority,
            boolean haEnabled, long generation, long memoryMiB, int vcpus, String lastError,
            List<HostPreference> preferredHosts, boolean strict, List<String> startAfter, int startAfterTimeoutSeconds,
            int maxRestarts, int maxRelocations, boolean failback, CacheMode cacheMode, int cacheWeight,
            long cacheBudgetMiB, long cacheMiB, long cacheDirtyMiB) {}

    /**
     * A host. {@code cacheLentMiB}: the part of its failover reserve it lends its VMs as disk cache;
     * {@code cacheMiB}, {@code cacheDirtyMiB}: what its VMs' caches hold and how much is not yet written back, as its
     * agent last reported.
     */
    record HostView(String name, HostState state, long generation, int cpus, long memoryTotalMiB, long memoryUsedMiB,
            long reserveMiB, long freeMiB, long cacheLentMiB, long cacheMiB, long cacheDirtyMiB, boolean maintenance,
            boolean connected, boolean storageOk, String lastHeartbeat, List<String> vms) {}

    record EventView(long sequence, String time, long timeMillis, String type, String host, String vm, String cause,
            String message, Map<String, Object> details) {}

    record Health(String status, String controller, boolean leader, int connectedAgents) {}

    /** An accepted maintenance request (202): the host's {@code maintenance} follows once the HA core acted on it. */
    record MaintenanceAccepted(String host, boolean enabled) {}

    /** An accepted migrate or relocate request (202): the VM's state and host follow as the HA core moves it. */
    record MoveAccepted(String vm, String from, String target, String kind) {}

    /**
     * {@code status} is null until the HA core has looked at a new VM; it is then shown as starting or stopped
     * according to what was asked. {@code cache}: its cache figures on the host it is on (zero when none).
     */
    static VmView vm(VmSpec spec, VmStatus status, HostCache.VmCache cache) {
        String host = null;
        VmState state;
        long generation = 0;
        String lastError = null;
        if (status == null) {
            state = switch (spec.requestedState()) {
                case STARTED -> VmState.STARTING;
                case STOPPED, DISABLED, IGNORED -> VmState.STOPPED;
                case DELETED -> VmState.DELETING;
            };
        } else {
            host = status.host();
            state = status.state();
            generation = status.generation();
            lastError = status.lastError();
        }
        return new VmView(spec.name(), host, state, spec.requestedState(), spec.priority(), spec.haEnabled(),
                generation, spec.memoryMiB(), spec.vcpus(), lastError, spec.preferredHosts(), spec.strict(),
                spec.startAfter(), spec.startAfterTimeoutSeconds(), spec.maxRestarts(), spec.maxRelocations(),
                spec.failback(), spec.cacheMode(), spec.cacheWeight(), cache.budgetMiB(), cache.cacheMiB(),
                cache.dirtyMiB());
    }

    /** {@code status}'s cache figures on its host, as that host's status shows them. */
    static HostCache.VmCache cacheOf(VmStatus status, Function<String, Optional<HostStatus>> hosts) {
        if (status == null || status.host() == null) return HostCache.VmCache.NONE;
        return hosts.apply(status.host()).map(h -> h.cache().vm(status.name())).orElse(HostCache.VmCache.NONE);
    }

    static HostView host(HostStatus h) {
        String last = h.lastHeartbeatMillis() > 0 ? Instant.ofEpochMilli(h.lastHeartbeatMillis()).toString() : null;
        return new HostView(h.name(), h.state(), h.generation(), h.cpus(), h.memoryTotalMiB(), h.memoryUsedMiB(),
                h.reserveMiB(), h.freeMiB(), h.cache().lentMiB(), h.cache().cacheMiB(), h.cache().dirtyMiB(),
                h.maintenance(), h.connected(), h.storageOk(), last,
                h.vms() == null ? List.of() : h.vms());
    }

    static EventView event(ClusterEvent e) {
        return new EventView(e.sequence(), Instant.ofEpochMilli(e.timeMillis()).toString(), e.timeMillis(), e.type(),
                e.host(), e.vm(), e.cause(), e.message(), e.details() == null ? Map.of() : e.details());
    }

    /** Who the caller is: GET /whoami. */
    public record Whoami(String name, String role, String tokenId, String kind, Long expiresAtMillis) {}

    static Whoami whoami(io.vigil.controller.auth.Principal p, Long expiresAtMillis) {
        return new Whoami(p.name(), p.role().wireName(), p.tokenId(), p.kind(), expiresAtMillis);
    }
}
