package io.vigil.protocol;

import io.vigil.protocol.memory.MemoryKeeperEndpoint;
import java.util.List;

/**
 * What a host has and runs: its CPUs and memory, every domain libvirt knows on it, and where its memory keeper
 * serves its cache arenas ({@code memoryKeeper}, null when it runs none).
 */
public record HostInventory(int cpus, long memoryTotalMiB, long memoryFreeMiB, List<VmReport> vms,
        MemoryKeeperEndpoint memoryKeeper) {
    public HostInventory {
        vms = vms == null ? List.of() : List.copyOf(vms);
    }

    public HostInventory(int cpus, long memoryTotalMiB, long memoryFreeMiB, List<VmReport> vms) {
        this(cpus, memoryTotalMiB, memoryFreeMiB, vms, null);
    }

    public HostInventory withMemoryKeeper(MemoryKeeperEndpoint keeper) {
        return new HostInventory(cpus, memoryTotalMiB, memoryFreeMiB, vms, keeper);
    }
}
