package io.vigil.controller.ha;

import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/** A VM's state as the controller reports it over REST. */
public enum VmState {
    /** Placed on a host and told to start; not yet confirmed running. */
    STARTING,
    RUNNING,
    STOPPING,
    STOPPED,
    /** Its host failed: waiting for the host's lease to expire, then restarting elsewhere. */
    RECOVERY,
    /** Desired running but no host has room; starts as soon as capacity appears, by priority. */
    PENDING_CAPACITY,
    MIGRATING,
    /** Gave up (start refused everywhere it was tried); {@code lastError} says why. */
    ERROR,
    /** Being destroyed and undefined; disappears when done. */
    DELETING;

    @JsonValue
    public String wireName() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
}
