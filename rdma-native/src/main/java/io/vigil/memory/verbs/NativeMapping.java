package io.vigil.memory.verbs;

import com.sun.jna.Pointer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A range of this process's address space from mmap, unmapped on close: an arena file mapped read-only and shared (the
 * keeper registers it for remote reads) or an anonymous bounce buffer (the reader registers it for RDMA READ to land
 * in). Mapped by hand rather than with FileChannel.map because a registration must be released at a known moment,
 * not when the garbage collector gets to a MappedByteBuffer; mmap also gives page alignment, which registration likes.
 */
final class NativeMapping implements AutoCloseable {
    private final Pointer address;
    private final long length;
    private boolean closed;

    private NativeMapping(Pointer address, long length) {
        this.address = address;
        this.length = length;
    }

    /** Zeroed private memory of {@code length} bytes. */
    static NativeMapping anonymous(long length) throws IOException {
        requireLibc();
        if (length <= 0) throw new IllegalArgumentException("length must be positive: " + length);
        Pointer p = Libc.mmap(null, length, VerbsLayout.PROT_READ | VerbsLayout.PROT_WRITE,
                VerbsLayout.MAP_PRIVATE | VerbsLayout.MAP_ANONYMOUS, -1, 0);
        if (failed(p)) throw new IOException(Libc.lastError("mmap of a " + length + "-byte buffer"));
        return new NativeMapping(p, length);
    }

    /** {@code file}'s whole current content, read-only and shared: later writes to the file show through. */
    static NativeMapping readOnly(Path file) throws IOException {
        requireLibc();
        long length = Files.size(file);
        if (length == 0) throw new IOException(file + " is empty; there is nothing to map");
        int fd = Libc.open(file.toString(), VerbsLayout.O_RDONLY | VerbsLayout.O_CLOEXEC);
        if (fd < 0) throw new IOException(Libc.lastError("open " + file));
        try {
            Pointer p = Libc.mmap(null, length, VerbsLayout.PROT_READ, VerbsLayout.MAP_SHARED, fd, 0);
            if (failed(p)) throw new IOException(Libc.lastError("mmap " + file));
            return new NativeMapping(p, length);
        } finally {
            Libc.close(fd); // the mapping keeps the file
        }
    }

    Pointer address() {
        return address;
    }

    long addressValue() {
        return Pointer.nativeValue(address);
    }

    long length() {
        return length;
    }

    /** The mapping as a direct buffer, for mappings under 2 GiB. */
    ByteBuffer buffer() {
        if (length > Integer.MAX_VALUE)
            throw new IllegalStateException("mapping too large for a ByteBuffer: " + length);
        return address.getByteBuffer(0, length);
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        Libc.munmap(address, length);
    }

    private static boolean failed(Pointer p) {
        return p == null || Pointer.nativeValue(p) == -1L; // MAP_FAILED
    }

    private static void requireLibc() throws IOException {
        if (Libc.UNAVAILABLE.isPresent()) throw new IOException("libc is not callable: " + Libc.UNAVAILABLE.get());
    }
}
