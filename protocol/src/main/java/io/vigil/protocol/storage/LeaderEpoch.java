package io.vigil.protocol.storage;

/**
 * The claim of one leader epoch, {@code control-plane/leader/epoch-<E>}: created once, whole and exclusively, by the
 * controller that became the leader at epoch E, and never rewritten. Whoever creates it is the only leader that
 * epoch ever has; the highest epoch on storage is the current one.
 */
public record LeaderEpoch(long epoch, String controller, String instance, long leaseTimeoutMillis, long createdAtMillis) {}
