package io.vigil.controller.ha;

/**
 * A VM's desired state, as the operator set it through the API: its libvirt domain definition (already validated),
 * HA settings, and whether it should run. Written by the REST layer, read by the core.
 */
public record VmSpec(String name, String domainXml, long memoryMiB, int vcpus, boolean haEnabled, Priority priority,
        DesiredState desired, long createdAtMillis) {

    public VmSpec withDesired(DesiredState newDesired) {
        return new VmSpec(name, domainXml, memoryMiB, vcpus, haEnabled, priority, newDesired, createdAtMillis);
    }
}
