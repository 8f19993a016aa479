package io.vigil.controller.ha;

import io.vigil.protocol.AgentCommand;
import io.vigil.protocol.HostInventory;
import io.vigil.protocol.VmPowerState;
import io.vigil.protocol.VmReport;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Level-triggered reconciliation: a healthy host's heartbeat inventory is observed truth, and the core converges
 * its view to it. VMs it confirms running become RUNNING; an HA VM that vanished from its host is restarted there
 * first (a bounded number of times); a managed VM running on a host the core did not put it on, while the core has
 * it on another host, is destroyed there: a VM never runs twice. A paused domain is active: the core leaves it
 * running where it is, and only records when its host first reports it paused (vm-paused, with libvirt's reason and
 * the agent's problem) and running again (vm-resumed).
 */
final class Reconciler {
    /** A VM running this long has its restart and relocation counts reset. */
    static final long STABLE_MILLIS = 300_000;

    private final Starter starter;
    private final RequestedStates desired;

    Reconciler(Starter starter, RequestedStates desired) {
        this.starter = starter;
        this.desired = desired;
    }

    /** {@code before}: the host's inventory before this one (null for a host heard for the first time). */
    void reconcile(Round r, String hostName, HostInventory before) {
        HostRecord host = r.host(hostName);
        Map<String, VmReport> reported = byName(host.inventory());
        Map<String, VmReport> previously = byName(before);

        for (VmRecord v : List.copyOf(r.vms.values())) {
            if (!hostName.equals(v.host())) continue;
            VmReport report = reported.get(v.name());
            boolean active = report != null && report.state() != null && report.state().isActive();
            reconcileAssigned(r, host, v, report, active);
            if (active) notePause(r, hostName, v, previously.get(v.name()), report);
        }

        List<String> lost = new ArrayList<>();
        for (VmReport report : host.inventory().vms()) {
            if (report.state() == null || !report.state().isActive()) continue;
            VmRecord v = r.vm(report.name());
            if (v == null || hostName.equals(v.host())) continue; // unmanaged, or handled above
            boolean elsewhere = v.host() != null && Placement.OCCUPYING.contains(v.state());
            if (elsewhere || host.lostVms().contains(v.name())) {
                lost.add(v.name());
                destroyStray(r, hostName, v, elsewhere
                        ? "it runs on " + hostName + " while the controller has it on " + v.host()
                        : hostName + " lost it when it was fenced");
            } else if (wanted(r, v.name()) && v.state() != VmState.STARTING && v.state() != VmState.RECOVERY) {
                adopt(r, hostName, v, report, "found running on " + hostName + " where nothing else runs it");
            }
        }
        if (!lost.isEmpty()) {
            r.emit(new HaCommand.TellLostVms(hostName, List.copyOf(lost)));
            r.event("host-lost-vms", hostName, null, "it reports VMs that belong elsewhere",
                    hostName + " runs " + lost + " which it must not run; destroying them there",
                    Round.details("vms", List.copyOf(lost)));
        }
    }

    private void reconcileAssigned(Round r, HostRecord host, VmRecord v, VmReport report, boolean active) {
        String hostName = host.name();
        switch (v.state()) {
            case STARTING, RECOVERY -> {
                if (active) {
                    r.drop(v.commandId());
                    starter.started(r, v, hostName, generationOf(report, v),
                            hostName + "'s heartbeat reports it running");
                }
            }
            case RUNNING -> {
                if (active) {
                    long g = generationOf(report, v);
                    if (g != v.generation()) r.put(v.withGeneration(g));
                    // Restarts and relocations count incidents; a VM that has run for a while starts afresh.
                    if (v.attemptStarted() && r.now.millisSince(v.stateSinceNanos()) >= STABLE_MILLIS)
                        r.put(r.vm(v.name()).newAttempt());
                } else if (r.now.millisSince(v.stateSinceNanos()) >= r.heartbeatMillis() && host.healthy()) {
                    // Grace of one interval: a heartbeat built before the start was confirmed may not list it yet.
                    vanished(r, hostName, v, report);
                }
            }
            case STOPPING -> {
                if (!active && report != null) desired.stopped(r, v, hostName, hostName + " reports it shut off");
            }
            case STOPPED, ERROR -> {
                if (!active) return;
                if (wanted(r, v.name())) adopt(r, hostName, v, report, "found running on " + hostName);
                else if (!r.ledger.hasPending(hostName, v.name(), PendingCommand.Kind.STOP)) {
                    String id = r.send(hostName, v.name(), PendingCommand.Kind.STOP, v.generation(),
                            CommandLedger.STOP_TIMEOUT_MILLIS, cid -> new AgentCommand.StopVm(cid, v.name(),
                                    CommandLedger.STOP_GUEST_TIMEOUT_SECONDS));
                    r.put(v.to(VmState.STOPPING, hostName, r.now).withCommand(id));
                    r.event("vm-stop-requested", hostName, v.name(), "it runs but is meant to be stopped",
                            v.name() + " runs on " + hostName + " though it should be stopped; stopping it",
                            Map.of());
                }
            }
            default -> { } // MIGRATING, DELETING, PENDING_CAPACITY: a command or placement owns it
        }
    }

    private static Map<String, VmReport> byName(HostInventory inventory) {
        Map<String, VmReport> out = new HashMap<>();
        if (inventory != null) for (VmReport report : inventory.vms()) out.put(report.name(), report);
        return out;
    }

    /**
     * Records when a VM starts or stops being shown paused (the core has it running and its host reports it paused;
     * see the REST view), and when the agent, once it is paused, says what it could not fix. Nothing else: it still
     * runs there, and restarting it elsewhere would not cure what paused it.
     */
    private static void notePause(Round r, String hostName, VmRecord v, VmReport before, VmReport now) {
        VmRecord after = r.vm(v.name());
        boolean was = v.state() == VmState.RUNNING && before != null && before.state() == VmPowerState.PAUSED;
        boolean is = after != null && after.state() == VmState.RUNNING && hostName.equals(after.host())
                && now.state() == VmPowerState.PAUSED;
        String reason = now.stateReason() == null ? "unknown" : now.stateReason();
        if (is && (!was || before.problem() == null && now.problem() != null)) {
            r.event("vm-paused", hostName, v.name(), hostName + "'s heartbeat reports it paused (reason: " + reason + ")",
                    v.name() + " is paused on " + hostName + " (reason: " + reason + ")"
                            + (now.problem() == null ? "" : ": " + now.problem())
                            + "; the controller leaves it there: it still runs on its host",
                    Round.details("stateReason", now.stateReason(), "problem", now.problem()));
        } else if (was && !is && now.state() != VmPowerState.PAUSED) {
            r.event("vm-resumed", hostName, v.name(), hostName + "'s heartbeat reports it " + now.state().wireName(),
                    v.name() + " is no longer paused on " + hostName + " (now " + now.state().wireName() + ")",
                    Round.details("stateReason", now.stateReason()));
        }
    }

    private void vanished(Round r, String hostName, VmRecord v, VmReport report) {
        String seen = report == null ? "no longer listed" : "reported " + report.state().wireName();
        r.event("vm-lifecycle", hostName, v.name(), hostName + "'s heartbeat: " + seen,
                v.name() + " stopped running on " + hostName + " (" + seen + ")", Map.of());
        VmSpec spec = r.spec(v.name());
        if (spec == null || !spec.restartable()) {
            r.put(v.to(VmState.STOPPED, hostName, r.now).withCommand(null));
            r.capacityChanged = true;
            String why = spec != null && spec.requestedState() == RequestedState.IGNORED
                    ? "its host no longer reports it running (the controller ignores it)"
                    : "it stopped outside Vigil's control and HA is off for it";
            r.event("vm-stopped", hostName, v.name(), why, v.name() + " is stopped: " + why, Map.of());
            return;
        }
        starter.retry(r, v.attemptHost() == null ? v.withAttempt(v.triedHosts(), hostName, 0, v.relocations()) : v,
                spec, hostName, "it stopped unexpectedly on " + hostName + " (" + seen + ")");
    }

    private void adopt(Round r, String hostName, VmRecord v, VmReport report, String cause) {
        r.drop(v.commandId());
        starter.started(r, v.to(v.state(), hostName, r.now), hostName, generationOf(report, v), cause);
    }

    private static void destroyStray(Round r, String hostName, VmRecord v, String why) {
        if (r.ledger.hasPending(hostName, v.name(), PendingCommand.Kind.DESTROY)) return;
        r.send(hostName, v.name(), PendingCommand.Kind.DESTROY, 0, CommandLedger.DESTROY_TIMEOUT_MILLIS,
                cid -> new AgentCommand.DestroyVm(cid, v.name()));
        r.event("vm-destroy-requested", hostName, v.name(), why,
                "destroying the copy of " + v.name() + " on " + hostName + ": " + why, Map.of());
    }

    /** Records a libvirt lifecycle event of a managed VM; it changes nothing (heartbeats are the truth). */
    void onLifecycle(Round r, HaInput.VmLifecycleObserved l) {
        if (r.vm(l.vm()) == null) return;
        VmPowerState state = l.state();
        r.event("vm-lifecycle", l.host(), l.vm(), "libvirt event " + l.event()
                        + (l.detail() == null ? "" : " (" + l.detail() + ")"),
                l.vm() + " on " + l.host() + ": " + l.event() + (l.detail() == null ? "" : " " + l.detail())
                        + (state == null ? "" : " (now " + state.wireName() + ")")
                        + (l.repeated() > 0 ? "; " + l.repeated() + " repeat(s) of the event before it not recorded"
                                : ""),
                Round.details("event", l.event(), "detail", l.detail(), "state",
                        state == null ? null : state.wireName(), "repeated", l.repeated() > 0 ? l.repeated() : null));
    }

    private static boolean wanted(Round r, String vm) {
        VmSpec spec = r.spec(vm);
        return spec != null && spec.requestedState() == RequestedState.STARTED;
    }

    private static long generationOf(VmReport report, VmRecord v) {
        return report != null && report.leaseGeneration() > 0 ? report.leaseGeneration() : Math.max(v.generation(),
                v.issuedGeneration());
    }
}
