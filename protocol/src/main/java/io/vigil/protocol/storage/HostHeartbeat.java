package io.vigil.protocol.storage;

/**
 * One host's heartbeat on shared storage: its delta lease. The pair ({@code generation}, {@code counter}) changes
 * at every renewal; an observer that sees it unchanged for {@code leaseTimeoutMillis} of its own clock may treat the
 * host's lease, and every VM lease held under that generation, as expired. {@code writtenAtMillis} is the writer's
 * wall clock, for people only: no decision uses it, because clocks are not synchronized.
 */
public record HostHeartbeat(String host, long generation, long counter, long leaseTimeoutMillis, long writtenAtMillis) {

    /** Whether {@code other} is a renewal of this heartbeat, i.e. a different write. */
    public boolean sameWriteAs(HostHeartbeat other) {
        return other != null && generation == other.generation && counter == other.counter;
    }
}
