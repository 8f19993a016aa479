package io.vigil.controller.ha;

import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/**
 * A planned move of a running VM. MIGRATE saves its memory state on the source and restores it on the target through
 * shared storage (the guest carries on; a cold start where a restore is impossible); RELOCATE stops it on the source
 * and starts it on the target.
 */
public enum MoveKind {
    MIGRATE, RELOCATE;

    @JsonValue
    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
