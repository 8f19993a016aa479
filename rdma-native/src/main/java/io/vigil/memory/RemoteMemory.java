package io.vigil.memory;

import io.vigil.protocol.memory.MemoryKeeperEndpoint;
import java.io.IOException;
import java.time.Duration;

/**
 * One transport of one-sided reads from peers' memory keepers. Thread-safe; regions it opens are used by one thread
 * at a time.
 */
public interface RemoteMemory extends AutoCloseable {

    /** {@code "verbs"} or {@code "tcp"}. */
    String transport();

    /**
     * Connects to {@code keeper} and opens {@code region} ({@code <vm>/<disk>}) presenting {@code grant} (a
     * {@link io.vigil.protocol.memory.RegionGrant} token). Fails with a {@link RemoteMemoryException}: UNREACHABLE
     * when no connection is made within {@code timeout}, REFUSED for a bad grant, NO_SUCH_REGION when the keeper holds
     * no such arena.
     */
    RemoteRegion open(MemoryKeeperEndpoint keeper, String region, String grant, Duration timeout) throws IOException;

    @Override
    void close();
}
