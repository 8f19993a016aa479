package io.vigil.controller.ha;

import io.vigil.controller.cache.CacheLending;
import io.vigil.controller.cache.Reclaim;
import io.vigil.protocol.AgentCommand;
import io.vigil.protocol.memory.RecoveryReport;
import io.vigil.protocol.memory.RecoverySource;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Starting VMs: one placement pass per round over every VM that needs a host (failover VMs, VMs the operator
 * started, VMs restarted in place or moved, failed starts to retry, and every VM waiting in pending-capacity),
 * highest priority first; the StartVm each placement sends; and what its result means.
 *
 * <p>A VM waits (pending-capacity, announced once per reason) while its host's rejoin grace holds it, while the VMs
 * it starts after are not running (at most {@code startAfterTimeoutSeconds}), or while no allowed host has room. A
 * failed start is retried on the same host {@code maxRestarts} times, then on another host, at most
 * {@code maxRelocations} times; then the VM is in error.
 */
final class Starter {
    private final Failover failover;

    Starter(Failover failover) {
        this.failover = failover;
    }

    void placePending(Round r) {
        Map<String, Round.PlacementRequest> requests = r.takePlacements();
        for (VmRecord v : r.vms.values())
            if (v.state() == VmState.PENDING_CAPACITY)
                requests.putIfAbsent(v.name(), new Round.PlacementRequest(null, "it waited to be placed"));
        r.capacityChanged = false;
        if (requests.isEmpty()) return;
        List<VmSpec> order = new ArrayList<>();
        for (String vm : requests.keySet()) {
            VmSpec spec = r.spec(vm);
            VmRecord v = r.vm(vm);
            if (spec != null && v != null && spec.requestedState() == RequestedState.STARTED && v.host() == null
                    && needsHost(v.state()))
                order.add(spec);
        }
        if (order.isEmpty()) return;
        order.sort(Placement.order());
        List<HostRecord> accepting = r.hosts.values().stream().filter(HostRecord::acceptsVms).toList();
        Map<String, Placement.HostCapacity> capacity = Placement.capacities(accepting, r.vms, r.specs);
        // What each host lends as cache now; each placement's reclaim is taken off it for the next one.
        Map<String, Long> lent = new HashMap<>();
        CacheLoans.loans(accepting, capacity, CacheLoans.reserves(r.policy, accepting, capacity), r.vms, r.specs)
                .forEach((host, loan) -> lent.put(host, loan.lentMiB()));
        Map<String, String> placedNow = new HashMap<>();
        for (VmSpec spec : order) place(r, spec, requests.get(spec.name()), capacity, placedNow, lent);
    }

    private static boolean needsHost(VmState state) {
        return state == VmState.STARTING || state == VmState.RECOVERY || state == VmState.PENDING_CAPACITY
                || state == VmState.STOPPED || state == VmState.ERROR || state == VmState.FROZEN;
    }

    /** Where a VM holds memory: placed earlier in this pass, else as {@link Round#holdingHost}. */
    private static String hostOf(Round r, Map<String, String> placedNow, String vm) {
        String now = placedNow.get(vm);
        return now != null ? now : r.holdingHost(vm);
    }

    private void place(Round r, VmSpec spec, Round.PlacementRequest request,
            Map<String, Placement.HostCapacity> capacity, Map<String, String> placedNow, Map<String, Long> lent) {
        VmRecord v = r.vm(spec.name());
        String first = request.preferredHost();
        if (v.holdUntilNanos() > 0) {
            HostRecord home = r.host(v.homeHost());
            if (home != null && home.acceptsVms()) {
                first = home.name();
            } else if (r.now.monotonicNanos() < v.holdUntilNanos()) {
                long left = (v.holdUntilNanos() - r.now.monotonicNanos()) / 1_000_000;
                wait(r, v, spec, "held for " + v.homeHost() + " to rejoin (rejoinGraceSeconds " + r.policy.rejoinGraceSeconds()
                        + "; " + left + " ms left)", "vm-restart-held");
                return;
            }
        }
        if (!spec.startAfter().isEmpty()) {
            List<String> notRunning = new ArrayList<>();
            for (String dep : spec.startAfter()) {
                VmSpec depSpec = r.spec(dep);
                VmRecord depVm = r.vm(dep);
                if (depSpec == null || depSpec.requestedState() != RequestedState.STARTED) continue;
                if (depVm == null || depVm.state() != VmState.RUNNING) notRunning.add(dep);
            }
            long since = v.waitingSinceNanos() > 0 ? v.waitingSinceNanos() : r.now.monotonicNanos();
            if (!notRunning.isEmpty()
                    && r.now.millisSince(since) < spec.startAfterTimeoutSeconds() * 1000L) {
                wait(r, v.waiting(since, v.waitReason()), spec, "waits for " + notRunning + " to run first (startAfter; at most "
                        + spec.startAfterTimeoutSeconds() + " s)", "vm-waiting");
                return;
            }
            if (!notRunning.isEmpty() && v.waitReason() != null && v.waitReason().startsWith("vm-waiting:")) {
                r.event("vm-start-after-timeout", null, v.name(), "startAfterTimeoutSeconds passed",
                        v.name() + " starts without waiting any longer for " + notRunning + " (startAfterTimeoutSeconds "
                                + spec.startAfterTimeoutSeconds() + ")", Map.of());
            }
        }
        boolean isFailover = v.failoverId() != null || v.state() == VmState.RECOVERY;
        Placement.Choice choice = null;
        if (first != null && capacity.containsKey(first) && !v.triedHosts().contains(first))
            choice = Placement.choose(capacity.values(), spec, v.triedHosts(), first, isFailover, r.policy,
                    r.ruleBook(), vm -> hostOf(r, placedNow, vm));
        if (choice == null || choice.host() == null)
            choice = Placement.choose(capacity.values(), spec, v.triedHosts(), null, isFailover, r.policy,
                    r.ruleBook(), vm -> hostOf(r, placedNow, vm));
        if (choice.host() != null) {
            Placement.HostCapacity before = capacity.get(choice.host());
            long lentThere = lent.getOrDefault(before.host(), 0L);
            long reclaim = CacheLending.reclaimMiB(spec.memoryMiB(), before.totalMiB(), before.usedMiB(), lentThere);
            lent.put(before.host(), lentThere - reclaim);
            capacity.put(before.host(), before.plus(spec.name(), spec.memoryMiB(), spec.vcpus(), spec.restartable()));
            placedNow.put(spec.name(), before.host());
            start(r, v, spec, before, request.reason(), reclaim);
            return;
        }
        if (!v.triedHosts().isEmpty()) {
            Placement.Choice anywhere = Placement.choose(capacity.values(), spec, List.of(), null, isFailover,
                    r.policy, r.ruleBook(), vm -> hostOf(r, placedNow, vm));
            if (anywhere.host() != null) {
                giveUp(r, v, "start failed on every host it may use with room (" + String.join(", ", v.triedHosts())
                        + "); last error: " + v.lastError());
                return;
            }
        }
        wait(r, v, spec, choice.whyNone(), "vm-pending-capacity");
    }

    /** The VM cannot start yet: it waits in pending-capacity; each new reason is announced once. */
    private void wait(Round r, VmRecord v, VmSpec spec, String why, String type) {
        long since = v.waitingSinceNanos() > 0 ? v.waitingSinceNanos() : r.now.monotonicNanos();
        String key = type + ":" + why.replaceAll("\\d+ ms left", "");
        VmRecord pending = v.to(VmState.PENDING_CAPACITY, null, r.now).withCommand(null).waiting(since, key);
        r.put(pending);
        if (key.equals(v.waitReason()) && v.state() == VmState.PENDING_CAPACITY) return;
        r.event(type, null, spec.name(), why,
                spec.name() + " (priority " + spec.priority().wireName() + ", " + spec.memoryMiB()
                        + " MiB) cannot start yet: " + why + "; it starts as soon as that changes, by priority",
                Round.merge(failover.vmDetails(r, pending, "pendingCapacity"),
                        Round.details("memoryMiB", spec.memoryMiB())));
    }

    /**
     * Sends the StartVm: with the VM's cache mode, and the cache the host must give back first ({@code reclaimMiB},
     * the part of the VM's memory its memory neither used nor lent cannot cover).
     */
    private void start(Round r, VmRecord v, VmSpec spec, Placement.HostCapacity target, String reason,
            long reclaimMiB) {
        long generation = v.nextGeneration();
        String host = target.host();
        String restoreFrom = v.restoreFrom();
        RecoverySource recoverFrom = restoreFrom == null ? Recoveries.source(r, v, spec, host) : null;
        String id = r.send(host, v.name(), PendingCommand.Kind.START, generation, CommandLedger.START_TIMEOUT_MILLIS,
                cid -> new AgentCommand.StartVm(cid, v.name(), spec.domainXml(), generation, spec.haEnabled(),
                        restoreFrom, spec.cacheMode(), reclaimMiB, recoverFrom));
        int restarts = host.equals(v.attemptHost()) ? v.restartsHere() : 0;
        VmRecord started = v.to(VmState.STARTING, host, r.now).withIssued(generation).withCommand(id)
                .withAttempt(v.triedHosts(), host, restarts, v.relocations()).waiting(0, null).withHold(0);
        r.put(started);
        // Placing a VM back on a host that once lost it is a new decision with a new generation.
        HostRecord h = r.host(host);
        if (h.lostVms().contains(v.name())) r.put(h.withLost(v.name(), false));
        String how = restoreFrom != null ? "restoring its saved state" : "starting";
        r.event("vm-placed", host, v.name(), reason,
                v.name() + " (priority " + spec.priority().wireName() + ", " + spec.memoryMiB() + " MiB) placed on "
                        + host + " (" + target.freeMiB() + " MiB free, " + target.haVms()
                        + " HA VMs); " + how + " with lease generation " + generation
                        + (reclaimMiB > 0 ? " once the host gave back " + reclaimMiB + " MiB of disk cache" : "")
                        + (recoverFrom != null ? ", after recovering its dirty cache blocks from " + recoverFrom.host() : "")
                        + (restarts > 0 || v.relocations() > 0 ? " (restart " + restarts + " of " + spec.maxRestarts()
                                + " here, relocation " + v.relocations() + " of " + spec.maxRelocations() + ")" : ""),
                Round.merge(failover.vmDetails(r, started, "placed"),
                        Round.details("generation", generation, "commandId", id, "restoreFrom", restoreFrom,
                                "reclaimMiB", reclaimMiB, "recoverFrom", recoverFrom == null ? null : recoverFrom.host())));
    }

    /** The result of a StartVm the VM still waits for. */
    void onResult(Round r, PendingCommand command, boolean ok, String error, long leaseGeneration, String detail) {
        VmRecord v = r.vm(command.vm());
        if (ok) {
            if (Reclaim.reported(detail)) reclaimed(r, command, v, detail);
            String cause = "the agent confirmed the start" + (detail == null ? "" : " (" + detail + ")");
            started(r, v.withRestoreFrom(null), command.host(),
                    leaseGeneration > 0 ? leaseGeneration : command.generation(), cause);
        } else {
            failed(r, v, command.host(), error == null || error.isBlank() ? "no reason given" : error);
        }
    }

    /** What the start's recovery of the failed host's dirty cache blocks did: an event, a step of the failover. */
    void recovered(Round r, String host, String commandId, VmRecord v, RecoveryReport recovery) {
        Recoveries.reported(r, host, v, recovery, failover.vmDetails(r, v, "recovered"), commandId);
    }

    /** The host gave back cache memory before it started the VM: how much, and how long it took. */
    private void reclaimed(Round r, PendingCommand command, VmRecord v, String detail) {
        long asked = command.command() instanceof AgentCommand.StartVm s ? s.reclaimMiB() : 0;
        Map<String, Object> failoverStep = failover.vmDetails(r, v, "cacheReclaimed");
        String cause = "the VM's memory was lent as disk cache" + (asked > 0 ? " (" + asked + " MiB asked back)" : "");
        Optional<Reclaim> reclaim = Reclaim.parse(detail);
        if (reclaim.isPresent()) {
            Reclaim got = reclaim.get();
            r.event("cache-reclaimed", command.host(), v.name(), cause,
                    command.host() + " gave back " + got.mib() + " MiB of disk cache in " + got.millis()
                            + " ms before starting " + v.name(),
                    Round.merge(failoverStep, Round.details("reclaimedMiB", got.mib(), "reclaimMillis", got.millis(),
                            "requestedMiB", asked, "commandId", command.id())));
        } else {
            r.event("cache-reclaimed", command.host(), v.name(), cause,
                    command.host() + " gave back disk cache before starting " + v.name() + ": " + detail,
                    Round.merge(failoverStep, Round.details("detail", detail, "requestedMiB", asked,
                            "commandId", command.id())));
        }
    }

    /** The VM runs on {@code host} with lease {@code generation}: confirmed by a command result or a heartbeat. */
    void started(Round r, VmRecord v, String host, long generation, String cause) {
        VmRecord running = v.to(VmState.RUNNING, host, r.now).withGeneration(generation).withCommand(null)
                .withError(null).withMove(null, null).waiting(0, null).withHold(0)
                .withAttempt(v.triedHosts(), host, host.equals(v.attemptHost()) ? v.restartsHere() : 0, v.relocations());
        if (host.equals(running.homeHost())) running = running.withHome(null);
        r.put(running);
        Map<String, Object> details = failover.vmDetails(r, running, "started");
        String timing = details.containsKey("elapsedMillis")
                ? " (" + details.get("elapsedMillis") + " ms after failover " + details.get("failover")
                        + " was detected)"
                : "";
        r.event("vm-started", host, v.name(), cause,
                v.name() + " runs on " + host + " with lease generation " + generation + timing + ": " + cause,
                Round.merge(details, Round.details("generation", generation)));
        failover.finished(r, running, true);
        r.capacityChanged = true; // VMs that start after this one may go now
    }

    /**
     * A start on {@code host} failed, or the VM stopped unexpectedly there: retry there {@code maxRestarts} times,
     * then on another host, at most {@code maxRelocations} times, then give up.
     */
    void failed(Round r, VmRecord v, String host, String error) {
        String message = "start on " + host + " failed: " + error;
        VmSpec spec = r.spec(v.name());
        r.event("vm-start-failed", host, v.name(), error,
                v.name() + " failed to start on " + host + ": " + error,
                Round.merge(failover.vmDetails(r, v, "startFailed"),
                        Round.details("restartsHere", v.restartsHere(), "relocations", v.relocations())));
        retry(r, v.withError(message), spec, host, message);
    }

    /** Counts one failure on {@code host} and asks for the next placement, or gives up. */
    void retry(Round r, VmRecord v, VmSpec spec, String host, String message) {
        r.capacityChanged = true;
        int restarts = host.equals(v.attemptHost()) ? v.restartsHere() : 0;
        VmRecord next = v.to(VmState.STARTING, null, r.now).withCommand(null);
        if (spec != null && restarts < spec.maxRestarts()) {
            r.put(next.withAttempt(v.triedHosts(), host, restarts + 1, v.relocations()));
            r.requestPlacement(v.name(), host, "restart " + (restarts + 1) + " of " + spec.maxRestarts() + " on " + host
                    + " (maxRestarts) after: " + message);
            return;
        }
        List<String> tried = new ArrayList<>(v.triedHosts());
        if (!tried.contains(host)) tried.add(host);
        if (spec != null && v.relocations() < spec.maxRelocations()) {
            r.put(next.withAttempt(tried, null, 0, v.relocations() + 1));
            r.requestPlacement(v.name(), null, "relocation " + (v.relocations() + 1) + " of " + spec.maxRelocations()
                    + " (maxRelocations) after: " + message);
            return;
        }
        giveUp(r, next.withAttempt(tried, null, 0, v.relocations()), "gave up after " + (restarts + 1)
                + " attempt(s) on " + host + " and " + v.relocations() + " relocation(s) (maxRestarts "
                + (spec == null ? 0 : spec.maxRestarts()) + ", maxRelocations " + (spec == null ? 0 : spec.maxRelocations())
                + "); last: " + message);
    }

    void giveUp(Round r, VmRecord v, String why) {
        VmRecord error = v.to(VmState.ERROR, null, r.now).withCommand(null).withError(why).withMove(null, null)
                .withRestoreFrom(null).waiting(0, null);
        r.put(error);
        r.event("vm-error", null, v.name(), why, v.name() + " is in error and will not be retried: " + why,
                failover.vmDetails(r, error, "gaveUp"));
        failover.finished(r, error, false);
    }
}
