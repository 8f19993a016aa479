package io.vigil.controller.ha;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/** What the operator wants of a VM; the core converges observed state to it. */
public enum DesiredState {
    RUNNING, STOPPED, DELETED;

    @JsonValue
    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    @JsonCreator
    public static DesiredState fromWire(String value) {
        for (DesiredState d : values()) if (d.wireName().equals(value)) return d;
        throw new IllegalArgumentException("unknown desired state '" + value + "'");
    }
}
