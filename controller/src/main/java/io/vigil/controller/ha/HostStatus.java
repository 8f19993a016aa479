package io.vigil.controller.ha;

import java.util.List;

/**
 * A host as the core reports it: state, generation of its storage lease, capacity, and the VMs it runs.
 * {@code memoryUsedMiB} is the memory of the VMs the controller has placed on it (plus unmanaged domains it reports).
 */
public record HostStatus(String name, HostState state, long generation, int cpus, long memoryTotalMiB,
        long memoryUsedMiB, boolean connected, boolean storageOk, List<String> vms, long lastHeartbeatMillis,
        long stateSinceMillis) {}
