package io.vigil.agent.disk;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * A VM disk as a flat array of bytes, safe for concurrent use by many requests. Offsets and lengths have been
 * checked by the caller: {@code 0 <= offset} and {@code offset + length <= size()}.
 *
 * <p>The {@code try...} variants exist for the NBD server's fast path: a request that can complete without waiting
 * (a cache hit, a write-back write with room in the cache) is served on the connection's reader thread, with no
 * hand-off; anything else returns {@code false}, having done nothing, and is retried with the blocking call on a
 * worker.
 */
public interface BlockDevice extends AutoCloseable {

    /** Size in bytes. */
    long size();

    /** The smallest and the preferred request sizes, for NBD's block size constraints. Powers of two. */
    default int minimumBlockSize() {
        return 1;
    }

    default int preferredBlockSize() {
        return 4096;
    }

    /** Reads {@code dst.remaining()} bytes at {@code offset} into {@code dst}, advancing its position. */
    void read(long offset, ByteBuffer dst) throws IOException;

    default boolean tryRead(long offset, ByteBuffer dst) throws IOException {
        return false;
    }

    /**
     * Writes {@code src.remaining()} bytes at {@code offset}. {@code fua}: the write must be on stable storage
     * before this returns.
     */
    void write(long offset, ByteBuffer src, boolean fua) throws IOException;

    default boolean tryWrite(long offset, ByteBuffer src, boolean fua) throws IOException {
        return false;
    }

    /** Every write that completed before this call is on stable storage when it returns. */
    void flush() throws IOException;

    /** The range's contents are no longer needed (they may read back as anything until written). Advisory. */
    void trim(long offset, long length) throws IOException;

    /**
     * The range reads back as zeroes afterwards. {@code mayPunchHole}: storage may be deallocated to do it.
     * {@code fua} as for {@link #write}.
     */
    void writeZeroes(long offset, long length, boolean mayPunchHole, boolean fua) throws IOException;

    /**
     * The allocation status from {@code offset} on: extents in order, the first starting at {@code offset}, together
     * covering at least one byte and at most {@code length} bytes (fewer is allowed, as in NBD's BLOCK_STATUS).
     */
    List<Extent> allocation(long offset, long length) throws IOException;

    @Override
    void close() throws IOException;
}
