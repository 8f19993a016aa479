package io.vigil.protocol;

/**
 * The part of the cluster policy an agent needs: how often to heartbeat, the lease timeout it must self-fence
 * within, and what to do when isolated.
 */
public record AgentPolicy(long heartbeatIntervalMillis, long leaseTimeoutMillis, IsolationResponse isolationResponse) {
    public AgentPolicy {
        if (heartbeatIntervalMillis <= 0) throw new IllegalArgumentException("heartbeatIntervalMillis must be positive");
        if (leaseTimeoutMillis < 3 * heartbeatIntervalMillis)
            throw new IllegalArgumentException("leaseTimeoutMillis must be at least three heartbeat intervals");
        if (isolationResponse == null) isolationResponse = IsolationResponse.NONE;
    }
}
