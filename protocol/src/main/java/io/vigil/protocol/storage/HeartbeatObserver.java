package io.vigil.protocol.storage;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Watches host heartbeats on shared storage with the observer's own monotonic clock, never the writer's.
 *
 * <p>For each host it remembers the last heartbeat write seen and the local time it was <em>first</em> seen. A host
 * whose heartbeat has not changed for the lease timeout written in that heartbeat, measured from that first
 * sighting, has an expired lease. Because the sighting happens after the write began, the observer's interval
 * starts no earlier than the holder's last renewal, which is what the delta-lease timing argument needs (see the
 * host-agent's lease package). An observer that has only just started has seen nothing change yet, so it waits a
 * full timeout from its first read before calling anything expired.
 *
 * <p>Not thread-safe; the caller feeds it from one thread, with {@code nowNanos} from {@link System#nanoTime()}.
 */
public final class HeartbeatObserver {
    private record Sighting(HostHeartbeat heartbeat, long firstSeenNanos) {}

    private final Map<String, Sighting> sightings = new HashMap<>();

    /** Records a read of {@code host}'s heartbeat ({@code null}: no file, or unreadable). */
    public void observe(String host, HostHeartbeat heartbeat, long nowNanos) {
        Sighting last = sightings.get(host);
        if (heartbeat == null) {
            if (last == null) sightings.put(host, new Sighting(null, nowNanos));
            return; // a missing or unreadable file is no renewal
        }
        if (last == null || last.heartbeat == null || !heartbeat.sameWriteAs(last.heartbeat)) {
            sightings.put(host, new Sighting(heartbeat, nowNanos));
        }
    }

    public Optional<HostHeartbeat> last(String host) {
        Sighting s = sightings.get(host);
        return s == null ? Optional.empty() : Optional.ofNullable(s.heartbeat);
    }

    /** Nanoseconds since {@code host}'s heartbeat last changed, or -1 if it was never read. */
    public long unchangedForNanos(String host, long nowNanos) {
        Sighting s = sightings.get(host);
        return s == null ? -1 : nowNanos - s.firstSeenNanos;
    }

    /**
     * Whether {@code host}'s lease has expired: its heartbeat unchanged for its own lease timeout (or for
     * {@code defaultTimeoutMillis} when no heartbeat was ever readable). False for a host never observed.
     */
    public boolean isExpired(String host, long nowNanos, long defaultTimeoutMillis) {
        Sighting s = sightings.get(host);
        if (s == null) return false;
        long timeoutMillis = s.heartbeat == null ? defaultTimeoutMillis : s.heartbeat.leaseTimeoutMillis();
        return nowNanos - s.firstSeenNanos >= timeoutMillis * 1_000_000L;
    }

    /** Whether {@code host}'s heartbeat changed within the last {@code windowMillis}. */
    public boolean isFresh(String host, long nowNanos, long windowMillis) {
        Sighting s = sightings.get(host);
        return s != null && s.heartbeat != null && nowNanos - s.firstSeenNanos < windowMillis * 1_000_000L;
    }
}
