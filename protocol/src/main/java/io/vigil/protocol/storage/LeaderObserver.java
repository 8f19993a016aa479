package io.vigil.protocol.storage;

/**
 * Watches the leader lease with the observer's own monotonic clock, like {@link HeartbeatObserver} watches hosts:
 * the highest epoch and its heartbeat are read at every {@link #observe}, and the time a heartbeat write was first
 * seen is remembered. The leader is <em>alive</em> while its heartbeat changed within its lease timeout; it is
 * <em>expired</em> (its epoch may be claimed) once unchanged for a whole lease timeout, or at once when released.
 * An observer that has only just started has seen nothing change yet, so it waits a full timeout from its first read.
 *
 * <p>Not thread-safe; fed from one thread with {@code nowNanos} from {@link System#nanoTime()}.
 */
public final class LeaderObserver {
    private long epoch;
    private LeaderHeartbeat heartbeat;
    private long firstSeenNanos;
    private boolean observed;

    /** Records a read: the highest epoch on storage and its heartbeat ({@code null}: missing or unreadable). */
    public void observe(long highestEpoch, LeaderHeartbeat latest, long nowNanos) {
        boolean changed = !observed || highestEpoch != epoch
                || latest != null && (heartbeat == null || !latest.sameWriteAs(heartbeat));
        if (changed) {
            firstSeenNanos = nowNanos;
            heartbeat = latest;
        }
        epoch = highestEpoch;
        observed = true;
    }

    /** The highest epoch seen at the last read, 0 if none. */
    public long epoch() {
        return epoch;
    }

    public LeaderHeartbeat heartbeat() {
        return heartbeat;
    }

    /** Whether the leader's heartbeat changed within its lease timeout (or {@code defaultTimeoutMillis}). */
    public boolean isAlive(long nowNanos, long defaultTimeoutMillis) {
        if (!observed || epoch == 0 || heartbeat == null || heartbeat.released() || heartbeat.epoch() != epoch) return false;
        return nowNanos - firstSeenNanos < timeoutNanos(defaultTimeoutMillis);
    }

    /** Whether the current epoch may be claimed by another: released, or unchanged for a whole lease timeout. */
    public boolean isExpired(long nowNanos, long defaultTimeoutMillis) {
        if (!observed) return false;
        if (heartbeat != null && heartbeat.released() && heartbeat.epoch() == epoch) return true;
        return nowNanos - firstSeenNanos >= timeoutNanos(defaultTimeoutMillis);
    }

    /** When (on the observer's clock) the lease was last seen to change: a renewal, a new epoch, a release. */
    public long lastChangeSeenNanos() {
        return observed ? firstSeenNanos : Long.MIN_VALUE;
    }

    /** Nanoseconds since the lease last changed, as seen here. */
    public long unchangedForNanos(long nowNanos) {
        return observed ? nowNanos - firstSeenNanos : -1;
    }

    private long timeoutNanos(long defaultTimeoutMillis) {
        long millis = heartbeat != null && heartbeat.epoch() == epoch ? heartbeat.leaseTimeoutMillis() : defaultTimeoutMillis;
        return millis * 1_000_000L;
    }
}
