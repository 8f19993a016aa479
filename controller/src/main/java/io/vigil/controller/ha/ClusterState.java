package io.vigil.controller.ha;

import java.util.Collection;
import java.util.Map;

/**
 * The core's whole state. Immutable: {@link HaCore#step} returns a new one. (Stub signature; the core fills it in.)
 */
public final class ClusterState {
    public static ClusterState initial(ClusterPolicy policy) {
        throw new UnsupportedOperationException("not yet");
    }

    /**
     * Rebuilds the state after a controller restart from what the store kept, so the core resumes where it was
     * (level-triggered: agents' next heartbeats fill in the observed state).
     */
    public static ClusterState restore(ClusterPolicy policy, Collection<VmSpec> specs, Collection<VmStatus> vms,
            Collection<HostStatus> hosts) {
        throw new UnsupportedOperationException("not yet");
    }

    public ClusterPolicy policy() {
        throw new UnsupportedOperationException("not yet");
    }

    public Map<String, VmSpec> specs() {
        throw new UnsupportedOperationException("not yet");
    }

    public Map<String, VmStatus> vmStatuses() {
        throw new UnsupportedOperationException("not yet");
    }

    public Map<String, HostStatus> hostStatuses() {
        throw new UnsupportedOperationException("not yet");
    }
}
