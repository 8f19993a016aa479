package io.vigil.agent.disk;

import com.sun.jna.LastErrorException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A raw disk image file: the storage behind a VM disk, read and written with positional I/O. Sparse where the file
 * system allows: trim and zeroing punch holes, and {@link #allocation} reports them (SEEK_DATA/SEEK_HOLE), so copies
 * of a mostly empty disk stay small.
 */
public final class FileImage implements BlockDevice {
    private static final Logger log = LoggerFactory.getLogger(FileImage.class);
    private static final LibC LIBC = LibC.load();
    private static final int ZERO_CHUNK = 1 << 20;
    /** Enough extents for one answer; a caller asks again from where this stopped. */
    private static final int MAX_EXTENTS = 1024;

    private final Path path;
    private final FileChannel channel;
    private final long size;
    /** A second descriptor of the same file for lseek and fallocate, which FileChannel does not offer; -1 if none. */
    private final int fd;
    private volatile boolean canPunch;
    private volatile boolean canZeroRange;

    private FileImage(Path path, FileChannel channel, long size, int fd) {
        this.path = path;
        this.channel = channel;
        this.size = size;
        this.fd = fd;
        this.canPunch = fd >= 0;
        this.canZeroRange = fd >= 0;
    }

    /** Opens an existing image for reading and writing; its size is the file's size. */
    public static FileImage open(Path path) throws IOException {
        FileChannel channel = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
        int fd = -1;
        if (LIBC != null) {
            try {
                fd = LIBC.open(path.toString(), LibC.O_RDWR | LibC.O_CLOEXEC);
            } catch (LastErrorException e) {
                log.info("image {}: no sparse-file support, errno {}", path, e.getErrorCode());
            }
        }
        return new FileImage(path, channel, channel.size(), fd);
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
    public void trim(long offset, long length) throws IOException {
        punchHole(offset, length); // advisory: where holes are not supported, keeping the data is correct
    }

    @Override
    public void writeZeroes(long offset, long length, boolean mayPunchHole, boolean fua) throws IOException {
        boolean done = (mayPunchHole && punchHole(offset, length)) || zeroRange(offset, length);
        if (!done) writeZeroBytes(offset, length);
        if (fua) channel.force(false);
    }

    @Override
    public List<Extent> allocation(long offset, long length) throws IOException {
        if (fd < 0) return List.of(Extent.data(length));
        List<Extent> extents = new ArrayList<>();
        long end = offset + length;
        long at = offset;
        try {
            while (at < end && extents.size() < MAX_EXTENTS) {
                long data = seek(at, LibC.SEEK_DATA);
                if (data > at) {
                    long holeEnd = Math.min(data, end);
                    extents.add(new Extent(holeEnd - at, true, true));
                    at = holeEnd;
                } else {
                    long dataEnd = Math.min(seek(at, LibC.SEEK_HOLE), end);
                    extents.add(Extent.data(dataEnd - at));
                    at = dataEnd;
                }
            }
        } catch (LastErrorException e) {
            if (extents.isEmpty()) return List.of(Extent.data(length)); // e.g. a file system without SEEK_DATA
        }
        return extents;
    }

    @Override
    public void close() throws IOException {
        try {
            channel.close();
        } finally {
            if (fd >= 0) LIBC.close(fd);
        }
    }

    /** lseek, with "no data after here" (ENXIO) as the file's size: the rest is a hole. */
    private long seek(long at, int whence) {
        try {
            long found = LIBC.lseek(fd, at, whence);
            return found < 0 ? size : found;
        } catch (LastErrorException e) {
            if (e.getErrorCode() == LibC.ENXIO) return size;
            throw e;
        }
    }

    private boolean punchHole(long offset, long length) throws IOException {
        if (!canPunch) return false;
        return fallocate(LibC.FALLOC_FL_PUNCH_HOLE | LibC.FALLOC_FL_KEEP_SIZE, offset, length, false);
    }

    private boolean zeroRange(long offset, long length) throws IOException {
        if (!canZeroRange) return false;
        return fallocate(LibC.FALLOC_FL_ZERO_RANGE | LibC.FALLOC_FL_KEEP_SIZE, offset, length, true);
    }

    /** False if the file system does not support the mode (remembered, so it is not asked again). */
    private boolean fallocate(int mode, long offset, long length, boolean zeroRange) throws IOException {
        try {
            LIBC.fallocate(fd, mode, offset, length);
            return true;
        } catch (LastErrorException e) {
            int errno = e.getErrorCode();
            if (errno == 95 /* EOPNOTSUPP */ || errno == 22 /* EINVAL: mode unknown to this file system */) {
                if (zeroRange) canZeroRange = false;
                else canPunch = false;
                return false;
            }
            String reason = errno == 28 ? "No space left on device" : "errno " + errno;
            throw new IOException("fallocate(" + offset + ", " + length + ") on " + path + ": " + reason, e);
        }
    }

    private void writeZeroBytes(long offset, long length) throws IOException {
        ByteBuffer zeroes = ByteBuffer.allocateDirect((int) Math.min(length, ZERO_CHUNK));
        for (long done = 0; done < length; ) {
            int n = (int) Math.min(length - done, zeroes.capacity());
            zeroes.clear().limit(n);
            write(offset + done, zeroes, false);
            done += n;
        }
    }
}
