package io.vigil.agent.cache;

/** A snapshot of one cache's counters. {@code lastWriteBackCompletedMillis}: Unix millis, 0 if none yet. */
public record CacheStats(long capacityBytes, long usedBytes, long dirtyBytes, long hits, long misses,
                         long writtenBackBytes, long lastWriteBackCompletedMillis) {
}
