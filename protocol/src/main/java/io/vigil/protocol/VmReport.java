package io.vigil.protocol;

/**
 * One domain as an agent sees it in libvirt. {@code leaseGeneration} is the generation of the VM lease this host
 * holds for it, or 0 when it holds none. {@code cacheBytes} is the memory its disk cache holds now (lent from the
 * host's failover reserve) and {@code cacheDirtyBytes} how much of it is not yet written back to the disk images.
 */
public record VmReport(String name, String uuid, VmPowerState state, long memoryMiB, int vcpus, long leaseGeneration,
        long cacheBytes, long cacheDirtyBytes) {

    /** A domain without a disk cache. */
    public VmReport(String name, String uuid, VmPowerState state, long memoryMiB, int vcpus, long leaseGeneration) {
        this(name, uuid, state, memoryMiB, vcpus, leaseGeneration, 0, 0);
    }
}
