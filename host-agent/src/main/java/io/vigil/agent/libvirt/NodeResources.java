package io.vigil.agent.libvirt;

/** The host's CPUs and memory as libvirt reports them. */
public record NodeResources(int cpus, long memoryMiB) {}
