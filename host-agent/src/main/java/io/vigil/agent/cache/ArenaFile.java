package io.vigil.agent.cache;

import io.vigil.agent.disk.BlockDevice;
import io.vigil.agent.disk.LibC;
import io.vigil.protocol.CacheMode;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.CRC32C;

/**
 * The live arena: the shared-memory file mapped in pieces of at most 1 GiB, with typed access to the header, the
 * slots and the frames. Not a lock: callers order their own accesses. Stores reach the file through the mapping, so a
 * SIGKILLed agent leaves every completed store behind; {@link #writeSlot} fences so that a frame's data lands before
 * its slot and the slot's fields before its closing sequence copy.
 */
final class ArenaFile implements AutoCloseable {
    private static final int CHUNK_SHIFT = 30; // 1 GiB per mapping; a multiple of every block size, so frames never straddle
    private static final long CHUNK_MASK = (1L << CHUNK_SHIFT) - 1;
    private static final VarHandle LONGS = MethodHandles.byteBufferViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    final ArenaLayout layout;
    private final Path path;
    private final RandomAccessFile file;
    private final FileChannel channel;
    private final int blockSize;
    private final ByteBuffer zeroes;
    private volatile ByteBuffer[] chunks;
    /** Per-thread views of the mappings with their own position and limit, for CRC32C without allocation. */
    private final ThreadLocal<Views> views = ThreadLocal.withInitial(Views::new);

    private ArenaFile(Path path, RandomAccessFile file, ArenaLayout layout) {
        this.path = path;
        this.file = file;
        this.channel = file.getChannel();
        this.layout = layout;
        this.blockSize = layout.blockSize();
        this.zeroes = ByteBuffer.allocateDirect(blockSize);
    }

    /** Creates (replacing any file there) an arena with {@code frames} frames and writes its header. */
    static ArenaFile create(Path path, ArenaLayout layout, ArenaIdentity identity, int frames, long diskSize,
                            CacheMode mode) throws IOException {
        Files.deleteIfExists(path);
        ArenaFile a = new ArenaFile(path, new RandomAccessFile(path.toFile(), "rw"), layout);
        try {
            a.file.setLength(layout.fileSize(frames));
            a.map();
            ByteBuffer h = a.chunks[0];
            h.put(ArenaLayout.H_MAGIC, ArenaLayout.MAGIC);
            h.putInt(ArenaLayout.H_VERSION, ArenaLayout.VERSION);
            h.putInt(ArenaLayout.H_HEADER_SIZE, ArenaLayout.HEADER_SIZE);
            h.putInt(ArenaLayout.H_BLOCK_SIZE, layout.blockSize());
            h.putInt(ArenaLayout.H_SLOT_SIZE, ArenaLayout.SLOT_SIZE);
            h.putLong(ArenaLayout.H_GENERATION, identity.generation());
            h.putLong(ArenaLayout.H_MAX_FRAMES, layout.maxFrames());
            h.putLong(ArenaLayout.H_FRAMES, frames);
            h.putLong(ArenaLayout.H_TABLE_OFFSET, layout.tableOffset());
            h.putLong(ArenaLayout.H_FRAMES_OFFSET, layout.framesOffset());
            h.putLong(ArenaLayout.H_DISK_SIZE, diskSize);
            h.putLong(ArenaLayout.H_CREATED, System.currentTimeMillis());
            h.put(ArenaLayout.H_VM_ID, identity.vmId().getBytes(StandardCharsets.UTF_8));
            h.put(ArenaLayout.H_DISK_ID, identity.diskId().getBytes(StandardCharsets.UTF_8));
            a.setMode(mode);
            a.setAgentState(ArenaLayout.AGENT_ATTACHED);
            return a;
        } catch (IOException | RuntimeException e) {
            a.close();
            throw e;
        }
    }

    /** Maps an existing arena whose header has been checked ({@link ArenaReader}). */
    static ArenaFile attach(Path path, ArenaLayout layout) throws IOException {
        ArenaFile a = new ArenaFile(path, new RandomAccessFile(path.toFile(), "rw"), layout);
        try {
            a.map();
            a.setAgentState(ArenaLayout.AGENT_ATTACHED);
            return a;
        } catch (IOException | RuntimeException e) {
            a.close();
            throw e;
        }
    }

    private void map() throws IOException {
        long size = file.length();
        int n = (int) ((size + CHUNK_MASK) >>> CHUNK_SHIFT);
        ByteBuffer[] mapped = new ByteBuffer[n];
        for (int i = 0; i < n; i++) {
            long from = (long) i << CHUNK_SHIFT;
            MappedByteBuffer m = channel.map(FileChannel.MapMode.READ_WRITE, from, Math.min(1L << CHUNK_SHIFT, size - from));
            mapped[i] = m.order(ByteOrder.LITTLE_ENDIAN);
        }
        chunks = mapped;
    }

    /**
     * Changes the file to hold {@code frames} frames. Growing extends the file (sparse on tmpfs) before the header
     * counts the frames; shrinking lowers the count first, then truncates, which gives the memory back at once. The
     * caller guarantees nobody touches frames at or past {@code frames} any more.
     */
    void resize(int frames) throws IOException {
        long size = layout.fileSize(frames);
        if (size >= file.length()) {
            file.setLength(size);
            map();
            putHeaderLong(ArenaLayout.H_FRAMES, frames);
        } else {
            putHeaderLong(ArenaLayout.H_FRAMES, frames);
            file.setLength(size);
            map();
        }
    }

    // ---- frames

    void copyIn(int frame, int at, ByteBuffer src, int srcIndex, int length) {
        long p = layout.frameOffset(frame) + at;
        chunk(p).put(index(p), src, srcIndex, length);
    }

    void copyOut(int frame, int at, ByteBuffer dst, int dstIndex, int length) {
        long p = layout.frameOffset(frame) + at;
        dst.put(dstIndex, chunk(p), index(p), length);
    }

    void copyFrame(int from, int to) {
        long s = layout.frameOffset(from);
        long d = layout.frameOffset(to);
        chunk(d).put(index(d), chunk(s), index(s), blockSize);
    }

    void zero(int frame, int at, int length) {
        long p = layout.frameOffset(frame) + at;
        chunk(p).put(index(p), zeroes, 0, length);
    }

    /**
     * Writes {@code length} bytes of {@code frame} to {@code image} at {@code offset} straight from the mapping, with
     * no copy (write-back of a block with no neighbour to coalesce with).
     */
    void writeFrame(int frame, int length, BlockDevice image, long offset) throws IOException {
        image.write(offset, view(views.get(), frame, length), false);
    }

    /** CRC32C of the frame's {@code blockSize} bytes. */
    int crc(int frame) {
        Views v = views.get();
        v.crc.reset();
        v.crc.update(view(v, frame, blockSize));
        return (int) v.crc.getValue();
    }

    /** This thread's view of the first {@code length} bytes of {@code frame}, positioned on them. */
    private ByteBuffer view(Views v, int frame, int length) {
        ByteBuffer[] current = chunks;
        if (v.of != current) v.reset(current);
        long p = layout.frameOffset(frame);
        ByteBuffer d = v.dups[(int) (p >>> CHUNK_SHIFT)];
        int i = index(p);
        d.limit(i + length).position(i);
        return d;
    }

    // ---- slots

    /** Data first (already stored by the caller), then the opening sequence, the fields, and the closing sequence last. */
    void writeSlot(int frame, int state, long diskOffset, long seq, long epoch, int crc) {
        long p = layout.slotOffset(frame);
        ByteBuffer c = chunk(p);
        int i = index(p);
        VarHandle.storeStoreFence();
        c.putLong(i + ArenaLayout.S_SEQ, seq);
        VarHandle.storeStoreFence();
        c.putInt(i + ArenaLayout.S_STATE, state);
        c.putInt(i + ArenaLayout.S_CRC, crc);
        c.putLong(i + ArenaLayout.S_OFFSET, diskOffset);
        c.putLong(i + ArenaLayout.S_EPOCH, epoch);
        LONGS.setRelease(c, i + ArenaLayout.S_SEQ_CLOSE, seq);
    }

    /** One 4-byte store; fenced so a freed frame is marked free before it is overwritten. */
    void setSlotState(int frame, int state) {
        long p = layout.slotOffset(frame);
        chunk(p).putInt(index(p) + ArenaLayout.S_STATE, state);
        VarHandle.storeStoreFence();
    }

    int slotCrc(int frame) {
        long p = layout.slotOffset(frame);
        return chunk(p).getInt(index(p) + ArenaLayout.S_CRC);
    }

    // ---- header

    void putHeaderLong(int field, long value) {
        LONGS.setRelease(chunks[0], field, value);
    }

    void setMode(CacheMode mode) {
        chunks[0].putInt(ArenaLayout.H_MODE, mode.ordinal());
    }

    void setAgentState(int state) {
        chunks[0].putInt(ArenaLayout.H_AGENT_STATE, state);
    }

    void setGeneration(long generation) {
        putHeaderLong(ArenaLayout.H_GENERATION, generation);
    }

    Path path() {
        return path;
    }

    FileChannel channel() {
        return channel;
    }

    private ByteBuffer chunk(long position) {
        return chunks[(int) (position >>> CHUNK_SHIFT)];
    }

    private static int index(long position) {
        return (int) (position & CHUNK_MASK);
    }

    /**
     * Gives the memory of {@code count} frames from {@code first} back to the system at once (a hole punched in the
     * file; they read as zeroes afterwards). The caller guarantees nobody uses them. Best effort: where libc or the
     * file system cannot punch holes, the memory comes back when the file is truncated.
     */
    void releaseFrames(int first, int count) {
        if (LIBC == null || count <= 0) return;
        try {
            int fd = LIBC.open(path.toString(), LibC.O_RDWR | LibC.O_CLOEXEC);
            try {
                LIBC.fallocate(fd, LibC.FALLOC_FL_PUNCH_HOLE | LibC.FALLOC_FL_KEEP_SIZE, layout.frameOffset(first),
                        (long) count * blockSize);
            } finally {
                LIBC.close(fd);
            }
        } catch (com.sun.jna.LastErrorException e) {
            // the truncate at the end of the shrink gives it back instead
        }
    }

    private static final LibC LIBC = LibC.load();

    /** Unmaps (when the GC collects the mappings) and closes; the file stays. */
    @Override
    public void close() throws IOException {
        chunks = new ByteBuffer[0];
        file.close();
    }

    /** Truncates first, so the memory is returned even while a mapping is still reachable, then deletes. */
    void delete() throws IOException {
        chunks = new ByteBuffer[0];
        file.setLength(0);
        file.close();
        Files.deleteIfExists(path);
    }

    private static final class Views {
        final CRC32C crc = new CRC32C();
        ByteBuffer[] of;
        ByteBuffer[] dups;

        void reset(ByteBuffer[] chunks) {
            of = chunks;
            dups = new ByteBuffer[chunks.length];
            for (int i = 0; i < chunks.length; i++) dups[i] = chunks[i].duplicate();
        }
    }
}
