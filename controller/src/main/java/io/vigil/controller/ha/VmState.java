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
    /**
     * Requested started but it cannot start yet: no allowed host has room, a strict rule or preference keeps it
     * waiting, the VMs it starts after are not running yet, or its host's rejoin grace holds it. Starts as soon as
     * that changes, by priority.
     */
    PENDING_CAPACITY,
    MIGRATING,
    /** Stopped on a host that shut down under the freeze policy: it starts there again when the host returns. */
    FROZEN,
    /**
     * Gave up (start refused everywhere it was tried, or a stop or delete failed); {@code lastError} says why. The
     * operator's start takes it out (placed afresh), as do requestedState disabled, stop and delete.
     */
    ERROR,
    /** Being destroyed and undefined; disappears when done. */
    DELETING;

    @JsonValue
    public String wireName() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
}
