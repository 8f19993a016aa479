package io.vigil.agent.libvirt;

import io.vigil.protocol.VmPowerState;

/**
 * One domain as libvirt reports it. {@code stateReason}: libvirt's reason for a paused domain's pause ({@code ioerror},
 * {@code user}, {@code migration}, ...), null for other states or when libvirt cannot say.
 */
public record DomainStatus(String name, String uuid, VmPowerState state, long memoryMiB, int vcpus, String stateReason) {
    public DomainStatus(String name, String uuid, VmPowerState state, long memoryMiB, int vcpus) {
        this(name, uuid, state, memoryMiB, vcpus, null);
    }
}
