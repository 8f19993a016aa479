package io.vigil.controller.ha;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/**
 * What the operator asks of a VM ({@code requestedState}); the core converges observed state to it.
 * <ul>
 *   <li>STARTED: keep it running; restart it where it belongs when it stops or its host fails.</li>
 *   <li>STOPPED: keep it stopped (stop it if it runs).</li>
 *   <li>DISABLED: stopped and out of HA: it is stopped, never started or restarted, and an error is cleared (one
 *       way out of the error state; the operator's start is the other, see {@link VmSpec#withStartRequested}).</li>
 *   <li>IGNORED: not managed: the controller reports where it sees it running but never starts, stops, restarts,
 *       moves or destroys it.</li>
 *   <li>DELETED: internal, set by DELETE: destroyed, undefined and forgotten.</li>
 * </ul>
 */
public enum RequestedState {
    STARTED, STOPPED, DISABLED, IGNORED, DELETED;

    @JsonValue
    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    @JsonCreator
    public static RequestedState fromWire(String value) {
        for (RequestedState d : values()) if (d.wireName().equals(value)) return d;
        throw new IllegalArgumentException("requestedState must be one of started, stopped, disabled, ignored, not '"
                + value + "'");
    }

    /** Whether the controller keeps a VM in this state stopped (stopped or disabled). */
    public boolean keepsStopped() {
        return this == STOPPED || this == DISABLED;
    }
}
