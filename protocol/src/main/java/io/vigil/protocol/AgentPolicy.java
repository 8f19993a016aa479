package io.vigil.protocol;

/**
 * The part of the cluster policy an agent needs: how often to heartbeat, the lease timeout it must self-fence
 * within, what to do when isolated, and after how long without a controller it counts as isolated
 * ({@code failureTimeoutMillis}, the same timeout after which the controller declares a silent host isolated or
 * failed; 0 from an older controller: keep the agent's configured value).
 */
public record AgentPolicy(long heartbeatIntervalMillis, long leaseTimeoutMillis, IsolationResponse isolationResponse,
                          long failureTimeoutMillis) {
    public AgentPolicy(long heartbeatIntervalMillis, long leaseTimeoutMillis, IsolationResponse isolationResponse) {
        this(heartbeatIntervalMillis, leaseTimeoutMillis, isolationResponse, 0);
    }

    public AgentPolicy {
        if (failureTimeoutMillis < 0) throw new IllegalArgumentException("failureTimeoutMillis must not be negative");
        if (heartbeatIntervalMillis <= 0) throw new IllegalArgumentException("heartbeatIntervalMillis must be positive");
        if (leaseTimeoutMillis < 3 * heartbeatIntervalMillis)
            throw new IllegalArgumentException("leaseTimeoutMillis must be at least three heartbeat intervals");
        if (isolationResponse == null) isolationResponse = IsolationResponse.NONE;
    }
}
