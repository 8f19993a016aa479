package io.vigil.agent.cache;

import java.util.Arrays;

/**
 * Block number to frame number: open addressing with linear probing and backward-shift deletion, on primitive
 * arrays so the hit path neither boxes nor allocates. Keys are non-negative. Not thread-safe.
 */
final class BlockIndex {
    private static final long EMPTY = -1;
    private long[] keys;
    private int[] values;
    private int mask;
    private int size;

    BlockIndex(int expected) {
        int capacity = Integer.highestOneBit(Math.max(16, expected * 2 - 1)) << 1;
        keys = new long[capacity];
        values = new int[capacity];
        Arrays.fill(keys, EMPTY);
        mask = capacity - 1;
    }

    int size() {
        return size;
    }

    /** The frame, or -1. */
    int get(long key) {
        for (int i = slot(key); ; i = (i + 1) & mask) {
            long k = keys[i];
            if (k == key) return values[i];
            if (k == EMPTY) return -1;
        }
    }

    void put(long key, int value) {
        for (int i = slot(key); ; i = (i + 1) & mask) {
            long k = keys[i];
            if (k == key) {
                values[i] = value;
                return;
            }
            if (k == EMPTY) {
                keys[i] = key;
                values[i] = value;
                if (++size * 2 > keys.length) rehash(keys.length * 2);
                return;
            }
        }
    }

    /** Removes the key; returns its frame or -1. */
    int remove(long key) {
        int i = slot(key);
        while (true) {
            long k = keys[i];
            if (k == EMPTY) return -1;
            if (k == key) break;
            i = (i + 1) & mask;
        }
        int removed = values[i];
        size--;
        // shift later members of the probe run back, so lookups never stop early at a hole
        int hole = i;
        for (int j = (hole + 1) & mask; keys[j] != EMPTY; j = (j + 1) & mask) {
            int home = slot(keys[j]);
            if (((j - home) & mask) >= ((j - hole) & mask)) {
                keys[hole] = keys[j];
                values[hole] = values[j];
                hole = j;
            }
        }
        keys[hole] = EMPTY;
        return removed;
    }

    void clear() {
        Arrays.fill(keys, EMPTY);
        size = 0;
    }

    private int slot(long key) {
        long h = key * 0x9E3779B97F4A7C15L;
        return (int) (h ^ (h >>> 32)) & mask;
    }

    private void rehash(int capacity) {
        long[] oldKeys = keys;
        int[] oldValues = values;
        keys = new long[capacity];
        values = new int[capacity];
        Arrays.fill(keys, EMPTY);
        mask = capacity - 1;
        size = 0;
        for (int i = 0; i < oldKeys.length; i++) if (oldKeys[i] != EMPTY) put(oldKeys[i], oldValues[i]);
    }
}
