package io.vigil.agent.cache;

import java.util.Arrays;
import java.util.function.IntPredicate;

/**
 * The cache's bookkeeping: what each frame holds, the block index, the replacement policy, the dirty epochs and
 * the dirty count, mirrored into the arena's dirty table as it changes. Not thread-safe: {@link BlockCache} calls it
 * under its write lock (reads under its read lock).
 *
 * <p>A frame's bytes never change while other threads can reach it: a write always fills a fresh frame and then
 * swaps the index entry, so a reader copying a frame under the read lock, and write-back copying an in-flight
 * frame with no lock, see whole versions, and a crash mid-copy leaves the previous version intact in the arena.
 */
final class FrameTable {
    static final byte FREE = 0, CLEAN = 1, DIRTY = 2, ALLOCATED = 3, LOADING = 4;
    private static final byte IN_FLIGHT = 1, SUPERSEDED = 2, ABANDONED = 4;

    private final ArenaFile arena;
    private final int blockSize;
    private final int shift;
    private final double dirtyFraction;
    private int frameCount;
    /** Frames at or past the limit are being given up by a shrink: not handed out again. */
    private int limit;
    private long[] blockOf = new long[0];
    private long[] seqOf = new long[0];
    private long[] epochOf = new long[0];
    private byte[] state = new byte[0];
    private byte[] flags = new byte[0];
    private int[] free = new int[0];
    private int freeTop;
    private final BlockIndex index;
    private final S3Fifo policy = new S3Fifo();
    private final DirtyEpochs epochs = new DirtyEpochs();
    private final IntPredicate evictable = f -> state[f] == CLEAN;
    private long dirty;
    private long reserved;
    private long maxDirty;
    private long sequence;
    private long currentEpoch;
    private long durableEpoch;
    private int privateFrames;
    /** Frames tagged as in flight by the last takeBatch/takeRange; their blocks, same order. */
    private boolean sawNewer;

    FrameTable(ArenaFile arena, int frames, double dirtyFraction, long firstSequence, long firstEpoch) {
        this.arena = arena;
        this.blockSize = arena.layout.blockSize();
        this.shift = Integer.numberOfTrailingZeros(blockSize);
        this.dirtyFraction = dirtyFraction;
        this.index = new BlockIndex(Math.max(16, frames));
        this.sequence = firstSequence;
        this.currentEpoch = firstEpoch;
        this.durableEpoch = firstEpoch;
        arena.putHeaderLong(ArenaLayout.H_EPOCH, firstEpoch);
        arena.putHeaderLong(ArenaLayout.H_DURABLE_EPOCH, firstEpoch);
        grow(frames);
    }

    // ---- sizes and counts

    int frameCount() {
        return frameCount;
    }

    long maxDirty() {
        return maxDirty;
    }

    long dirty() {
        return dirty;
    }

    long used() {
        return frameCount - freeTop;
    }

    long currentEpoch() {
        return currentEpoch;
    }

    private static long maxDirtyFor(int frames, double fraction) {
        return frames == 0 ? 0 : Math.max(1, (long) (frames * fraction));
    }

    // ---- lookups

    int lookup(long block) {
        return index.get(block);
    }

    /** A hit: the frame holds a whole, current version. */
    boolean readable(int f) {
        byte s = state[f];
        return s == CLEAN || s == DIRTY;
    }

    boolean loading(int f) {
        return state[f] == LOADING;
    }

    void touch(int f) {
        policy.touch(f);
    }

    // ---- allocation

    /** Whether {@code k} more dirty frames fit under the bound. */
    boolean dirtyRoomFor(int k) {
        return dirty + reserved + k <= maxDirty;
    }

    void reserveDirty(int k) {
        reserved += k;
    }

    void unreserveDirty(int k) {
        reserved -= k;
    }

    /** Takes {@code k} frames (free ones, else evicting clean ones) for the caller to fill; all or none. */
    boolean allocate(int k, int[] out) {
        for (int i = 0; i < k; i++) {
            int f = takeFrame();
            if (f < 0) {
                for (int j = 0; j < i; j++) release(out[j]);
                return false;
            }
            state[f] = ALLOCATED;
            flags[f] = 0;
            privateFrames++;
            out[i] = f;
        }
        return true;
    }

    /** Takes up to {@code k} frames; returns how many it got. */
    int allocateUpTo(int k, int[] out) {
        for (int i = 0; i < k; i++) {
            int f = takeFrame();
            if (f < 0) return i;
            state[f] = ALLOCATED;
            flags[f] = 0;
            privateFrames++;
            out[i] = f;
        }
        return k;
    }

    /** Gives back an allocated frame that was not installed. */
    void release(int f) {
        privateFrames--;
        state[f] = FREE;
        pushFree(f);
    }

    private int takeFrame() {
        while (freeTop > 0) {
            int f = free[--freeTop];
            if (f < limit) return f;
        }
        while (true) {
            int v = policy.victim(evictable);
            if (v < 0) return -1;
            long block = blockOf[v];
            index.remove(block);
            policy.rememberEvicted(block);
            arena.setSlotState(v, ArenaLayout.FREE);
            state[v] = FREE;
            blockOf[v] = -1;
            if (v < limit) return v;
        }
    }

    private void pushFree(int f) {
        if (f < limit) free[freeTop++] = f;
    }

    private void freeFrame(int f) {
        arena.setSlotState(f, ArenaLayout.FREE);
        state[f] = FREE;
        flags[f] = 0;
        blockOf[f] = -1;
        pushFree(f);
    }

    // ---- misses

    /** A miss about to be read from the image: the frame stands in for the block until {@link #finishLoad}. */
    void startLoad(long block, int f) {
        state[f] = LOADING;
        blockOf[f] = block;
        index.put(block, f);
    }

    /** Installs the loaded block as clean unless a write replaced it meanwhile or {@code keep} is false. */
    void finishLoad(int f, int crc, boolean keep) {
        privateFrames--;
        long block = blockOf[f];
        if (!keep || (flags[f] & ABANDONED) != 0) {
            if (index.get(block) == f) index.remove(block);
            freeFrame(f);
            return;
        }
        long s = ++sequence;
        arena.writeSlot(f, ArenaLayout.CLEAN, block << shift, s, currentEpoch, crc);
        seqOf[f] = s;
        epochOf[f] = currentEpoch;
        state[f] = CLEAN;
        policy.admit(f, block);
    }

    // ---- writes

    /**
     * Makes the filled frame {@code f} the newest version of {@code block}, dirty in the current epoch. The previous
     * version is freed, unless it must still be written back in an older epoch (copy-on-write) or is being written
     * back now; then it goes once written. The new slot is complete before the old one is freed, so a crash in
     * between leaves two versions and recovery takes the higher sequence.
     */
    void installDirty(long block, int f, int crc) {
        privateFrames--;
        reserved--;
        int old = index.get(block);
        long s = ++sequence;
        long e = currentEpoch;
        arena.writeSlot(f, ArenaLayout.DIRTY, block << shift, s, e, crc);
        blockOf[f] = block;
        seqOf[f] = s;
        epochOf[f] = e;
        state[f] = DIRTY;
        flags[f] = 0;
        dirty++;
        epochs.add(f, e);
        index.put(block, f);
        if (old < 0) {
            policy.admit(f, block);
            return;
        }
        switch (state[old]) {
            case CLEAN -> {
                policy.replace(old, f);
                freeFrame(old);
            }
            case DIRTY -> {
                policy.replace(old, f);
                if ((flags[old] & IN_FLIGHT) != 0 || epochOf[old] != e) {
                    flags[old] |= SUPERSEDED;
                } else {
                    epochs.remove(old, e);
                    dirty--;
                    freeFrame(old);
                }
            }
            case LOADING -> {
                flags[old] |= ABANDONED;
                policy.admit(f, block);
            }
            default -> throw new IllegalStateException("frame " + old + " of block " + block + " is in state " + state[old]);
        }
    }

    /** A FLUSH: later writes belong to a new epoch. Returns the epoch just closed. */
    long startEpoch() {
        long closed = currentEpoch++;
        arena.putHeaderLong(ArenaLayout.H_EPOCH, currentEpoch);
        return closed;
    }

    // ---- write-back

    /**
     * Tags up to {@code max} frames of the oldest epoch below {@code epochLimit} as in flight, retiring epochs that
     * are fully written first. Returns how many; 0 when that epoch has nothing more to write.
     */
    int takeBatch(long epochLimit, int[] frames, long[] blocks, int max) {
        while (true) {
            DirtyEpochs.Epoch oldest = epochs.oldest();
            if (oldest == null) return 0;
            if (oldest.frames.isEmpty()) {
                if (oldest.number >= currentEpoch) return 0;
                retireOldest(oldest.number);
                continue;
            }
            if (oldest.number >= epochLimit) return 0;
            int n = 0;
            while (n < max && !oldest.frames.isEmpty()) {
                int f = oldest.frames.pollHead();
                flags[f] |= IN_FLIGHT;
                frames[n] = f;
                blocks[n] = blockOf[f];
                n++;
            }
            return n;
        }
    }

    private void retireOldest(long number) {
        epochs.retireOldest();
        durableEpoch = number + 1;
        arena.putHeaderLong(ArenaLayout.H_DURABLE_EPOCH, durableEpoch);
    }

    /** Retires every fully written epoch older than the current one (write-back fsyncs each batch). */
    void retireWrittenEpochs() {
        DirtyEpochs.Epoch oldest;
        while ((oldest = epochs.oldest()) != null && oldest.frames.isEmpty() && oldest.number < currentEpoch)
            retireOldest(oldest.number);
    }

    /** Whether every epoch below {@code epoch} is written back. */
    boolean durableBelow(long epoch) {
        retireWrittenEpochs();
        DirtyEpochs.Epoch oldest = epochs.oldest();
        return oldest == null || oldest.number >= epoch;
    }

    /**
     * Tags the current versions of blocks {@code from..to} that are dirty in an epoch up to {@code maxEpoch} as in
     * flight (for a FUA write or a barrier, once every older epoch is written). {@link #sawNewer} tells whether a
     * block of the range has a version in a later epoch.
     */
    int takeRange(long from, long to, long maxEpoch, int[] frames, long[] blocks, int max) {
        sawNewer = false;
        int n = 0;
        if (to - from < 2L * frameCount) {
            for (long b = from; b <= to && n < max; b++) n = takeIfDirty(index.get(b), maxEpoch, frames, blocks, n);
        } else {
            for (int f = 0; f < frameCount && n < max; f++) {
                long b = blockOf[f];
                if (b >= from && b <= to && index.get(b) == f) n = takeIfDirty(f, maxEpoch, frames, blocks, n);
            }
        }
        return n;
    }

    boolean sawNewer() {
        return sawNewer;
    }

    private int takeIfDirty(int f, long maxEpoch, int[] frames, long[] blocks, int n) {
        if (f < 0 || state[f] != DIRTY || (flags[f] & IN_FLIGHT) != 0) return n;
        if (epochOf[f] > maxEpoch) {
            sawNewer = true;
            return n;
        }
        epochs.remove(f, epochOf[f]);
        flags[f] |= IN_FLIGHT;
        frames[n] = f;
        blocks[n] = blockOf[f];
        return n + 1;
    }

    /** The frames are on the image and fsynced: clean now, or freed if a newer version replaced them meanwhile. */
    void completeWriteBack(int[] frames, int n, long nowMillis) {
        for (int i = 0; i < n; i++) {
            int f = frames[i];
            flags[f] &= ~IN_FLIGHT;
            dirty--;
            if ((flags[f] & SUPERSEDED) != 0) {
                freeFrame(f);
            } else {
                state[f] = CLEAN;
                arena.setSlotState(f, ArenaLayout.CLEAN);
            }
        }
        arena.putHeaderLong(ArenaLayout.H_LAST_WRITE_BACK, nowMillis);
    }

    /** The image write failed: the frames go back to the front of their epochs, to be tried again. */
    void abortWriteBack(int[] frames, int n) {
        for (int i = n - 1; i >= 0; i--) {
            int f = frames[i];
            flags[f] &= ~IN_FLIGHT;
            epochs.requeue(f, epochOf[f]);
        }
    }

    // ---- barriers

    /** Drops the clean blocks of {@code from..to}; loads in the range will not be installed. Dirty ones stay. */
    void dropClean(long from, long to) {
        if (to - from < 2L * frameCount) {
            for (long b = from; b <= to; b++) dropIfClean(index.get(b));
        } else {
            for (int f = 0; f < frameCount; f++) {
                long b = blockOf[f];
                if (b >= from && b <= to && index.get(b) == f) dropIfClean(f);
            }
        }
    }

    private void dropIfClean(int f) {
        if (f < 0) return;
        if (state[f] == CLEAN) {
            index.remove(blockOf[f]);
            policy.remove(f);
            freeFrame(f);
        } else if (state[f] == LOADING) {
            flags[f] |= ABANDONED;
        }
    }

    /** The first block of {@code from..to} with a dirty version in the cache, or -1. */
    long firstDirty(long from, long to) {
        long first = -1;
        if (to - from < 2L * frameCount) {
            for (long b = from; b <= to; b++) {
                int f = index.get(b);
                if (f >= 0 && state[f] == DIRTY) return b;
            }
        } else {
            for (int f = 0; f < frameCount; f++) {
                long b = blockOf[f];
                if (state[f] == DIRTY && b >= from && b <= to && (first < 0 || b < first)) first = b;
            }
        }
        return first;
    }

    // ---- resize

    /** Adds frames {@code frameCount..frames-1} (already in the arena) as free. */
    void grow(int frames) {
        if (frames < frameCount) throw new IllegalArgumentException("grow to " + frames + " from " + frameCount);
        if (frames > blockOf.length) {
            int old = blockOf.length;
            blockOf = Arrays.copyOf(blockOf, frames);
            seqOf = Arrays.copyOf(seqOf, frames);
            epochOf = Arrays.copyOf(epochOf, frames);
            state = Arrays.copyOf(state, frames);
            flags = Arrays.copyOf(flags, frames);
            free = Arrays.copyOf(free, frames);
            Arrays.fill(blockOf, old, frames, -1);
        }
        epochs.grow(frames);
        policy.resize(frames); // the queues keep their members: only the link arrays grow
        for (int f = frames - 1; f >= frameCount; f--) {
            arena.setSlotState(f, ArenaLayout.FREE); // a slot past an earlier shrink may still hold an old entry
            free[freeTop++] = f;
        }
        frameCount = frames;
        limit = frames;
        maxDirty = maxDirtyFor(frames, dirtyFraction);
    }

    /** First step of a shrink: no frame at or past {@code frames} is handed out again, and the dirty bound drops. */
    void startShrink(int frames) {
        limit = frames;
        maxDirty = maxDirtyFor(frames, dirtyFraction);
    }

    /**
     * First step of a shrink's clean-up: drops the clean frames past the limit at once (they are never handed out
     * again, see {@link #takeFrame}), so their memory can go back while the dirty ones are written back. Returns
     * them, ascending.
     */
    int[] dropCleanAbove(int frames) {
        int[] out = new int[Math.max(0, frameCount - frames)];
        int n = 0;
        for (int f = frames; f < frameCount; f++) {
            if (state[f] != CLEAN) continue;
            index.remove(blockOf[f]);
            policy.remove(f);
            freeFrame(f);
            out[n++] = f;
        }
        return Arrays.copyOf(out, n);
    }

    /** Whether some frame past the limit is still being filled by a writer or a load. */
    boolean privateFramesAbove(int frames) {
        if (privateFrames == 0) return false;
        for (int f = frames; f < frameCount; f++) if (state[f] == ALLOCATED || state[f] == LOADING) return true;
        return false;
    }

    /**
     * Last step of a shrink, with write-back quiet: clean frames past the limit are dropped, dirty ones are copied
     * to free frames below it (evicting clean ones). Returns how many were moved; throws if they do not fit, which
     * the dirty bound rules out.
     */
    int finishShrink(int frames) {
        int moved = 0;
        for (int f = frames; f < frameCount; f++) {
            if (state[f] == CLEAN) {
                index.remove(blockOf[f]);
                policy.remove(f);
                freeFrame(f);
            } else if (state[f] == DIRTY) {
                int g = takeFrame();
                if (g < 0) throw new IllegalStateException("no frame below " + frames + " to move dirty frame " + f + " to");
                arena.copyFrame(f, g);
                long block = blockOf[f];
                arena.writeSlot(g, ArenaLayout.DIRTY, block << shift, seqOf[f], epochOf[f], arena.slotCrc(f));
                blockOf[g] = block;
                seqOf[g] = seqOf[f];
                epochOf[g] = epochOf[f];
                state[g] = DIRTY;
                flags[g] = flags[f];
                epochs.replace(f, g, epochOf[f]);
                if (index.get(block) == f) index.put(block, g);
                if (policy.contains(f)) policy.replace(f, g);
                freeFrame(f);
                moved++;
            }
        }
        int kept = 0;
        for (int i = 0; i < freeTop; i++) if (free[i] < frames) free[kept++] = free[i];
        freeTop = kept;
        frameCount = frames;
        policy.resize(frames);
        return moved;
    }

    /** Whether the dirty frames past {@code frames} fit into free or clean frames below it. */
    boolean canFinishShrink(int frames) {
        long needed = 0;
        long room = 0;
        for (int f = 0; f < frameCount; f++) {
            if (f >= frames && state[f] == DIRTY) needed++;
            else if (f < frames && (state[f] == FREE || state[f] == CLEAN)) room++;
        }
        return needed <= room;
    }

    // ---- re-attach

    /**
     * Re-attach: every slot is marked free except the frames listed, which stay cached as clean blocks (their dirty
     * data, if any, has just been written to the image). An old slot left dirty would be replayed by a later
     * recovery over newer data.
     */
    void adoptClean(int[] frames, long[] blocks, long[] seqs, int n) {
        for (int f = 0; f < frameCount; f++) arena.setSlotState(f, ArenaLayout.FREE);
        for (int i = 0; i < n; i++) if (frames[i] < frameCount) adoptOne(frames[i], blocks[i], seqs[i]);
        freeTop = 0;
        for (int f = frameCount - 1; f >= 0; f--) if (state[f] == FREE) free[freeTop++] = f;
    }

    private void adoptOne(int f, long block, long seq) {
        blockOf[f] = block;
        seqOf[f] = seq;
        epochOf[f] = currentEpoch;
        state[f] = CLEAN;
        arena.setSlotState(f, ArenaLayout.CLEAN);
        index.put(block, f);
        policy.admit(f, block);
    }
}
