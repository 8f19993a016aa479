package io.vigil.agent.cache;

import java.util.Arrays;
import java.util.function.IntPredicate;

/**
 * Which cached frame to give up: S3-FIFO (Yang et al., SOSP 2023). New blocks enter a small FIFO (a tenth of the
 * frames); one touched again before it leaves moves to the main FIFO, one that was not goes, its block remembered in
 * a ghost FIFO so that a quick return enters main directly. Main is a CLOCK: a touched frame gets another lap. A
 * one-pass scan therefore only churns the small FIFO and the hot set in main survives it. Frames the caller says are
 * not evictable (dirty) are passed over. Not thread-safe, except {@link #touch}, whose lost updates only blur the
 * frequency estimate.
 */
final class S3Fifo {
    private static final byte NONE = 0, SMALL = 1, MAIN = 2;
    private static final int MAX_FREQ = 3;

    private final FrameQueue.Links links = new FrameQueue.Links();
    private final FrameQueue small = new FrameQueue(links);
    private final FrameQueue main = new FrameQueue(links);
    private byte[] freq = new byte[0];
    private byte[] where = new byte[0];
    private int smallTarget = 1;
    private long[] ghostRing = new long[1];
    private int ghostNext;
    private BlockIndex ghost = new BlockIndex(16);

    /** Sizes the policy for {@code frames} frames; the ghost history starts over. */
    void resize(int frames) {
        links.grow(frames);
        if (frames > freq.length) {
            freq = Arrays.copyOf(freq, frames);
            where = Arrays.copyOf(where, frames);
        }
        smallTarget = Math.max(1, frames / 10);
        ghostRing = new long[Math.max(1, frames)];
        Arrays.fill(ghostRing, -1);
        ghostNext = 0;
        ghost = new BlockIndex(Math.max(16, frames));
    }

    void admit(int f, long block) {
        freq[f] = 0;
        if (ghost.get(block) >= 0) {
            where[f] = MAIN;
            main.pushHead(f);
        } else {
            where[f] = SMALL;
            small.pushHead(f);
        }
    }

    void touch(int f) {
        byte x = freq[f];
        if (x < MAX_FREQ) freq[f] = (byte) (x + 1);
    }

    /** {@code replacement} (a newer version of the same block) takes {@code f}'s place and history. */
    void replace(int f, int replacement) {
        byte w = where[f];
        if (w == NONE) return;
        queue(w).replace(f, replacement);
        where[replacement] = w;
        freq[replacement] = freq[f];
        where[f] = NONE;
    }

    void remove(int f) {
        byte w = where[f];
        if (w == NONE) return;
        queue(w).remove(f);
        where[f] = NONE;
    }

    boolean contains(int f) {
        return where[f] != NONE;
    }

    /** Picks and removes a victim among the evictable frames, or returns -1 if none is. */
    int victim(IntPredicate evictable) {
        for (int budget = 2 * (small.size() + main.size()) + 2; budget > 0; budget--) {
            if (small.size() > smallTarget || main.isEmpty()) {
                int f = small.tail();
                if (f < 0) return -1;
                small.remove(f);
                if (!evictable.test(f) || freq[f] > 0) {
                    freq[f] = 0;
                    where[f] = MAIN;
                    main.pushHead(f);
                    continue;
                }
                where[f] = NONE;
                return f;
            }
            int f = main.tail();
            main.remove(f);
            if (!evictable.test(f) || freq[f] > 0) {
                if (freq[f] > 0) freq[f]--;
                main.pushHead(f);
                continue;
            }
            where[f] = NONE;
            return f;
        }
        return -1;
    }

    /** Called for a block whose frame was evicted from the small FIFO or main: a quick return goes straight to main. */
    void rememberEvicted(long block) {
        long old = ghostRing[ghostNext];
        if (old >= 0 && ghost.get(old) == ghostNext) ghost.remove(old);
        ghostRing[ghostNext] = block;
        ghost.put(block, ghostNext);
        ghostNext = (ghostNext + 1) % ghostRing.length;
    }

    private FrameQueue queue(byte w) {
        return w == SMALL ? small : main;
    }
}
