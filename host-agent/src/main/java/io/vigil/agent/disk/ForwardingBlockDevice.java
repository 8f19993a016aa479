package io.vigil.agent.disk;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * A block device that forwards every call to another one; tests and benchmarks extend it to slow down, hold back or
 * observe what reaches an image.
 */
public class ForwardingBlockDevice implements BlockDevice {
    private final BlockDevice image;

    public ForwardingBlockDevice(BlockDevice image) {
        this.image = image;
    }

    @Override
    public long size() {
        return image.size();
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
        image.read(offset, dst);
    }

    @Override
    public void write(long offset, ByteBuffer src, boolean fua) throws IOException {
        image.write(offset, src, fua);
    }

    @Override
    public void flush() throws IOException {
        image.flush();
    }

    @Override
    public void trim(long offset, long length) throws IOException {
        image.trim(offset, length);
    }

    @Override
    public void writeZeroes(long offset, long length, boolean mayPunchHole, boolean fua) throws IOException {
        image.writeZeroes(offset, length, mayPunchHole, fua);
    }

    @Override
    public List<Extent> allocation(long offset, long length) throws IOException {
        return image.allocation(offset, length);
    }

    @Override
    public void close() throws IOException {
        image.close();
    }
}
