package io.vigil.controller.ha;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/**
 * Restart priority of a VM: on failover, higher priorities are placed first. Declared highest first.
 * {@code DISABLED}: the VM is not restarted when its host fails (it is still started and stopped on request).
 */
public enum Priority {
    HIGHEST, HIGH, MEDIUM, LOW, LOWEST, DISABLED;

    @JsonValue
    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    @JsonCreator
    public static Priority fromWire(String value) {
        for (Priority p : values()) if (p.wireName().equals(value)) return p;
        throw new IllegalArgumentException("priority must be one of highest, high, medium, low, lowest, disabled, not '"
                + value + "'");
    }
}
