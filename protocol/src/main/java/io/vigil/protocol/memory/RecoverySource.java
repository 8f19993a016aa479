package io.vigil.protocol.memory;

/**
 * In a StartVm for a VM whose host failed: where its dirty cache blocks may still be read. The target reads the VM's
 * arenas ({@code <vm>/<disk>}) from {@code keeper} (the failed host's memory keeper) presenting {@code grant} (a
 * {@link RegionGrant} token), applies the valid dirty blocks of arenas written under lease {@code generation} to the
 * disk images, and only then starts the VM. If the keeper cannot be reached within {@code deadlineMillis}, the VM
 * starts from the images alone; {@code lastWriteBackMillis} (from the failed host's last report, 0 if unknown) is
 * then the start of the window of writes that may be lost.
 */
public record RecoverySource(String host, MemoryKeeperEndpoint keeper, String grant, long generation,
        long deadlineMillis, long lastWriteBackMillis, long dirtyBytes) {
    public RecoverySource {
        if (host == null || host.isBlank()) throw new IllegalArgumentException("host is required");
        if (keeper == null) throw new IllegalArgumentException("keeper is required");
        if (grant == null || grant.isBlank()) throw new IllegalArgumentException("grant is required");
        if (deadlineMillis <= 0) throw new IllegalArgumentException("deadlineMillis must be positive");
    }

    @Override
    public String toString() {
        return "RecoverySource[host=" + host + ", keeper=" + keeper + ", generation=" + generation + ", deadlineMillis="
                + deadlineMillis + ", lastWriteBackMillis=" + lastWriteBackMillis + ", dirtyBytes=" + dirtyBytes + "]";
    }
}
