package io.vigil.agent.nbd;

import io.vigil.agent.disk.BlockDevice;
import io.vigil.agent.disk.Extent;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A disk in memory, for tests and for measuring the server's fast path: with {@code fastPath} its try... calls always
 * succeed (like a cache that always hits), without, they always refuse, so every request goes to a worker.
 */
class MemoryDisk implements BlockDevice {
    private final ByteBuffer bytes;
    private final boolean fastPath;
    final AtomicInteger flushes = new AtomicInteger();

    MemoryDisk(int size, boolean fastPath) {
        this.bytes = ByteBuffer.allocateDirect(size);
        this.fastPath = fastPath;
    }

    @Override
    public long size() {
        return bytes.capacity();
    }

    @Override
    public void read(long offset, ByteBuffer dst) {
        int n = dst.remaining();
        dst.put(bytes.slice((int) offset, n));
    }

    @Override
    public boolean tryRead(long offset, ByteBuffer dst) {
        if (!fastPath) return false;
        read(offset, dst);
        return true;
    }

    @Override
    public void write(long offset, ByteBuffer src, boolean fua) {
        bytes.slice((int) offset, src.remaining()).put(src);
    }

    @Override
    public boolean tryWrite(long offset, ByteBuffer src, boolean fua) {
        if (!fastPath) return false;
        write(offset, src, fua);
        return true;
    }

    @Override
    public void flush() {
        flushes.incrementAndGet();
    }

    @Override
    public void trim(long offset, long length) {}

    @Override
    public void writeZeroes(long offset, long length, boolean mayPunchHole, boolean fua) {
        ByteBuffer range = bytes.slice((int) offset, (int) length);
        while (range.hasRemaining()) range.put((byte) 0);
    }

    @Override
    public List<Extent> allocation(long offset, long length) {
        return List.of(Extent.data(length));
    }

    /** A copy of the whole disk. */
    byte[] contents() {
        byte[] copy = new byte[bytes.capacity()];
        bytes.slice(0, copy.length).get(copy);
        return copy;
    }

    void fill(byte[] data) {
        bytes.slice(0, data.length).put(data);
    }

    @Override
    public void close() {}
}
