package io.vigil.agent.cache;

import io.vigil.protocol.CacheMode;

/**
 * How big a VM disk's cache is and how it behaves. {@code capacityBytes} is rounded down to whole blocks; 0 makes the
 * cache a pass-through. {@code maxCapacityBytes} fixes the dirty table's size at creation, the most the cache can
 * grow to. {@code dirtyFraction}: at most this share of the frames hold data not yet written back; writers wait
 * beyond it. {@code writeBackDelayMillis}, the flush interval: dirty blocks are written back once the oldest of them
 * has waited this long (or sooner: when half the dirty bound is used, on a FLUSH in write-back mode, on a shrink or
 * close); 0 writes back at once. It bounds what a host failure loses when its memory cannot be read any more.
 */
public record CacheSettings(long capacityBytes, long maxCapacityBytes, int blockSize, CacheMode mode, double dirtyFraction,
                            long writeBackDelayMillis) {
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
        if (writeBackDelayMillis < 0 || writeBackDelayMillis > 3_600_000)
            throw new IllegalArgumentException("writeBackDelayMillis must be 0 to 3600000, not " + writeBackDelayMillis);
    }

    /** Writing back at once. */
    public CacheSettings(long capacityBytes, long maxCapacityBytes, int blockSize, CacheMode mode, double dirtyFraction) {
        this(capacityBytes, maxCapacityBytes, blockSize, mode, dirtyFraction, 0);
    }

    /** 4 KiB blocks, half of the frames may be dirty. */
    public static CacheSettings of(long capacityBytes, long maxCapacityBytes, CacheMode mode) {
        return new CacheSettings(capacityBytes, maxCapacityBytes, DEFAULT_BLOCK_SIZE, mode, DEFAULT_DIRTY_FRACTION);
    }

    public CacheSettings withCapacity(long bytes) {
        return new CacheSettings(bytes, maxCapacityBytes, blockSize, mode, dirtyFraction, writeBackDelayMillis);
    }

    public CacheSettings withMode(CacheMode m) {
        return new CacheSettings(capacityBytes, maxCapacityBytes, blockSize, m, dirtyFraction, writeBackDelayMillis);
    }

    public CacheSettings withBlockSize(int size) {
        return new CacheSettings(capacityBytes, maxCapacityBytes, size, mode, dirtyFraction, writeBackDelayMillis);
    }

    public CacheSettings withDirtyFraction(double fraction) {
        return new CacheSettings(capacityBytes, maxCapacityBytes, blockSize, mode, fraction, writeBackDelayMillis);
    }

    public CacheSettings withWriteBackDelay(long millis) {
        return new CacheSettings(capacityBytes, maxCapacityBytes, blockSize, mode, dirtyFraction, millis);
    }

    int frames() {
        return (int) (capacityBytes / blockSize);
    }

    int maxFrames() {
        return (int) (maxCapacityBytes / blockSize);
    }
}
