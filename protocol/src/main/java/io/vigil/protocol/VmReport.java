package io.vigil.protocol;

/**
 * One domain as an agent sees it in libvirt. {@code leaseGeneration} is the generation of the VM lease this host
 * holds for it, or 0 when it holds none. {@code cacheBytes} is the memory its disk cache holds now (lent from the
 * host's failover reserve) and {@code cacheDirtyBytes} how much of it is not yet written back to the disk images.
 * {@code cacheWriteBackMillis}: when its caches last finished writing dirty blocks back (Unix milliseconds; 0 if
 * never): should the host fail with its memory unreachable, writes acknowledged since may be lost.
 *
 * <p>{@code stateReason} is libvirt's reason for the state, as its wire name ({@code ioerror}, {@code user},
 * {@code migration}, {@code save}, ... for a paused domain; null when unknown or not worth saying), and
 * {@code problem} what the agent found wrong with the domain that it could not fix itself, in words a person can act
 * on (for example a pause on an I/O error it could not resume, with the cause it saw); null when none.
 */
public record VmReport(String name, String uuid, VmPowerState state, long memoryMiB, int vcpus, long leaseGeneration,
        long cacheBytes, long cacheDirtyBytes, long cacheWriteBackMillis, String stateReason, String problem) {

    public VmReport(String name, String uuid, VmPowerState state, long memoryMiB, int vcpus, long leaseGeneration,
            long cacheBytes, long cacheDirtyBytes, long cacheWriteBackMillis) {
        this(name, uuid, state, memoryMiB, vcpus, leaseGeneration, cacheBytes, cacheDirtyBytes, cacheWriteBackMillis,
                null, null);
    }

    public VmReport(String name, String uuid, VmPowerState state, long memoryMiB, int vcpus, long leaseGeneration,
            long cacheBytes, long cacheDirtyBytes) {
        this(name, uuid, state, memoryMiB, vcpus, leaseGeneration, cacheBytes, cacheDirtyBytes, 0);
    }

    /** A domain without a disk cache. */
    public VmReport(String name, String uuid, VmPowerState state, long memoryMiB, int vcpus, long leaseGeneration) {
        this(name, uuid, state, memoryMiB, vcpus, leaseGeneration, 0, 0, 0);
    }
}
