package io.vigil.controller.ha;

import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/**
 * A host as the controller judges it.
 * <ul>
 *   <li>CONNECTED: network heartbeats arrive.</li>
 *   <li>SUSPECT: network heartbeats missed for more than two intervals; nothing is decided yet.</li>
 *   <li>ISOLATED: network silent past the failure timeout while its storage heartbeat still changes: the host is
 *       alive and keeps its VMs (it applies its isolation response itself).</li>
 *   <li>FAILED: network and storage heartbeats both silent past the failure timeout.</li>
 *   <li>FENCED: its storage lease has expired, so none of its VMs can still be writing: they may restart elsewhere.</li>
 *   <li>REJOINING: a fenced or failed host reconnected with a new generation; it is told which VMs it lost.</li>
 *   <li>OFFLINE: it shut down cleanly (its agent said so and its VMs were dealt with); nothing fails over.</li>
 * </ul>
 * Maintenance is not a state but a flag on the host ({@link HostStatus#maintenance()}): a host in maintenance may
 * still fail.
 */
public enum HostState {
    CONNECTED, SUSPECT, ISOLATED, FAILED, FENCED, REJOINING, OFFLINE;

    @JsonValue
    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
