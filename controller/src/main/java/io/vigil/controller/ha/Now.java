package io.vigil.controller.ha;

/**
 * The time an input is processed at: a monotonic reading for every timeout decision, and the wall clock only to
 * stamp events for people.
 */
public record Now(long monotonicNanos, long epochMillis) {
    public Now plusMillis(long millis) {
        return new Now(monotonicNanos + millis * 1_000_000L, epochMillis + millis);
    }

    public long millisSince(long earlierMonotonicNanos) {
        return (monotonicNanos - earlierMonotonicNanos) / 1_000_000L;
    }
}
