package io.vigil.agent.disk;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/** A raw disk image file: the storage behind a VM disk, read and written with positional I/O. */
public final class FileImage implements BlockDevice {
    private static final int ZERO_CHUNK = 1 << 20;
    private final Path path;
    private final FileChannel channel;
    private final long size;

    private FileImage(Path path, FileChannel channel, long size) {
        this.path = path;
        this.channel = channel;
        this.size = size;
    }

    /** Opens an existing image for reading and writing; its size is the file's size. */
    public static FileImage open(Path path) throws IOException {
        FileChannel channel = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
        return new FileImage(path, channel, channel.size());
    }

    public Path path() {
        return path;
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
        long at = offset;
        while (dst.hasRemaining()) {
            int n = channel.read(dst, at);
            if (n < 0) { // past the end of a file shorter than its size: zeroes, like a hole
                while (dst.hasRemaining()) dst.put((byte) 0);
                return;
            }
            at += n;
        }
    }

    @Override
    public void write(long offset, ByteBuffer src, boolean fua) throws IOException {
        long at = offset;
        while (src.hasRemaining()) at += channel.write(src, at);
        if (fua) channel.force(false);
    }

    @Override
    public void flush() throws IOException {
        channel.force(false);
    }

    @Override
    public void trim(long offset, long length) {
        // Advisory; keeping the data is always correct.
    }

    @Override
    public void writeZeroes(long offset, long length, boolean mayPunchHole, boolean fua) throws IOException {
        ByteBuffer zeroes = ByteBuffer.allocateDirect((int) Math.min(length, ZERO_CHUNK));
        for (long done = 0; done < length; ) {
            int n = (int) Math.min(length - done, zeroes.capacity());
            zeroes.clear().limit(n);
            write(offset + done, zeroes, false);
            done += n;
        }
        if (fua) channel.force(false);
    }

    @Override
    public List<Extent> allocation(long offset, long length) {
        return List.of(Extent.data(length));
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
