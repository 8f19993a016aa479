package io.vigil.memory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;

/** An opened region of a peer's memory: reads by offset, pipelined, each filling its buffer completely. */
public interface RemoteRegion extends AutoCloseable {

    /** {@code <vm>/<disk>}. */
    String name();

    /** The region's size in bytes when it was opened; reads past it are refused (OUT_OF_RANGE). */
    long size();

    /**
     * Performs every read, as many in flight at once as the transport allows, and returns when all are done: each
     * read's buffer is filled from its position to its limit (position advanced to the limit). Throws a
     * {@link RemoteMemoryException} (OUT_OF_RANGE, UNREACHABLE, PROTOCOL) if any fails; buffers of the others may
     * then be partly filled.
     */
    void read(List<RemoteRead> reads) throws IOException;

    default void read(long offset, ByteBuffer dst) throws IOException {
        read(List.of(new RemoteRead(offset, dst)));
    }

    @Override
    void close();
}
