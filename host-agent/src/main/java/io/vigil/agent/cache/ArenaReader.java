package io.vigil.agent.cache;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * Parses an arena from its bytes alone: the header, the dirty table, and frames on demand. It needs no live cache and
 * no agent, so remote recovery can run it over bytes fetched with RDMA READ or over TCP ({@link Source}); the agent
 * uses it to re-attach after a crash. Layout: host-agent/ARENA.md.
 */
public final class ArenaReader {
    /** Positional reads of the arena's bytes: fill {@code dst} completely from {@code position}. */
    @FunctionalInterface
    public interface Source {
        void read(long position, ByteBuffer dst) throws IOException;
    }

    /** Bytes of the header, and of one dirty table slot (host-agent/ARENA.md). */
    public static final int HEADER_BYTES = ArenaLayout.HEADER_SIZE;
    public static final int SLOT_BYTES = ArenaLayout.SLOT_SIZE;

    private static final int TABLE_CHUNK_SLOTS = 16384; // 1 MiB of table per read

    private final Source source;
    private final ArenaHeader header;

    private ArenaReader(Source source, ArenaHeader header) {
        this.source = source;
        this.header = header;
    }

    /** Reads and checks the header; throws {@link ArenaFormatException} for bad magic, version or sizes. */
    public static ArenaReader of(Source source) throws IOException {
        ByteBuffer h = ByteBuffer.allocate(ArenaLayout.HEADER_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        source.read(0, h);
        return new ArenaReader(source, parseHeader(h));
    }

    /** Over an arena already in memory (a copy or a mapping); the buffer is not modified. */
    public static ArenaReader of(ByteBuffer arena) throws IOException {
        ByteBuffer bytes = arena.duplicate();
        return of((position, dst) -> {
            if (position + dst.remaining() > bytes.limit()) throw new EOFException("arena bytes end at " + bytes.limit());
            dst.put(dst.position(), bytes, (int) position, dst.remaining());
            dst.position(dst.limit());
        });
    }

    public static ArenaReader of(FileChannel channel) throws IOException {
        return of((position, dst) -> {
            long at = position;
            while (dst.hasRemaining()) {
                int n = channel.read(dst, at);
                if (n < 0) throw new EOFException("arena file ends at " + at);
                at += n;
            }
        });
    }

    public ArenaHeader header() {
        return header;
    }

    /** Every slot that is not free, in frame order, each with its validity (frames are read to check checksums). */
    public List<ArenaSlot> slots() throws IOException {
        List<ArenaSlot> out = new ArrayList<>();
        ByteBuffer table = ByteBuffer.allocate(TABLE_CHUNK_SLOTS * ArenaLayout.SLOT_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer frame = ByteBuffer.allocate(header.blockSize());
        CRC32C crc = new CRC32C();
        for (long first = 0; first < header.frameCount(); first += TABLE_CHUNK_SLOTS) {
            int n = (int) Math.min(TABLE_CHUNK_SLOTS, header.frameCount() - first);
            table.clear().limit(n * ArenaLayout.SLOT_SIZE);
            source.read(header.tableOffset() + first * ArenaLayout.SLOT_SIZE, table);
            for (int i = 0; i < n; i++) {
                int s = i * ArenaLayout.SLOT_SIZE;
                int state = table.getInt(s + ArenaLayout.S_STATE);
                if (state != ArenaLayout.CLEAN && state != ArenaLayout.DIRTY) continue;
                int f = (int) (first + i);
                long seq = table.getLong(s + ArenaLayout.S_SEQ);
                int expected = table.getInt(s + ArenaLayout.S_CRC);
                ArenaSlot.Validity validity;
                if (seq != table.getLong(s + ArenaLayout.S_SEQ_CLOSE)) {
                    validity = ArenaSlot.Validity.TORN;
                } else {
                    readFrame(f, frame.clear());
                    crc.reset();
                    crc.update(frame.flip());
                    validity = (int) crc.getValue() == expected ? ArenaSlot.Validity.VALID : ArenaSlot.Validity.BAD_CHECKSUM;
                }
                out.add(new ArenaSlot(f, state == ArenaLayout.DIRTY ? ArenaSlot.State.DIRTY : ArenaSlot.State.CLEAN,
                        table.getLong(s + ArenaLayout.S_OFFSET), seq, table.getLong(s + ArenaLayout.S_EPOCH), expected, validity));
            }
        }
        return out;
    }

    /**
     * The dirty slots among {@code table}'s bytes (from its position to its limit, whole slots; the first of them
     * describes frame {@code firstFrame}), without reading frames: torn ones {@link ArenaSlot.Validity#TORN}, the
     * others {@link ArenaSlot.Validity#UNCHECKED}. For a reader that fetches the frames itself, in bulk (remote recovery).
     */
    public static List<ArenaSlot> dirtySlotsIn(ByteBuffer table, long firstFrame) {
        ByteBuffer t = table.slice().order(ByteOrder.LITTLE_ENDIAN);
        List<ArenaSlot> out = new ArrayList<>();
        int n = t.remaining() / ArenaLayout.SLOT_SIZE;
        for (int i = 0; i < n; i++) {
            int s = i * ArenaLayout.SLOT_SIZE;
            if (t.getInt(s + ArenaLayout.S_STATE) != ArenaLayout.DIRTY) continue;
            long seq = t.getLong(s + ArenaLayout.S_SEQ);
            ArenaSlot.Validity v = seq == t.getLong(s + ArenaLayout.S_SEQ_CLOSE) ? ArenaSlot.Validity.UNCHECKED
                    : ArenaSlot.Validity.TORN;
            out.add(new ArenaSlot((int) (firstFrame + i), ArenaSlot.State.DIRTY, t.getLong(s + ArenaLayout.S_OFFSET), seq,
                    t.getLong(s + ArenaLayout.S_EPOCH), t.getInt(s + ArenaLayout.S_CRC), v));
        }
        return out;
    }

    /** Whether {@code frame}'s remaining bytes (one whole frame) match {@code slot}'s CRC32C; the buffer is not moved. */
    public static boolean checksumMatches(ArenaSlot slot, ByteBuffer frame) {
        CRC32C crc = new CRC32C();
        crc.update(frame.duplicate());
        return (int) crc.getValue() == slot.crc32c();
    }

    /** Parses and checks a header read by other means (the first {@link ArenaLayout#HEADER_SIZE} bytes). */
    public static ArenaHeader header(ByteBuffer headerBytes) throws ArenaFormatException {
        return parseHeader(headerBytes.slice().order(ByteOrder.LITTLE_ENDIAN));
    }

    /** The dirty slots, valid or not, in sequence order: the order recovery writes the valid ones in. */
    public List<ArenaSlot> dirtyBlocks() throws IOException {
        List<ArenaSlot> dirty = new ArrayList<>();
        for (ArenaSlot s : slots()) if (s.dirty()) dirty.add(s);
        dirty.sort(Comparator.comparingLong(ArenaSlot::sequence));
        return dirty;
    }

    /** Reads frame {@code frame}'s {@code blockSize} bytes into {@code dst}. */
    public void readFrame(int frame, ByteBuffer dst) throws IOException {
        if (frame < 0 || frame >= header.frameCount()) throw new IllegalArgumentException("no frame " + frame);
        int limit = dst.limit();
        dst.limit(dst.position() + header.blockSize());
        source.read(header.framesOffset() + (long) frame * header.blockSize(), dst);
        dst.limit(limit);
    }

    static ArenaHeader parseHeader(ByteBuffer h) throws ArenaFormatException {
        byte[] magic = new byte[ArenaLayout.MAGIC.length];
        h.get(ArenaLayout.H_MAGIC, magic);
        if (!Arrays.equals(magic, ArenaLayout.MAGIC))
            throw new ArenaFormatException("not a Vigil cache arena: bad magic " + Arrays.toString(magic));
        int version = h.getInt(ArenaLayout.H_VERSION);
        if (version != ArenaLayout.VERSION)
            throw new ArenaFormatException("arena layout version " + version + " is not supported (this reader knows "
                    + ArenaLayout.VERSION + ")");
        int blockSize = h.getInt(ArenaLayout.H_BLOCK_SIZE);
        int slotSize = h.getInt(ArenaLayout.H_SLOT_SIZE);
        long maxFrames = h.getLong(ArenaLayout.H_MAX_FRAMES);
        long frames = h.getLong(ArenaLayout.H_FRAMES);
        if (blockSize < 512 || blockSize > 65536 || Integer.bitCount(blockSize) != 1 || slotSize != ArenaLayout.SLOT_SIZE
                || h.getInt(ArenaLayout.H_HEADER_SIZE) != ArenaLayout.HEADER_SIZE || frames < 0 || frames > maxFrames)
            throw new ArenaFormatException("inconsistent arena header: blockSize " + blockSize + ", slotSize " + slotSize
                    + ", frames " + frames + " of " + maxFrames);
        ArenaLayout layout = new ArenaLayout(blockSize, maxFrames);
        long tableOffset = h.getLong(ArenaLayout.H_TABLE_OFFSET);
        long framesOffset = h.getLong(ArenaLayout.H_FRAMES_OFFSET);
        if (tableOffset != layout.tableOffset() || framesOffset != layout.framesOffset())
            throw new ArenaFormatException("inconsistent arena header: table at " + tableOffset + ", frames at " + framesOffset);
        return new ArenaHeader(version, blockSize, slotSize, id(h, ArenaLayout.H_VM_ID), id(h, ArenaLayout.H_DISK_ID),
                h.getLong(ArenaLayout.H_GENERATION), maxFrames, frames, tableOffset, framesOffset,
                h.getLong(ArenaLayout.H_DISK_SIZE), h.getLong(ArenaLayout.H_EPOCH), h.getLong(ArenaLayout.H_DURABLE_EPOCH),
                h.getLong(ArenaLayout.H_LAST_WRITE_BACK), h.getInt(ArenaLayout.H_MODE), h.getInt(ArenaLayout.H_AGENT_STATE),
                h.getLong(ArenaLayout.H_CREATED));
    }

    private static String id(ByteBuffer h, int at) {
        byte[] b = new byte[ArenaIdentity.MAX_ID_BYTES];
        h.get(at, b);
        int n = 0;
        while (n < b.length && b[n] != 0) n++;
        return new String(b, 0, n, StandardCharsets.UTF_8);
    }
}
