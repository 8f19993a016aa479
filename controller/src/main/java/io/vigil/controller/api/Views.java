package io.vigil.controller.api;

import io.vigil.controller.ha.ClusterEvent;
import io.vigil.controller.ha.RequestedState;
import io.vigil.controller.ha.HostState;
import io.vigil.controller.ha.HostStatus;
import io.vigil.controller.ha.Priority;
import io.vigil.controller.ha.VmSpec;
import io.vigil.controller.ha.VmState;
import io.vigil.controller.ha.VmStatus;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/** The JSON shapes of the REST resources (see openapi.yaml), built from the store's records. */
final class Views {
    private Views() {}

    record VmView(String name, String host, VmState state, RequestedState requestedState, Priority priority,
            boolean haEnabled, long generation, long memoryMiB, int vcpus, String lastError) {}

    record HostView(String name, HostState state, long generation, int cpus, long memoryTotalMiB, long memoryUsedMiB,
            long freeMiB, boolean connected, boolean storageOk, String lastHeartbeat, List<String> vms) {}

    record EventView(long sequence, String time, long timeMillis, String type, String host, String vm, String cause,
            String message, Map<String, Object> details) {}

    record Health(String status, String controller, boolean leader, int connectedAgents) {}

    /**
     * {@code status} is null until the HA core has looked at a new VM; it is then shown as starting or stopped
     * according to what was asked.
     */
    static VmView vm(VmSpec spec, VmStatus status) {
        if (status == null) {
            VmState state = switch (spec.requestedState()) {
                case STARTED -> VmState.STARTING;
                case STOPPED, DISABLED, IGNORED -> VmState.STOPPED;
                case DELETED -> VmState.DELETING;
            };
            return new VmView(spec.name(), null, state, spec.requestedState(), spec.priority(), spec.haEnabled(), 0,
                    spec.memoryMiB(), spec.vcpus(), null);
        }
        return new VmView(spec.name(), status.host(), status.state(), spec.requestedState(), spec.priority(), spec.haEnabled(),
                status.generation(), spec.memoryMiB(), spec.vcpus(), status.lastError());
    }

    static HostView host(HostStatus h) {
        String last = h.lastHeartbeatMillis() > 0 ? Instant.ofEpochMilli(h.lastHeartbeatMillis()).toString() : null;
        return new HostView(h.name(), h.state(), h.generation(), h.cpus(), h.memoryTotalMiB(), h.memoryUsedMiB(),
                Math.max(0, h.memoryTotalMiB() - h.memoryUsedMiB()), h.connected(), h.storageOk(), last,
                h.vms() == null ? List.of() : h.vms());
    }

    static EventView event(ClusterEvent e) {
        return new EventView(e.sequence(), Instant.ofEpochMilli(e.timeMillis()).toString(), e.timeMillis(), e.type(),
                e.host(), e.vm(), e.cause(), e.message(), e.details() == null ? Map.of() : e.details());
    }
}
