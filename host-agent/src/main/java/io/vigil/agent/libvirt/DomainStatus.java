package io.vigil.agent.libvirt;

import io.vigil.protocol.VmPowerState;

/** One domain as libvirt reports it. */
public record DomainStatus(String name, String uuid, VmPowerState state, long memoryMiB, int vcpus) {}
