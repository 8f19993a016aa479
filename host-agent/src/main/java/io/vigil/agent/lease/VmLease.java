package io.vigil.agent.lease;

/**
 * The record in {@code leases/<vm>/gen-<generation>}: {@code ownerHost} may run {@code vm} while its host lease at
 * {@code ownerHostGeneration} is live. The current lease of a VM is the one with the highest generation.
 */
public record VmLease(String vm, String ownerHost, long ownerHostGeneration, long generation) {

    /** The record in {@code gen-<generation>.released}: the owner gave the lease up, so the VM is free. */
    public record Release(String vm, String ownerHost, long generation, long releasedAtMillis) {}
}
