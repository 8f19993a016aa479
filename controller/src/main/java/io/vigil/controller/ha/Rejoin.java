package io.vigil.controller.ha;

import io.vigil.protocol.VmReport;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * A fenced host (or a failed one that came back with a new generation) coming back: it is told which VMs it lost,
 * so it never runs them, and becomes a placement target again once it heartbeats as the new incarnation.
 */
final class Rejoin {

    /** On contact from a fenced host whose storage works again. */
    void begin(Round r, String hostName, boolean hello) {
        HostRecord h = r.host(hostName);
        TreeSet<String> lost = new TreeSet<>();
        for (String vm : h.lostVms()) if (r.vm(vm) != null) lost.add(vm);
        for (VmReport report : h.inventory().vms()) {
            VmRecord v = r.vm(report.name());
            if (v != null && v.host() != null && !v.host().equals(hostName)) lost.add(v.name());
        }
        r.put(h.to(HostState.REJOINING, r.now).withFailover(null, h.failoverCount()));
        r.emit(new HaCommand.TellLostVms(hostName, List.copyOf(lost)));
        r.event("host-lost-vms", hostName, null, "it rejoins after being fenced",
                hostName + " is told it lost " + (lost.isEmpty() ? "no VMs" : lost)
                        + " and must never run them (they run elsewhere or wait for capacity)",
                Round.details("vms", List.copyOf(lost), "generation", h.generation()));
        if (!hello) complete(r, hostName);
    }

    /** The rejoining host's first heartbeat as its new incarnation: it takes VMs again. */
    void complete(Round r, String hostName) {
        HostRecord h = r.host(hostName);
        r.put(h.to(HostState.CONNECTED, r.now));
        r.capacityChanged = true;
        r.hostsChanged = true;
        r.event("host-rejoined", hostName, null, "it heartbeats again after being fenced",
                hostName + " rejoined with generation " + h.generation() + " and accepts VMs again",
                Map.of("generation", h.generation()));
    }
}
