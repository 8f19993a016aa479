package io.vigil.protocol;

/**
 * One domain as an agent sees it in libvirt. {@code leaseGeneration} is the generation of the VM lease this host
 * holds for it, or 0 when it holds none.
 */
public record VmReport(String name, String uuid, VmPowerState state, long memoryMiB, int vcpus, long leaseGeneration) {}
