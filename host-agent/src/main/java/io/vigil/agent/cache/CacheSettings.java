package io.vigil.agent.cache;

import io.vigil.protocol.CacheMode;

/**
 * How big a VM disk's cache is and how it behaves. {@code capacityBytes} is rounded down to whole blocks; 0 makes the
 * cache a pass-through. {@code maxCapacityBytes} fixes the dirty table's size at creation, the most the cache can
 * grow to. {@code dirtyFraction}: at most this share of the frames hold data not yet written back; writers wait
 * beyond it.
 */
public record CacheSettings(long capacityBytes, long maxCapacityBytes, int blockSize, CacheMode mode, double dirtyFraction) {
    public static final int DEFAULT_BLOCK_SIZE = 4096;
    public static final double DEFAULT_DIRTY_FRACTION = 0.5;

    public CacheSettings {
        if (blockSize < 512 || blockSize > 65536 || Integer.bitCount(blockSize) != 1)
            throw new IllegalArgumentException("blockSize must be a power of two from 512 to 65536, not " + blockSize);
        if (capacityBytes < 0 || capacityBytes > maxCapacityBytes)
            throw new IllegalArgumentException("capacityBytes must be from 0 to maxCapacityBytes (" + maxCapacityBytes
                    + "), not " + capacityBytes);
        if (maxCapacityBytes / blockSize > Integer.MAX_VALUE - 8)
            throw new IllegalArgumentException("maxCapacityBytes is too large for blockSize " + blockSize + ": " + maxCapacityBytes);
        if (mode == null) throw new IllegalArgumentException("mode is required");
        if (!(dirtyFraction > 0 && dirtyFraction <= 0.9))
            throw new IllegalArgumentException("dirtyFraction must be in (0, 0.9], not " + dirtyFraction);
    }

    /** 4 KiB blocks, half of the frames may be dirty. */
    public static CacheSettings of(long capacityBytes, long maxCapacityBytes, CacheMode mode) {
        return new CacheSettings(capacityBytes, maxCapacityBytes, DEFAULT_BLOCK_SIZE, mode, DEFAULT_DIRTY_FRACTION);
    }

    public CacheSettings withCapacity(long bytes) {
        return new CacheSettings(bytes, maxCapacityBytes, blockSize, mode, dirtyFraction);
    }

    public CacheSettings withMode(CacheMode m) {
        return new CacheSettings(capacityBytes, maxCapacityBytes, blockSize, m, dirtyFraction);
    }

    public CacheSettings withBlockSize(int size) {
        return new CacheSettings(capacityBytes, maxCapacityBytes, size, mode, dirtyFraction);
    }

    public CacheSettings withDirtyFraction(double fraction) {
        return new CacheSettings(capacityBytes, maxCapacityBytes, blockSize, mode, fraction);
    }

    int frames() {
        return (int) (capacityBytes / blockSize);
    }

    int maxFrames() {
        return (int) (maxCapacityBytes / blockSize);
    }
}
