package io.vigil.controller.ha;

import io.vigil.protocol.AgentCommand;
import java.util.Map;
import java.util.Optional;

/**
 * Routes the result of a command (or its timeout, which counts as a failure) to the rule that sent it. A result
 * the VM no longer waits for is stale and changes nothing; if it reports a start the core no longer wants, the
 * copy is destroyed so the VM cannot run twice.
 */
final class CommandResults {
    private final Starter starter;
    private final RequestedStates desired;
    private final Moves moves;

    CommandResults(Starter starter, RequestedStates desired, Moves moves) {
        this.starter = starter;
        this.desired = desired;
        this.moves = moves;
    }

    void onCompleted(Round r, HaInput.CommandCompleted c) {
        // What a start recovered is an event even when a heartbeat showed the VM running (and settled the command)
        // before this result came: the blocks were written either way.
        VmRecord recovering = c.recovery() == null ? null : r.vm(c.vm());
        if (recovering != null) starter.recovered(r, c.host(), c.commandId(), recovering, c.recovery());
        Optional<PendingCommand> known = r.ledger.get(c.commandId());
        if (known.isEmpty()) known = r.ledger.placeholderFor(c.host(), c.vm());
        if (known.isEmpty()) return; // unknown or already timed out: the next heartbeat shows the truth
        PendingCommand p = known.get();
        r.drop(p.id());
        VmRecord v = r.vm(p.vm());
        boolean current = v != null && p.id().equals(v.commandId());
        if (!current) {
            if (p.kind() == PendingCommand.Kind.START && c.ok() && !stillWanted(v, p.host())) destroyLateStart(r, p);
            return;
        }
        route(r, p, c.ok(), c.error(), c.leaseGeneration(), c.detail());
    }

    private void route(Round r, PendingCommand p, boolean ok, String error, long leaseGeneration, String detail) {
        switch (p.kind()) {
            case START -> starter.onResult(r, p, ok, error, leaseGeneration, detail);
            case SAVE -> moves.onSaveResult(r, p, ok, error);
            case STOP -> {
                VmRecord v = r.vm(p.vm());
                if (v.state() != VmState.MIGRATING) {
                    desired.onStopResult(r, p, ok, error);
                } else if (ok) {
                    moves.leftSource(r, v, p.host(), v.moveTarget() != null ? "relocation to " + v.moveTarget()
                            : "the shutdown of " + p.host());
                } else {
                    String why = error == null ? "no reason given" : error;
                    r.put(v.to(VmState.RUNNING, p.host(), r.now).withCommand(null).withMove(null, null));
                    r.event("vm-move-failed", p.host(), v.name(), why, "stopping " + v.name() + " on " + p.host()
                            + " for its move failed (" + why + "); it keeps running there", Map.of());
                }
            }
            case UNDEFINE -> desired.onUndefineResult(r, p, ok, error);
            case DESTROY -> {
                if (!ok) r.event("vm-lifecycle", p.host(), p.vm(), error,
                        "destroying the copy of " + p.vm() + " on " + p.host() + " failed: " + error
                                + "; retried at its next heartbeat", Map.of());
            }
        }
    }

    /** Commands without a result past their timeout count as failed; restored placeholders are re-sent once. */
    void expire(Round r) {
        for (PendingCommand p : r.ledger.expired(r.now)) {
            r.drop(p.id());
            VmRecord v = r.vm(p.vm());
            if (v == null || !p.id().equals(v.commandId())) continue;
            if (p.placeholder()) {
                resend(r, p, v);
            } else {
                route(r, p, false, "no result from " + p.host() + " within " + p.timeoutMillis() / 1000 + " s", 0, null);
            }
        }
    }

    private void resend(Round r, PendingCommand p, VmRecord v) {
        VmSpec spec = r.spec(v.name());
        if (spec == null) return;
        String id;
        switch (p.kind()) {
            case START -> {
                long generation = v.nextGeneration();
                // As the placement sent it: the cache the host gave (or must give) back for it, from the host
                // without the VM.
                long reclaim = CacheLoans.reclaimBefore(r.policy, r.hosts.values(), r.vms, r.specs, v.name(),
                        p.host());
                id = r.send(p.host(), v.name(), PendingCommand.Kind.START, generation,
                        CommandLedger.START_TIMEOUT_MILLIS, cid -> new AgentCommand.StartVm(cid, v.name(),
                                spec.domainXml(), generation, spec.haEnabled(), v.restoreFrom(), spec.cacheMode(),
                                reclaim));
                r.put(v.withCommand(id).withIssued(generation));
            }
            case STOP -> {
                id = r.send(p.host(), v.name(), PendingCommand.Kind.STOP, v.generation(),
                        CommandLedger.STOP_TIMEOUT_MILLIS,
                        cid -> new AgentCommand.StopVm(cid, v.name(), CommandLedger.STOP_GUEST_TIMEOUT_SECONDS));
                r.put(v.withCommand(id));
            }
            case SAVE, DESTROY -> {
                return; // a restored MIGRATING VM is settled by the next heartbeat
            }
            default -> {
                id = r.send(p.host(), v.name(), PendingCommand.Kind.UNDEFINE, v.generation(),
                        CommandLedger.DESTROY_TIMEOUT_MILLIS, cid -> new AgentCommand.UndefineVm(cid, v.name()));
                r.put(v.withCommand(id));
            }
        }
        r.event("vm-command-resent", p.host(), v.name(), "no result came for the command sent before the controller restarted",
                "re-sending " + p.kind().name().toLowerCase() + " of " + v.name() + " to " + p.host(),
                Round.details("commandId", id));
    }

    private static boolean stillWanted(VmRecord v, String host) {
        return v != null && host.equals(v.host()) && (v.state() == VmState.RUNNING || v.state() == VmState.STARTING
                || v.state() == VmState.STOPPING || v.state() == VmState.DELETING || v.state() == VmState.MIGRATING);
    }

    private static void destroyLateStart(Round r, PendingCommand p) {
        r.send(p.host(), p.vm(), PendingCommand.Kind.DESTROY, 0, CommandLedger.DESTROY_TIMEOUT_MILLIS,
                cid -> new AgentCommand.DestroyVm(cid, p.vm()));
        r.event("vm-destroy-requested", p.host(), p.vm(), "a start the controller had given up on succeeded late",
                "destroying " + p.vm() + " on " + p.host() + ": the controller no longer wants it there", Map.of());
    }
}
