package io.vigil.controller.ha;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/**
 * How the controller keeps room for failover (see {@link FailoverReserve}).
 * <ul>
 *   <li>HOST_FAILURES: keep enough free on the surviving hosts for the HA VMs of the
 *       {@code hostFailuresToTolerate} hosts whose loss would hurt most.</li>
 *   <li>PERCENTAGE: keep {@code reservePercent} of cluster memory and CPU free.</li>
 *   <li>DEDICATED: the {@code failoverHosts} run no VMs except after a failure.</li>
 *   <li>OFF: no reserve; HA VMs restart where room happens to be.</li>
 * </ul>
 */
public enum AdmissionControl {
    HOST_FAILURES, PERCENTAGE, DEDICATED, OFF;

    @JsonValue
    public String wireName() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    @JsonCreator
    public static AdmissionControl fromWire(String value) {
        for (AdmissionControl a : values()) if (a.wireName().equals(value)) return a;
        throw new IllegalArgumentException("admissionControl must be one of host-failures, percentage, dedicated, off, "
                + "not '" + value + "'");
    }
}
