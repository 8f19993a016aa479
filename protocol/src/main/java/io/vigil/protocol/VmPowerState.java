package io.vigil.protocol;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/** A domain's state as libvirt reports it on one host (observed state, as opposed to a VM's desired state). */
public enum VmPowerState {
    RUNNING, PAUSED, SHUTTING_DOWN, SHUTOFF, CRASHED, OTHER;

    @JsonValue
    public String wireName() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    @JsonCreator
    public static VmPowerState fromWire(String value) {
        for (VmPowerState s : values()) if (s.wireName().equals(value)) return s;
        return OTHER;
    }

    /** Whether a QEMU process exists for the domain, i.e. whether it may be writing its disks. */
    public boolean isActive() {
        return this == RUNNING || this == PAUSED || this == SHUTTING_DOWN;
    }
}
