package io.vigil.agent.libvirt;

/** The domain a saved-state file holds, as libvirt reads it from the file: what it will run if restored. */
public record SavedDomain(String name, String uuid) {}
