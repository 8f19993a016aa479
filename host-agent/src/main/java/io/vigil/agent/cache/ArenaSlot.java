package io.vigil.agent.cache;

/**
 * One dirty table slot that is not free, as {@link ArenaReader} found it. Recovery uses a {@link Validity#VALID}
 * dirty slot only; among several versions of one {@code diskOffset} the higher {@code sequence} is newer.
 */
public record ArenaSlot(int frame, State state, long diskOffset, long sequence, long epoch, int crc32c, Validity validity) {

    public enum State { CLEAN, DIRTY }

    public enum Validity {
        VALID,
        /** The two sequence copies differ: the agent stopped while writing the slot; that write was not acknowledged. */
        TORN,
        /** The frame's bytes do not match the slot's CRC32C: the frame was being rewritten. */
        BAD_CHECKSUM,
        /** Not torn, but the frame was not read yet: its checksum is for the reader to check ({@link ArenaReader#checksumMatches}). */
        UNCHECKED
    }


    public boolean dirty() {
        return state == State.DIRTY;
    }

    public boolean valid() {
        return validity == Validity.VALID;
    }
}
