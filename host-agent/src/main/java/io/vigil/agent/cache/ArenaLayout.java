package io.vigil.agent.cache;

import java.nio.charset.StandardCharsets;

/**
 * Where things are in an arena file, version 1 (host-agent/ARENA.md is the normative description). All integers are
 * little-endian. Shared by the live cache ({@link ArenaFile}) and {@link ArenaReader}, so the two cannot drift.
 */
record ArenaLayout(int blockSize, long maxFrames) {
    static final byte[] MAGIC = "VIGILARN".getBytes(StandardCharsets.US_ASCII);
    static final int VERSION = 1;
    static final int HEADER_SIZE = 4096;
    static final int SLOT_SIZE = 64;

    // header fields
    static final int H_MAGIC = 0;
    static final int H_VERSION = 8;
    static final int H_HEADER_SIZE = 12;
    static final int H_BLOCK_SIZE = 16;
    static final int H_SLOT_SIZE = 20;
    static final int H_GENERATION = 24;
    static final int H_MAX_FRAMES = 32;
    static final int H_FRAMES = 40;
    static final int H_TABLE_OFFSET = 48;
    static final int H_FRAMES_OFFSET = 56;
    static final int H_DISK_SIZE = 64;
    static final int H_EPOCH = 72;
    static final int H_LAST_WRITE_BACK = 80;
    static final int H_DURABLE_EPOCH = 88;
    static final int H_MODE = 96;
    static final int H_AGENT_STATE = 100;
    static final int H_CREATED = 104;
    static final int H_VM_ID = 128;
    static final int H_DISK_ID = 192;

    // slot fields
    static final int S_SEQ = 0;
    static final int S_STATE = 8;
    static final int S_CRC = 12;
    static final int S_OFFSET = 16;
    static final int S_EPOCH = 24;
    static final int S_SEQ_CLOSE = 56;

    // slot states
    static final int FREE = 0;
    static final int CLEAN = 1;
    static final int DIRTY = 2;

    // agent states in the header
    static final int AGENT_ATTACHED = 1;
    static final int AGENT_DETACHED = 2;

    long tableOffset() {
        return HEADER_SIZE;
    }

    /** Frames start on a boundary of max(4096, blockSize), so no frame straddles a page or a 1 GiB mapping. */
    long framesOffset() {
        long end = tableOffset() + maxFrames * SLOT_SIZE;
        long align = Math.max(4096, blockSize);
        return (end + align - 1) / align * align;
    }

    long slotOffset(long frame) {
        return tableOffset() + frame * SLOT_SIZE;
    }

    long frameOffset(long frame) {
        return framesOffset() + frame * blockSize;
    }

    long fileSize(long frames) {
        return framesOffset() + frames * blockSize;
    }
}
