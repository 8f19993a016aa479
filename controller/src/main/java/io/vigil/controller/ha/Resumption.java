package io.vigil.controller.ha;

import io.vigil.protocol.HostInventory;
import java.util.List;

/**
 * The first input after {@link ClusterState#restore}: starts the clocks the store could not keep. Every host is
 * treated as last heard now (so none is declared failed before a failure timeout passes), command ids get a new
 * prefix, VMs that were starting, stopping or being deleted wait for a result under a placeholder and get their
 * command re-sent if none comes, and VMs whose host was already fenced are placed.
 */
final class Resumption {

    void resume(Round r) {
        r.resumePending = false;
        r.ledger = r.ledger.withPrefix("c-r" + r.now.epochMillis() + "-");
        for (HostRecord h : List.copyOf(r.hosts.values()))
            r.put(HostRecord.unheard(h.name(), h.state(), h.generation(), h.inventory(), h.storageOk(),
                    h.stateSinceMillis(), r.now));
        for (VmRecord v : List.copyOf(r.vms.values())) {
            v = v.clockedAt(r.now);
            r.put(v);
            if (v.host() != null && r.host(v.host()) == null) {
                // A host the store did not keep: judge it like any silent host rather than assume its VMs are gone.
                r.put(HostRecord.unheard(v.host(), HostState.CONNECTED, 0, new HostInventory(0, 0, 0, List.of()),
                        true, r.now.epochMillis(), r.now));
            }
            PendingCommand.Kind kind = switch (v.state()) {
                case STARTING -> PendingCommand.Kind.START;
                case STOPPING -> PendingCommand.Kind.STOP;
                case DELETING -> PendingCommand.Kind.UNDEFINE;
                default -> null;
            };
            if (kind != null && v.host() != null) {
                String id = r.ledger.nextId();
                long timeout = kind == PendingCommand.Kind.START ? CommandLedger.START_TIMEOUT_MILLIS
                        : kind == PendingCommand.Kind.STOP ? CommandLedger.STOP_TIMEOUT_MILLIS
                        : CommandLedger.DESTROY_TIMEOUT_MILLIS;
                r.ledger = r.ledger.withIssued(new PendingCommand(id, v.host(), v.name(), kind, v.generation(),
                        r.now.monotonicNanos(), timeout, null));
                r.put(v.withCommand(id));
            } else if (v.state() == VmState.STARTING || v.state() == VmState.RECOVERY && (v.host() == null
                    || r.host(v.host()).state() == HostState.FENCED)) {
                r.put(v.to(VmState.RECOVERY, null, r.now));
                r.requestPlacement(v.name(), null, "it was waiting for a host when the controller restarted");
            }
        }
        r.capacityChanged = true;
    }
}
