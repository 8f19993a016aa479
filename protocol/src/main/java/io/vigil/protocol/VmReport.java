package io.vigil.protocol;

/**
 * One domain as an agent sees it in libvirt. {@code leaseGeneration} is the generation of the VM lease this host
 * holds for it, or 0 when it holds none. {@code cacheBytes} is the memory its disk cache holds now (lent from the
 * host's failover reserve) and {@code cacheDirtyBytes} how much of it is not yet written back to the disk images. {@code cacheWriteBackMillis}: when its caches last finished writing dirty blocks back (Unix
 * milliseconds; 0 if never): should the host fail with its memory unreachable, writes acknowledged since may be lost.
 */
public record VmReport(String name, String uuid, VmPowerState state, long memoryMiB, int vcpus, long leaseGeneration,
        long cacheBytes, long cacheDirtyBytes, long cacheWriteBackMillis) {

    public VmReport(String name, String uuid, VmPowerState state, long memoryMiB, int vcpus, long leaseGeneration,
            long cacheBytes, long cacheDirtyBytes) {
        this(name, uuid, state, memoryMiB, vcpus, leaseGeneration, cacheBytes, cacheDirtyBytes, 0);
    }

    /** A domain without a disk cache. */
    public VmReport(String name, String uuid, VmPowerState state, long memoryMiB, int vcpus, long leaseGeneration) {
        this(name, uuid, state, memoryMiB, vcpus, leaseGeneration, 0, 0, 0);
    }
}
