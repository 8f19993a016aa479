package io.vigil.agent.disk;

/**
 * A run of a disk's bytes with one allocation status, as NBD's {@code base:allocation} context reports it:
 * {@code hole} (no storage allocated) and {@code zero} (reads as zeroes) may each be set or not.
 */
public record Extent(long length, boolean hole, boolean zero) {
    public Extent {
        if (length <= 0) throw new IllegalArgumentException("an extent's length must be positive, not " + length);
    }

    /** Allocated data. */
    public static Extent data(long length) {
        return new Extent(length, false, false);
    }
}
