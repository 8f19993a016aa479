package io.vigil.agent.cache;

import java.time.Duration;

/** What a {@link BlockCache#resize} did: dirty blocks written back to make room, and dirty blocks moved in memory. */
public record ResizeReport(long fromBytes, long toBytes, Duration took, long bytesWrittenBack, int blocksRelocated) {
}
