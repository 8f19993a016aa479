package io.vigil.agent.cache;

import java.util.ArrayDeque;

/**
 * The dirty frames grouped by flush epoch, oldest epoch first and, within one, in the order they were written.
 * Write-back drains the oldest epoch completely (and fsyncs) before it touches the next. Epoch queues are pooled so
 * that a write opening a new epoch allocates nothing. Not thread-safe.
 */
final class DirtyEpochs {
    static final class Epoch {
        long number;
        final FrameQueue frames;

        Epoch(FrameQueue.Links links) {
            frames = new FrameQueue(links);
        }
    }

    private final FrameQueue.Links links = new FrameQueue.Links();
    private final ArrayDeque<Epoch> epochs = new ArrayDeque<>();
    private final ArrayDeque<Epoch> pool = new ArrayDeque<>();

    void grow(int frames) {
        links.grow(frames);
    }

    /** Appends {@code f} to epoch {@code number}, which is the newest. */
    void add(int f, long number) {
        Epoch last = epochs.peekLast();
        if (last == null || last.number != number) {
            last = pool.isEmpty() ? new Epoch(links) : pool.poll();
            last.number = number;
            last.frames.clear();
            epochs.addLast(last);
        }
        last.frames.pushTail(f);
    }

    /** Puts a frame whose write-back failed back at the front of its epoch. */
    void requeue(int f, long number) {
        find(number).frames.pushHead(f);
    }

    void remove(int f, long number) {
        find(number).frames.remove(f);
    }

    void replace(int f, int replacement, long number) {
        find(number).frames.replace(f, replacement);
    }

    /** The oldest epoch that still has dirty frames or has not been retired, or null. */
    Epoch oldest() {
        return epochs.peekFirst();
    }

    void retireOldest() {
        pool.add(epochs.pollFirst());
    }

    private Epoch find(long number) {
        Epoch last = epochs.peekLast();
        if (last != null && last.number == number) return last; // the common case: the current epoch
        for (Epoch e : epochs) if (e.number == number) return e;
        throw new IllegalStateException("no dirty epoch " + number);
    }
}
