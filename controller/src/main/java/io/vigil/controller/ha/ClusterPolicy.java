package io.vigil.controller.ha;

import io.vigil.protocol.AgentPolicy;
import io.vigil.protocol.IsolationResponse;

/**
 * The cluster-wide HA policy. Timing defaults give a failover of a few seconds: a host is declared failed after
 * {@code failureTimeoutSeconds} without network and storage heartbeats, and its VMs may restart once its storage
 * lease has been unchanged for {@code leaseTimeoutSeconds} (which bounds failover from below).
 */
public record ClusterPolicy(int heartbeatIntervalSeconds, int failureTimeoutSeconds, int leaseTimeoutSeconds,
        IsolationResponse isolationResponse) {

    public static final ClusterPolicy DEFAULT = new ClusterPolicy(1, 3, 4, IsolationResponse.NONE);

    /** Throws {@link IllegalArgumentException} naming the field when the policy is inconsistent. */
    public ClusterPolicy {
        if (heartbeatIntervalSeconds < 1 || heartbeatIntervalSeconds > 60)
            throw new IllegalArgumentException("heartbeatIntervalSeconds must be between 1 and 60");
        if (failureTimeoutSeconds < 2 * heartbeatIntervalSeconds)
            throw new IllegalArgumentException("failureTimeoutSeconds must be at least twice heartbeatIntervalSeconds");
        if (leaseTimeoutSeconds < 3 * heartbeatIntervalSeconds)
            throw new IllegalArgumentException("leaseTimeoutSeconds must be at least three times heartbeatIntervalSeconds");
        if (leaseTimeoutSeconds > 600) throw new IllegalArgumentException("leaseTimeoutSeconds must be at most 600");
        if (isolationResponse == null) throw new IllegalArgumentException("isolationResponse is required");
    }

    public AgentPolicy agentPolicy() {
        return new AgentPolicy(heartbeatIntervalSeconds * 1000L, leaseTimeoutSeconds * 1000L, isolationResponse);
    }
}
