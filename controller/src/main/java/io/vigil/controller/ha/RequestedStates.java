package io.vigil.controller.ha;

import io.vigil.protocol.AgentCommand;
import java.util.Map;

/**
 * The operator's wishes: a new or changed {@link VmSpec} is converged to by starting (through placement), stopping
 * or deleting the VM, and the results of stop and delete commands finish the job.
 */
final class RequestedStates {
    private final Failover failover;

    RequestedStates(Failover failover) {
        this.failover = failover;
    }

    void onSpec(Round r, VmSpec spec) {
        VmRecord v = r.vm(spec.name());
        if (spec.requestedState() == RequestedState.DELETED) {
            if (v == null) {
                r.specs.remove(spec.name());
                r.emit(new HaCommand.ForgetVm(spec.name()));
                return;
            }
            r.specs.put(spec.name(), spec);
            delete(r, v);
            return;
        }
        if (v != null && v.state() == VmState.DELETING) return; // a delete cannot be taken back
        VmSpec old = r.specs.put(spec.name(), spec);
        if (v == null) {
            v = VmRecord.created(spec.name(), r.now);
            r.put(v);
            r.event("vm-created", null, spec.name(), "created through the API",
                    spec.name() + " created: " + spec.memoryMiB() + " MiB, " + spec.vcpus() + " vCPU(s), HA "
                            + (spec.haEnabled() ? "on" : "off") + ", priority " + spec.priority().wireName()
                            + ", desired " + spec.requestedState().wireName(),
                    Round.details("memoryMiB", spec.memoryMiB(), "haEnabled", spec.haEnabled(), "priority",
                            spec.priority().wireName()));
        }
        if (old != null && !old.ruleFields().equals(spec.ruleFields())) r.capacityChanged = true;
        switch (spec.requestedState()) {
            case STARTED -> wantRunning(r, v, old, spec);
            case IGNORED -> ignore(r, v, old);
            default -> wantStopped(r, v, spec.requestedState() == RequestedState.DISABLED);
        }
    }

    /** The controller lets go of the VM: no command, no restart; heartbeats still show where it runs. */
    private void ignore(Round r, VmRecord v, VmSpec old) {
        if (old != null && old.requestedState() == RequestedState.IGNORED) return;
        r.drop(v.commandId());
        failover.finished(r, v, false);
        VmRecord next = v.withCommand(null).withMove(null, null).withRestoreFrom(null).waiting(0, null).withHold(0);
        if (v.host() == null || !Placement.OCCUPYING.contains(v.state()) || v.state() != VmState.RUNNING)
            next = next.to(VmState.STOPPED, v.host(), r.now);
        r.put(next);
        r.capacityChanged = true;
        r.event("vm-ignored", v.host(), v.name(), "the operator set requestedState ignored",
                v.name() + " is ignored: the controller no longer starts, stops, restarts or moves it, and reports "
                        + "where its host says it runs", Map.of());
    }

    /**
     * Places a VM that should run and does not. A VM in error starts afresh: the operator's start (or any change of
     * its spec) acknowledges the error, which is cleared, and its restarts and relocations count from zero.
     */
    private void wantRunning(Round r, VmRecord v, VmSpec old, VmSpec spec) {
        // A frozen VM waits for its host even if its settings change; stop and start it to start it elsewhere.
        if (v.state() == VmState.FROZEN && old != null && old.requestedState() == RequestedState.STARTED) return;
        if (v.state() != VmState.STOPPED && v.state() != VmState.ERROR && v.state() != VmState.FROZEN) return;
        boolean asked = old == null || old.requestedState() != RequestedState.STARTED
                || old.startRequestedAtMillis() != spec.startRequestedAtMillis();
        String acknowledged = v.state() == VmState.ERROR ? v.lastError() : null;
        r.event("vm-start-requested", v.host(), v.name(), asked ? "the operator asked for it to run"
                        : "the operator changed its settings while it should run",
                v.name() + " is to run" + (old == null ? "" : " again")
                        + (acknowledged == null ? "" : " after an error, which is cleared (" + acknowledged + ")")
                        + "; placing it",
                Round.details("generation", v.nextGeneration(), "acknowledgedError", acknowledged));
        if (v.state() == VmState.ERROR) v = v.withError(null);
        HostRecord last = r.host(v.host());
        if (last != null && (last.state() == HostState.SUSPECT || last.state() == HostState.ISOLATED
                || last.state() == HostState.FAILED)) {
            // It may still run on a host we cannot reach: starting it elsewhere could run it twice. It waits there
            // like any VM of that host, until the host comes back or is fenced.
            r.put(v.to(VmState.RECOVERY, v.host(), r.now).newAttempt());
            return;
        }
        r.put(v.to(v.state() == VmState.FROZEN ? VmState.STOPPED : v.state(), null, r.now).newAttempt()
                .waiting(0, null).withHold(0));
        r.requestPlacement(v.name(), null, "the operator asked for it to run");
    }

    private void wantStopped(Round r, VmRecord v, boolean disabled) {
        if (disabled && v.lastError() != null) {
            v = v.withError(null);
            r.put(v);
        }
        switch (v.state()) {
            case RUNNING, STARTING, MIGRATING -> {
                v = v.withMove(null, null).withRestoreFrom(null);
                if (v.host() == null) {
                    markStopped(r, v, null, "stopped by request before it was placed");
                    return;
                }
                // A start in flight stays in the ledger: if it succeeds after all, its result is stale and the
                // copy is destroyed rather than left running.
                sendStop(r, v, v.host());
                r.event("vm-stop-requested", v.host(), v.name(), "the operator asked for it to stop",
                        v.name() + " is asked to shut down on " + v.host() + " (destroyed after "
                                + CommandLedger.STOP_GUEST_TIMEOUT_SECONDS + " s)",
                        Map.of());
            }
            case FROZEN -> markStopped(r, v, v.host(), "stopped by request while it was frozen");
            case RECOVERY, PENDING_CAPACITY -> {
                // Keep the host of a VM in recovery: until its host is fenced it may still run there, and the
                // reconciler stops it if that host comes back.
                markStopped(r, v, v.host(), "stopped by request while it waited to be restarted");
                failover.finished(r, v, false);
            }
            case ERROR -> {
                if (v.host() != null && hostMayBeAlive(r, v.host())) sendStop(r, v, v.host());
                else markStopped(r, v, v.host(), disabled ? "disabled after an error; the error is cleared"
                        : "stopped by request after an error");
            }
            default -> { } // STOPPED, STOPPING: nothing to do
        }
    }

    private static void sendStop(Round r, VmRecord v, String host) {
        String id = r.send(host, v.name(), PendingCommand.Kind.STOP, v.generation(), CommandLedger.STOP_TIMEOUT_MILLIS,
                cid -> new AgentCommand.StopVm(cid, v.name(), CommandLedger.STOP_GUEST_TIMEOUT_SECONDS));
        r.put(v.to(VmState.STOPPING, host, r.now).withCommand(id));
    }

    private static void markStopped(Round r, VmRecord v, String host, String why) {
        r.put(v.to(VmState.STOPPED, host, r.now).withCommand(null).waiting(0, null).withHold(0));
        r.capacityChanged = true;
        r.event("vm-stopped", host, v.name(), why, v.name() + " is stopped: " + why, Map.of());
    }

    private void delete(Round r, VmRecord v) {
        if (v.state() == VmState.DELETING) return;
        r.drop(v.commandId());
        failover.finished(r, v, false);
        if (v.host() != null && hostMayBeAlive(r, v.host())) {
            String host = v.host();
            String id = r.send(host, v.name(), PendingCommand.Kind.UNDEFINE, v.generation(),
                    CommandLedger.DESTROY_TIMEOUT_MILLIS, cid -> new AgentCommand.UndefineVm(cid, v.name()));
            r.put(r.vm(v.name()).to(VmState.DELETING, host, r.now).withCommand(id));
            r.event("vm-delete-requested", host, v.name(), "the operator deleted it",
                    v.name() + " is destroyed and undefined on " + host + ", then forgotten", Map.of());
        } else {
            forget(r, v.name(), v.host() == null ? "the operator deleted it; it ran nowhere"
                    : "the operator deleted it; its host " + v.host() + " is down, nothing to undefine");
        }
    }

    private static boolean hostMayBeAlive(Round r, String host) {
        HostRecord h = r.host(host);
        return h != null && h.mayBeAlive();
    }

    /**
     * Removes a VM from the core and from the store. Its last event comes first: the shell carries out commands in
     * order, so a VM the API shows gone has its deletion in the event log already (and the core records nothing about
     * a VM it no longer knows).
     */
    static void forget(Round r, String vm, String why) {
        VmRecord v = r.vms.remove(vm);
        r.specs.remove(vm);
        if (v != null) r.drop(v.commandId());
        for (HostRecord h : r.hosts.values().toArray(HostRecord[]::new))
            if (h.lostVms().contains(vm)) r.put(h.withLost(vm, false));
        r.capacityChanged = true;
        r.event("vm-deleted", v == null ? null : v.host(), vm, why, vm + " deleted: " + why, Map.of());
        r.emit(new HaCommand.ForgetVm(vm));
    }

    void onStopResult(Round r, PendingCommand command, boolean ok, String error) {
        VmRecord v = r.vm(command.vm());
        if (ok) {
            stopped(r, v, command.host(), "the agent confirmed the stop");
        } else {
            String why = "stop on " + command.host() + " failed: " + (error == null ? "no reason given" : error);
            r.put(v.to(VmState.ERROR, command.host(), r.now).withCommand(null).withError(why));
            r.event("vm-error", command.host(), v.name(), why, v.name() + " is in error: " + why
                    + "; ask again to stop or delete it", Map.of());
        }
    }

    /** The VM no longer runs on {@code host} (stop confirmed, or its host reports it shut off while stopping). */
    void stopped(Round r, VmRecord v, String host, String cause) {
        r.drop(v.commandId());
        r.put(v.to(VmState.STOPPED, host, r.now).withCommand(null));
        r.capacityChanged = true;
        r.event("vm-stopped", host, v.name(), cause, v.name() + " stopped on " + host, Map.of());
        VmSpec spec = r.spec(v.name());
        if (spec != null && spec.requestedState() == RequestedState.STARTED) {
            // The operator asked for it to run again while it was stopping.
            r.put(r.vm(v.name()).to(VmState.STOPPED, null, r.now).newAttempt());
            r.requestPlacement(v.name(), host, "the operator asked for it to run again while it was stopping");
        }
    }

    void onUndefineResult(Round r, PendingCommand command, boolean ok, String error) {
        VmRecord v = r.vm(command.vm());
        if (ok) {
            forget(r, v.name(), "the operator deleted it; destroyed and undefined on " + command.host());
        } else {
            String why = "delete on " + command.host() + " failed: " + (error == null ? "no reason given" : error);
            r.put(v.to(VmState.ERROR, command.host(), r.now).withCommand(null).withError(why));
            r.event("vm-error", command.host(), v.name(), why, v.name() + " is in error: " + why
                    + "; delete it again to retry", Map.of());
        }
    }
}
