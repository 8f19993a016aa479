package io.vigil.protocol.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class HeartbeatObserverTest {
    static final long MS = 1_000_000L;
    final HeartbeatObserver observer = new HeartbeatObserver();

    static HostHeartbeat beat(long generation, long counter) {
        return new HostHeartbeat("h1", generation, counter, 4000, 0);
    }

    @Test
    void aHostNeverObservedIsNotExpired() {
        assertFalse(observer.isExpired("h1", 100_000 * MS, 4000));
        assertEquals(-1, observer.unchangedForNanos("h1", 0));
    }

    @Test
    void expiryCountsFromTheFirstSightingOfTheLastValueOnTheObserversClock() {
        observer.observe("h1", beat(1, 1), 0);
        observer.observe("h1", beat(1, 2), 1000 * MS);
        // Re-reading the same value does not restart the interval...
        observer.observe("h1", beat(1, 2), 3000 * MS);
        assertFalse(observer.isExpired("h1", 4999 * MS, 9999));
        // ...which runs for the lease timeout the writer put in its heartbeat, not the caller's default.
        assertTrue(observer.isExpired("h1", 5000 * MS, 9999));
    }

    @Test
    void aRenewalRestartsTheInterval() {
        observer.observe("h1", beat(1, 1), 0);
        observer.observe("h1", beat(1, 2), 3900 * MS);
        assertFalse(observer.isExpired("h1", 7000 * MS, 4000));
        assertTrue(observer.isFresh("h1", 4000 * MS, 1000));
        assertFalse(observer.isFresh("h1", 5000 * MS, 1000));
    }

    @Test
    void aNewGenerationWithTheSameCounterIsARenewal() {
        observer.observe("h1", beat(1, 5), 0);
        observer.observe("h1", beat(2, 5), 3000 * MS);
        assertFalse(observer.isExpired("h1", 4000 * MS, 4000));
        assertEquals(2, observer.last("h1").orElseThrow().generation());
    }

    @Test
    void anUnreadableHeartbeatIsNoRenewalAndAnObserverThatStartedBlindWaitsAFullTimeout() {
        observer.observe("h1", beat(1, 1), 0);
        observer.observe("h1", null, 3000 * MS);
        assertTrue(observer.isExpired("h1", 4000 * MS, 4000));

        observer.observe("h2", null, 1000 * MS);
        assertFalse(observer.isExpired("h2", 4999 * MS, 4000));
        assertTrue(observer.isExpired("h2", 5000 * MS, 4000));
    }
}
