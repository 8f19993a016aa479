package io.vigil.controller.ha;

/**
 * What the core knows of a VM at run time: where it is (or is meant to be), its state, the generation of its disk
 * lease, and the last error. {@code stateSinceMillis} is wall-clock for display.
 */
public record VmStatus(String name, String host, VmState state, long generation, String lastError,
        long stateSinceMillis) {}
