package io.vigil.controller.ha;

import io.vigil.protocol.AgentPolicy;
import io.vigil.protocol.IsolationResponse;
import java.util.LinkedHashSet;
import java.util.List;

/**
 * The cluster-wide HA policy.
 *
 * <p>Timing: a host is declared failed after {@code failureTimeoutSeconds} without network and storage heartbeats,
 * and its VMs may restart once its storage lease has been unchanged for {@code leaseTimeoutSeconds} (which bounds
 * failover from below). A host that comes back within {@code rejoinGraceSeconds} of being declared failed gets its
 * VMs back in place: their restarts elsewhere are held that long.
 *
 * <p>Capacity: {@code admissionControl} with {@code hostFailuresToTolerate}, {@code reservePercent} and
 * {@code failoverHosts} decides how much memory each host keeps free for failover ({@link FailoverReserve}) and
 * which HA VMs may be started. {@code shutdownPolicy} decides what a host's clean shutdown does to its VMs.
 */
public record ClusterPolicy(int heartbeatIntervalSeconds, int failureTimeoutSeconds, int leaseTimeoutSeconds,
        IsolationResponse isolationResponse, int hostFailuresToTolerate, AdmissionControl admissionControl,
        int reservePercent, List<String> failoverHosts, int rejoinGraceSeconds, ShutdownPolicy shutdownPolicy) {

    public static final ClusterPolicy DEFAULT = new ClusterPolicy(1, 3, 4, IsolationResponse.NONE, 1,
            AdmissionControl.HOST_FAILURES, 25, List.of(), 0, ShutdownPolicy.MIGRATE);

    /** Throws {@link IllegalArgumentException} naming the field when the policy is inconsistent. */
    public ClusterPolicy {
        if (heartbeatIntervalSeconds < 1 || heartbeatIntervalSeconds > 60)
            throw new IllegalArgumentException("heartbeatIntervalSeconds must be between 1 and 60");
        if (failureTimeoutSeconds < 2 * heartbeatIntervalSeconds)
            throw new IllegalArgumentException("failureTimeoutSeconds must be at least twice heartbeatIntervalSeconds");
        if (failureTimeoutSeconds > 600) throw new IllegalArgumentException("failureTimeoutSeconds must be at most 600");
        if (leaseTimeoutSeconds < 3 * heartbeatIntervalSeconds)
            throw new IllegalArgumentException("leaseTimeoutSeconds must be at least three times heartbeatIntervalSeconds");
        if (leaseTimeoutSeconds > 600) throw new IllegalArgumentException("leaseTimeoutSeconds must be at most 600");
        if (isolationResponse == null) throw new IllegalArgumentException("isolationResponse is required");
        if (hostFailuresToTolerate < 0 || hostFailuresToTolerate > 100)
            throw new IllegalArgumentException("hostFailuresToTolerate must be between 0 and 100");
        if (admissionControl == null) throw new IllegalArgumentException("admissionControl is required");
        if (reservePercent < 0 || reservePercent > 100)
            throw new IllegalArgumentException("reservePercent must be between 0 and 100");
        failoverHosts = failoverHosts == null ? List.of() : List.copyOf(failoverHosts);
        if (new LinkedHashSet<>(failoverHosts).size() != failoverHosts.size())
            throw new IllegalArgumentException("failoverHosts names a host twice");
        for (String h : failoverHosts)
            if (h == null || h.isBlank()) throw new IllegalArgumentException("failoverHosts has an empty host name");
        if (admissionControl == AdmissionControl.DEDICATED && failoverHosts.isEmpty())
            throw new IllegalArgumentException("failoverHosts must name at least one host when admissionControl is dedicated");
        if (rejoinGraceSeconds < 0 || rejoinGraceSeconds > 3600)
            throw new IllegalArgumentException("rejoinGraceSeconds must be between 0 and 3600");
        if (shutdownPolicy == null) throw new IllegalArgumentException("shutdownPolicy is required");
    }

    /** The timing fields only, everything else as {@link #DEFAULT}. */
    public static ClusterPolicy timing(int heartbeatIntervalSeconds, int failureTimeoutSeconds, int leaseTimeoutSeconds,
            IsolationResponse isolationResponse) {
        return DEFAULT.withTiming(heartbeatIntervalSeconds, failureTimeoutSeconds, leaseTimeoutSeconds, isolationResponse);
    }

    public ClusterPolicy withTiming(int heartbeat, int failure, int lease, IsolationResponse isolation) {
        return new ClusterPolicy(heartbeat, failure, lease, isolation, hostFailuresToTolerate, admissionControl,
                reservePercent, failoverHosts, rejoinGraceSeconds, shutdownPolicy);
    }

    public ClusterPolicy withAdmission(AdmissionControl mode, int failures, int percent, List<String> dedicated) {
        return new ClusterPolicy(heartbeatIntervalSeconds, failureTimeoutSeconds, leaseTimeoutSeconds,
                isolationResponse, failures, mode, percent, dedicated, rejoinGraceSeconds, shutdownPolicy);
    }

    public ClusterPolicy withRejoinGrace(int seconds) {
        return new ClusterPolicy(heartbeatIntervalSeconds, failureTimeoutSeconds, leaseTimeoutSeconds,
                isolationResponse, hostFailuresToTolerate, admissionControl, reservePercent, failoverHosts, seconds,
                shutdownPolicy);
    }

    public ClusterPolicy withShutdownPolicy(ShutdownPolicy policy) {
        return new ClusterPolicy(heartbeatIntervalSeconds, failureTimeoutSeconds, leaseTimeoutSeconds,
                isolationResponse, hostFailuresToTolerate, admissionControl, reservePercent, failoverHosts,
                rejoinGraceSeconds, policy);
    }

    public boolean isFailoverHost(String host) {
        return admissionControl == AdmissionControl.DEDICATED && failoverHosts.contains(host);
    }

    public AgentPolicy agentPolicy() {
        return new AgentPolicy(heartbeatIntervalSeconds * 1000L, leaseTimeoutSeconds * 1000L, isolationResponse,
                failureTimeoutSeconds * 1000L);
    }
}
