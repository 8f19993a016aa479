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
import io.vigil.protocol.VmPowerState;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/** The JSON shapes of the REST resources (see openapi.yaml), built from the store's records. */
final class Views {
    private Views() {}

    /**
     * A VM: what the core reports (host, state, generation, lastError) as its host's agent qualifies it
     * ({@link ShownState}: state, stateReason, lastError), then its spec's fields. {@code state} is a
     * {@link VmState} wire name, or {@value #PAUSED}.
     */
    record VmView(String name, String host, String state, String stateReason, RequestedState requestedState,
            Priority priority, boolean haEnabled, long generation, long memoryMiB, int vcpus, String lastError,
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

    /** The state shown for a VM the core has running on a host whose agent reports it paused. */
    static final String PAUSED = "paused";

    /**
     * How a VM is shown: its state, libvirt's reason for it, and its last error. The core's word, except that a VM
     * the core has running whose host's agent reports it paused is shown {@value #PAUSED}, with the agent's problem
     * (or libvirt's reason) as its last error: the core rightly leaves it alone (it still runs there, and restarting
     * it elsewhere would not cure a disk it cannot reach), but the operator must see it is not running the guest.
     * Once the agent reports it running again, the core's word stands again.
     */
    record ShownState(String state, String stateReason, String lastError) {
        static ShownState of(VmStatus status, HostStatus.Reported reported) {
            String state = status.state().wireName();
            if (reported == null) return new ShownState(state, null, status.lastError());
            if (status.state() == VmState.RUNNING && reported.state() == VmPowerState.PAUSED) {
                return new ShownState(PAUSED, reported.stateReason(), reported.problem() != null ? reported.problem()
                        : "paused by libvirt (reason: " + (reported.stateReason() == null ? "unknown"
                                : reported.stateReason()) + ")");
            }
            return new ShownState(state, reported.stateReason(),
                    status.lastError() != null ? status.lastError() : reported.problem());
        }
    }

    /**
     * {@code status} is null until the HA core has looked at a new VM; it is then shown as starting or stopped
     * according to what was asked. {@code host}: the status of the host it is on (null when none), for its cache
     * figures and what its agent reports of it.
     */
    static VmView vm(VmSpec spec, VmStatus status, HostStatus host) {
        String hostName = null;
        ShownState shown;
        long generation = 0;
        if (status == null) {
            VmState expected = switch (spec.requestedState()) {
                case STARTED -> VmState.STARTING;
                case STOPPED, DISABLED, IGNORED -> VmState.STOPPED;
                case DELETED -> VmState.DELETING;
            };
            shown = new ShownState(expected.wireName(), null, null);
        } else {
            hostName = status.host();
            generation = status.generation();
            shown = ShownState.of(status, host == null ? null : host.reported().get(spec.name()));
        }
        HostCache.VmCache cache = host == null ? HostCache.VmCache.NONE : host.cache().vm(spec.name());
        return new VmView(spec.name(), hostName, shown.state(), shown.stateReason(), spec.requestedState(),
                spec.priority(), spec.haEnabled(), generation, spec.memoryMiB(), spec.vcpus(), shown.lastError(),
                spec.preferredHosts(), spec.strict(), spec.startAfter(), spec.startAfterTimeoutSeconds(),
                spec.maxRestarts(), spec.maxRelocations(), spec.failback(), spec.cacheMode(), spec.cacheWeight(),
                cache.budgetMiB(), cache.cacheMiB(), cache.dirtyMiB());
    }

    /** The status of the host {@code status} is on, or null when it is on none (or the host is unknown). */
    static HostStatus hostOf(VmStatus status, Function<String, Optional<HostStatus>> hosts) {
        if (status == null || status.host() == null) return null;
        return hosts.apply(status.host()).orElse(null);
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
