package io.vigil.controller.ha;

import io.vigil.protocol.AgentCommand;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Starting VMs: one placement pass per round over every VM that needs a host (failover VMs, VMs the operator
 * started, VMs restarted in place, failed starts to retry, and VMs waiting for capacity when capacity may have
 * appeared), highest priority first; the StartVm each placement sends; and what its result means.
 */
final class Starter {
    static final int MAX_PLACEMENTS = 3;

    private final Failover failover;

    Starter(Failover failover) {
        this.failover = failover;
    }

    void placePending(Round r) {
        Map<String, Round.PlacementRequest> requests = r.takePlacements();
        if (r.capacityChanged)
            for (VmRecord v : r.vms.values())
                if (v.state() == VmState.PENDING_CAPACITY)
                    requests.putIfAbsent(v.name(), new Round.PlacementRequest(null, "capacity may have appeared"));
        r.capacityChanged = false;
        List<VmSpec> order = new ArrayList<>();
        for (String vm : requests.keySet()) {
            VmSpec spec = r.spec(vm);
            VmRecord v = r.vm(vm);
            if (spec != null && v != null && spec.desired() == DesiredState.RUNNING && v.host() == null
                    && needsHost(v.state()))
                order.add(spec);
        }
        if (order.isEmpty()) return;
        order.sort(Placement.order());
        Map<String, Placement.HostCapacity> capacity = new TreeMap<>();
        for (HostRecord h : r.hosts.values())
            if (h.acceptsVms()) capacity.put(h.name(), Placement.capacity(h, r.vms, r.specs));
        for (VmSpec spec : order) place(r, spec, requests.get(spec.name()), capacity);
    }

    private static boolean needsHost(VmState state) {
        return state == VmState.STARTING || state == VmState.RECOVERY || state == VmState.PENDING_CAPACITY
                || state == VmState.STOPPED || state == VmState.ERROR;
    }

    private void place(Round r, VmSpec spec, Round.PlacementRequest request,
            Map<String, Placement.HostCapacity> capacity) {
        VmRecord v = r.vm(spec.name());
        Optional<String> target = Placement.choose(capacity.values(), spec.memoryMiB(), v.triedHosts(),
                request.preferredHost());
        if (target.isPresent()) {
            Placement.HostCapacity before = capacity.get(target.get());
            capacity.put(before.host(), before.plus(spec.name(), spec.memoryMiB(), spec.haEnabled()));
            start(r, v, spec, before, request.reason());
            return;
        }
        boolean roomOnTriedHostsOnly = !v.triedHosts().isEmpty()
                && Placement.choose(capacity.values(), spec.memoryMiB(), List.of(), null).isPresent();
        if (roomOnTriedHostsOnly) {
            giveUp(r, v, "start failed on every host with room (" + String.join(", ", v.triedHosts())
                    + "); last error: " + v.lastError());
            return;
        }
        long largest = capacity.values().stream().mapToLong(Placement.HostCapacity::freeMiB).max().orElse(0);
        boolean announce = v.state() != VmState.PENDING_CAPACITY;
        VmRecord pending = v.to(VmState.PENDING_CAPACITY, null, r.now).withCommand(null);
        r.put(pending);
        if (announce) {
            String cause = capacity.isEmpty() ? "no host accepts VMs" : "no host has " + spec.memoryMiB() + " MiB free";
            r.event("vm-pending-capacity", null, spec.name(), cause,
                    spec.name() + " (priority " + spec.priority().wireName() + ", " + spec.memoryMiB()
                            + " MiB) waits for capacity: " + cause + " (largest free: " + largest
                            + " MiB); it starts as soon as room appears, by priority",
                    Round.merge(failover.vmDetails(r, pending, "pendingCapacity"),
                            Round.details("memoryMiB", spec.memoryMiB(), "largestFreeMiB", largest)));
        }
    }

    private void start(Round r, VmRecord v, VmSpec spec, Placement.HostCapacity target, String reason) {
        long generation = v.nextGeneration();
        String host = target.host();
        String id = r.send(host, v.name(), PendingCommand.Kind.START, generation, CommandLedger.START_TIMEOUT_MILLIS,
                cid -> new AgentCommand.StartVm(cid, v.name(), spec.domainXml(), generation, spec.haEnabled()));
        VmRecord started = v.to(VmState.STARTING, host, r.now).withIssued(generation).withCommand(id)
                .withAttempt(v.triedHosts(), v.placements() + 1);
        r.put(started);
        // Placing a VM back on a host that once lost it is a new decision with a new generation.
        HostRecord h = r.host(host);
        if (h.lostVms().contains(v.name())) r.put(h.withLost(v.name(), false));
        r.event("vm-placed", host, v.name(), reason,
                v.name() + " (priority " + spec.priority().wireName() + ", " + spec.memoryMiB() + " MiB) placed on "
                        + host + " (" + target.freeMiB() + " MiB free, " + target.haVms()
                        + " HA VMs); starting with lease generation " + generation + " (attempt "
                        + started.placements() + " of " + MAX_PLACEMENTS + ")",
                Round.merge(failover.vmDetails(r, started, "placed"),
                        Round.details("generation", generation, "attempt", started.placements(), "commandId", id)));
    }

    /** The result of a StartVm the VM still waits for. */
    void onResult(Round r, PendingCommand command, boolean ok, String error, long leaseGeneration) {
        VmRecord v = r.vm(command.vm());
        if (ok) {
            started(r, v, command.host(), leaseGeneration > 0 ? leaseGeneration : command.generation(),
                    "the agent confirmed the start");
        } else {
            failed(r, v, command.host(), error == null || error.isBlank() ? "no reason given" : error);
        }
    }

    /** The VM runs on {@code host} with lease {@code generation}: confirmed by a command result or a heartbeat. */
    void started(Round r, VmRecord v, String host, long generation, String cause) {
        VmRecord running = v.to(VmState.RUNNING, host, r.now).withGeneration(generation).withCommand(null)
                .withError(null).newAttempt();
        r.put(running);
        Map<String, Object> details = failover.vmDetails(r, running, "started");
        String timing = details.containsKey("elapsedMillis")
                ? " (" + details.get("elapsedMillis") + " ms after failover " + details.get("failover")
                        + " was detected)"
                : "";
        r.event("vm-started", host, v.name(), cause,
                v.name() + " runs on " + host + " with lease generation " + generation + timing,
                Round.merge(details, Round.details("generation", generation)));
        failover.finished(r, running, true);
    }

    void failed(Round r, VmRecord v, String host, String error) {
        String message = "start on " + host + " failed: " + error;
        r.event("vm-start-failed", host, v.name(), error,
                v.name() + " failed to start on " + host + ": " + error + " (attempt " + v.placements() + " of "
                        + MAX_PLACEMENTS + ")",
                Round.merge(failover.vmDetails(r, v, "startFailed"), Round.details("attempt", v.placements())));
        List<String> tried = new ArrayList<>(v.triedHosts());
        if (!tried.contains(host)) tried.add(host);
        VmRecord retry = v.to(VmState.STARTING, null, r.now).withCommand(null).withError(message)
                .withAttempt(tried, v.placements());
        r.put(retry);
        r.capacityChanged = true;
        if (retry.placements() >= MAX_PLACEMENTS) {
            giveUp(r, retry, "start failed " + retry.placements() + " times; last: " + message);
        } else {
            r.requestPlacement(v.name(), null, "retry after the start on " + host + " failed");
        }
    }

    void giveUp(Round r, VmRecord v, String why) {
        VmRecord error = v.to(VmState.ERROR, null, r.now).withCommand(null).withError(why);
        r.put(error);
        r.event("vm-error", null, v.name(), why, v.name() + " is in error and will not be retried: " + why,
                failover.vmDetails(r, error, "gaveUp"));
        failover.finished(r, error, false);
    }
}
