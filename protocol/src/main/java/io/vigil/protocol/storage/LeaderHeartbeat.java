package io.vigil.protocol.storage;

/**
 * The renewal of a leader epoch, {@code control-plane/leader/epoch-<E>.heartbeat}, rewritten (atomically) every
 * second by the holder of epoch E only. {@code counter} changes at every renewal; an observer that sees it unchanged
 * for {@code leaseTimeoutMillis} of its own clock may claim epoch E + 1. {@code released} is written by a leader that
 * shuts down cleanly: the next controller may claim at once. {@code writtenAtMillis} is for people only.
 */
public record LeaderHeartbeat(long epoch, String controller, String instance, long counter, boolean released,
                              long leaseTimeoutMillis, long writtenAtMillis) {

    /** Whether {@code other} is the same write as this one (no renewal in between). */
    public boolean sameWriteAs(LeaderHeartbeat other) {
        return other != null && epoch == other.epoch && counter == other.counter && released == other.released;
    }
}
