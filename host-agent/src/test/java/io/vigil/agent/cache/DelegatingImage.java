package io.vigil.agent.cache;

import io.vigil.agent.disk.BlockDevice;
import io.vigil.agent.disk.Extent;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;

/** A BlockDevice that forwards everything; tests override what they want to slow down or observe. */
class DelegatingImage implements BlockDevice {
    private final BlockDevice image;

    DelegatingImage(BlockDevice image) {
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
