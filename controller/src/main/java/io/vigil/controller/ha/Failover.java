package io.vigil.controller.ha;

import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * A host failover from the VMs' side: when a host is declared failed its HA VMs wait in RECOVERY; when it is fenced
 * (its leases expired, or it lost its storage and fenced itself) they are handed to placement, non-HA VMs are
 * marked stopped, and the failover's steps are timed until its last VM is started.
 */
final class Failover {

    /** States of a VM that was, or was about to be, running on the host. */
    private static final Set<VmState> ACTIVE = EnumSet.of(VmState.RUNNING, VmState.STARTING, VmState.RECOVERY,
            VmState.MIGRATING);

    /** Opens (or returns) the failover of a host; its detection time is {@code now}. */
    String open(Round r, String host) {
        HostRecord h = r.host(host);
        if (h.failoverId() != null && r.failovers.containsKey(h.failoverId())) return h.failoverId();
        int n = h.failoverCount() + 1;
        String id = host + "-" + n;
        r.failovers.put(id, FailoverRecord.detected(id, host, r.now));
        r.put(h.withFailover(id, n));
        return id;
    }

    /** The host came back before it was fenced: nothing moves, the failover is over. */
    void cancel(Round r, String host) {
        HostRecord h = r.host(host);
        if (h.failoverId() == null) return;
        r.failovers.remove(h.failoverId());
        for (VmRecord v : List.copyOf(r.vms.values()))
            if (h.failoverId().equals(v.failoverId())) r.put(v.withFailover(null));
        r.put(h.withFailover(null, h.failoverCount()));
    }

    /** Event details of a failover step, recording the step's time in the failover. */
    Map<String, Object> step(Round r, String failoverId, String step, boolean overwrite) {
        FailoverRecord f = failoverId == null ? null : r.failovers.get(failoverId);
        if (f == null) return Map.of();
        long elapsed = f.elapsedMillis(r.now);
        r.failovers.put(f.id(), f.step(step, elapsed, overwrite));
        return Round.details("failover", f.id(), "step", step, "elapsedMillis", elapsed);
    }

    void declareFailed(Round r, String host, String cause) {
        String id = open(r, host);
        HostRecord h = r.host(host);
        r.put(h.to(HostState.FAILED, r.now));
        List<String> waiting = new ArrayList<>();
        for (VmRecord v : List.copyOf(r.vms.values())) {
            if (!host.equals(v.host()) || !ACTIVE.contains(v.state()) || !restartable(r, v.name())) continue;
            r.drop(v.commandId());
            r.put(v.to(VmState.RECOVERY, host, r.now).withCommand(null).withFailover(id));
            waiting.add(v.name());
        }
        String what = waiting.isEmpty() ? "it runs no HA VMs"
                : waiting.size() + " HA VM(s) " + waiting + " wait for its leases to expire before restarting elsewhere";
        r.event("host-failed", host, null, cause, host + " declared failed: " + cause + "; " + what,
                Round.merge(step(r, id, "declaredFailed", false), Round.details("vms", List.copyOf(waiting))));
    }

    /**
     * The host can no longer write any disk: its HA VMs are restarted elsewhere, its other VMs are marked stopped.
     * {@code type} is host-leases-expired or host-storage-lost.
     */
    void fence(Round r, String host, String type, String cause, String message) {
        String id = open(r, host);
        HostRecord h = r.host(host);
        r.put(h.to(HostState.FENCED, r.now));
        Map<String, Object> details = step(r, id, "leasesExpired", false);
        Set<String> recovering = new TreeSet<>();
        List<String> stopped = new ArrayList<>();
        for (VmRecord v : List.copyOf(r.vms.values())) {
            if (!host.equals(v.host())) continue;
            VmSpec spec = r.spec(v.name());
            r.drop(v.commandId());
            if (ACTIVE.contains(v.state()) && restartable(r, v.name())) {
                // A VM that was being started here as part of an earlier failover now belongs to this one.
                if (v.failoverId() != null && !v.failoverId().equals(id)) finished(r, v, false);
                v = r.vm(v.name());
                VmRecord moved = v.to(VmState.RECOVERY, null, r.now).withCommand(null).withFailover(id)
                        .newAttempt().withMove(null, null).withHome(host).waiting(0, null);
                long grace = r.policy.rejoinGraceSeconds() * 1_000_000_000L;
                if (grace > 0 && h.failedAtNanos() > 0 && r.now.monotonicNanos() < h.failedAtNanos() + grace)
                    moved = moved.withHold(h.failedAtNanos() + grace);
                r.put(moved);
                r.put(r.host(host).withLost(v.name(), true));
                recovering.add(v.name());
                r.requestPlacement(v.name(), null, "its host " + host + " was fenced (failover " + id + ")");
            } else if (v.state() == VmState.DELETING) {
                RequestedStates.forget(r, v.name(), "its host " + host + " was fenced while the VM was being deleted");
            } else if (ACTIVE.contains(v.state()) || v.state() == VmState.STOPPING) {
                String why = v.state() == VmState.STOPPING ? "it was stopping when its host " + host + " was fenced"
                        : spec != null && (!spec.haEnabled() || spec.priority() == Priority.DISABLED)
                                ? "its host " + host + " was fenced and HA is off for this VM (haEnabled false or priority disabled), so it is not restarted"
                                : "its host " + host + " was fenced and it is not meant to run";
                r.put(v.to(VmState.STOPPED, host, r.now).withCommand(null));
                r.event("vm-stopped", host, v.name(), why, v.name() + " is stopped: " + why, details);
                stopped.add(v.name());
            }
        }
        r.failovers.computeIfPresent(id, (k, f) -> f.fencedWith(recovering));
        String what = recovering.isEmpty() ? "no HA VMs to restart"
                : recovering.size() + " HA VM(s) " + recovering + " restart elsewhere by priority";
        r.event(type, host, null, cause, message + "; " + what + (stopped.isEmpty() ? "" : "; stopped " + stopped),
                Round.merge(details, Round.details("vms", List.copyOf(recovering))));
        r.ledger = withoutHost(r.ledger, host);
        r.capacityChanged = true;
        maybeComplete(r, id);
    }

    /**
     * Details for a VM event of a failover VM, or empty. The failover keeps the first time of each step, except
     * "started", which ends up as the time its last VM started.
     */
    Map<String, Object> vmDetails(Round r, VmRecord v, String step) {
        return v.failoverId() == null ? Map.of() : step(r, v.failoverId(), step, "started".equals(step));
    }

    void finished(Round r, VmRecord v, boolean started) {
        if (v.failoverId() == null) return;
        FailoverRecord f = r.failovers.get(v.failoverId());
        if (f != null) {
            r.failovers.put(f.id(), f.finished(v.name(), started));
            maybeComplete(r, f.id());
        }
        VmRecord now = r.vm(v.name());
        if (now != null) r.put(now.withFailover(null));
    }

    private void maybeComplete(Round r, String id) {
        FailoverRecord f = r.failovers.get(id);
        if (f == null || !f.fenced() || !f.outstanding().isEmpty()) return;
        long elapsed = f.elapsedMillis(r.now);
        Map<String, Long> steps = new LinkedHashMap<>(f.steps());
        StringBuilder timeline = new StringBuilder();
        steps.forEach((k, v) -> timeline.append(timeline.length() == 0 ? "" : ", ").append(k).append(" at ")
                .append(v).append(" ms"));
        String outcome = f.started() + " VM(s) restarted" + (f.failed() > 0 ? ", " + f.failed() + " not restarted" : "");
        String cause = f.failed() > 0 ? "every HA VM of " + f.host() + " was dealt with; some could not be restarted"
                : "every HA VM of " + f.host() + " runs again";
        r.event("failover-completed", f.host(), null, cause,
                "failover " + id + " of " + f.host() + " completed in " + elapsed + " ms (" + timeline + "); " + outcome,
                Round.details("failover", id, "step", "completed", "elapsedMillis", elapsed, "steps", Collections.unmodifiableMap(steps),
                        "started", f.started(), "failed", f.failed()));
        r.failovers.remove(id);
        HostRecord h = r.host(f.host());
        if (h != null && id.equals(h.failoverId())) r.put(h.withFailover(null, h.failoverCount()));
    }

    /** Whether the core restarts this VM when its host dies: HA on and meant to run. */
    static boolean restartable(Round r, String vm) {
        VmSpec spec = r.spec(vm);
        return spec != null && spec.restartable();
    }

    private static CommandLedger withoutHost(CommandLedger ledger, String host) {
        CommandLedger out = ledger;
        for (PendingCommand p : ledger.pending().values()) if (p.host().equals(host)) out = out.without(p.id());
        return out;
    }
}
