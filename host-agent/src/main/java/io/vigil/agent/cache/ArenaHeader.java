package io.vigil.agent.cache;

/**
 * An arena's header as {@link ArenaReader} parsed it (field meanings in host-agent/ARENA.md). {@code cacheMode}: 0
 * write-back, 1 write-back-recoverable, 2 write-through. {@code agentState}: 1 attached to a live agent, 2 detached.
 */
public record ArenaHeader(int layoutVersion, int blockSize, int slotSize, String vmId, String diskId, long generation,
                          long maxFrameCount, long frameCount, long tableOffset, long framesOffset, long diskSize,
                          long currentEpoch, long durableEpoch, long lastWriteBackMillis, int cacheMode,
                          int agentState, long createdMillis) {
}
