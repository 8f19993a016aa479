package io.vigil.protocol;

import java.util.List;

/** What a host has and runs: its CPUs and memory, and every domain libvirt knows on it. */
public record HostInventory(int cpus, long memoryTotalMiB, long memoryFreeMiB, List<VmReport> vms) {
    public HostInventory {
        vms = vms == null ? List.of() : List.copyOf(vms);
    }
}
