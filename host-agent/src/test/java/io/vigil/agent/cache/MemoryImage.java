package io.vigil.agent.cache;

import io.vigil.agent.disk.BlockDevice;
import io.vigil.agent.disk.Extent;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.locks.LockSupport;

/** A disk image in memory for tests: optionally slow, optionally reporting every write and flush in order. */
public final class MemoryImage implements BlockDevice {
    interface Listener {
        void written(long offset, ByteBuffer data);

        void flushed();
    }

    private final byte[] data;
    private volatile long writeDelayNanos;
    private volatile Listener listener;
    private volatile boolean closed;
    private volatile boolean failWrites;

    public MemoryImage(int size) {
        data = new byte[size];
    }

    MemoryImage slow(long nanosPerWrite) {
        writeDelayNanos = nanosPerWrite;
        return this;
    }

    /** Image writes fail (the storage is away): dirty blocks stay dirty. */
    public MemoryImage unavailable(boolean failing) {
        failWrites = failing;
        return this;
    }

    MemoryImage listen(Listener l) {
        listener = l;
        return this;
    }

    public byte[] snapshot() {
        synchronized (data) {
            return data.clone();
        }
    }

    boolean closed() {
        return closed;
    }

    @Override
    public long size() {
        return data.length;
    }

    @Override
    public void read(long offset, ByteBuffer dst) {
        synchronized (data) {
            dst.put(data, (int) offset, dst.remaining());
        }
    }

    @Override
    public void write(long offset, ByteBuffer src, boolean fua) throws java.io.IOException {
        if (failWrites) throw new java.io.IOException("image unavailable");
        long until = System.nanoTime() + writeDelayNanos;
        for (long left = writeDelayNanos; left > 0; left = until - System.nanoTime()) LockSupport.parkNanos(left);
        synchronized (data) {
            Listener l = listener;
            if (l != null) l.written(offset, src.duplicate());
            src.get(data, (int) offset, src.remaining());
            if (fua && l != null) l.flushed();
        }
    }

    @Override
    public void flush() {
        synchronized (data) {
            Listener l = listener;
            if (l != null) l.flushed();
        }
    }

    @Override
    public void trim(long offset, long length) {
    }

    @Override
    public void writeZeroes(long offset, long length, boolean mayPunchHole, boolean fua) {
        synchronized (data) {
            java.util.Arrays.fill(data, (int) offset, (int) (offset + length), (byte) 0);
            Listener l = listener;
            if (l != null) {
                l.written(offset, ByteBuffer.allocate((int) length));
                if (fua) l.flushed();
            }
        }
    }

    @Override
    public List<Extent> allocation(long offset, long length) {
        return List.of(Extent.data(length));
    }

    @Override
    public void close() {
        closed = true;
    }
}
