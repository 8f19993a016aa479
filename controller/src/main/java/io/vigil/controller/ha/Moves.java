package io.vigil.controller.ha;

import io.vigil.protocol.AgentCommand;
import io.vigil.protocol.storage.SharedStorage;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Planned moves and what drives them: the operator's migrate and relocate, maintenance (a host's VMs move away and
 * nothing is placed on it), a host's clean shutdown under {@code shutdownPolicy}, and failback (VMs return to their
 * most preferred host, or the host they were moved away from, once it is available again).
 *
 * <p>A migration saves the VM's memory state on the source ({@code SaveVm}, which stops it there and releases its
 * lease) and starts it on the target from that state ({@code StartVm} with {@code restoreFrom}, at the next lease
 * generation); the agent falls back to a cold start where a restore is impossible. If the save fails the VM is
 * relocated instead: stopped on the source, started on the target. The target's memory is counted from the moment
 * the move begins.
 */
final class Moves {
    private final Starter starter;

    Moves(Starter starter) {
        this.starter = starter;
    }

    // ---- operator requests ---------------------------------------------------------------------------------------

    void onMoveRequested(Round r, String vm, String target, MoveKind kind) {
        String verb = kind == MoveKind.MIGRATE ? "migrate" : "relocate";
        var refusal = r.finish().view().refuseMove(vm, target, kind);
        if (refusal.isPresent()) {
            r.event("vm-move-refused", target, vm, refusal.get(), "cannot " + verb + " " + vm + " to " + target + ": "
                    + refusal.get(), Round.details("kind", kind.wireName()));
            return;
        }
        begin(r, r.vm(vm), target, kind, "the operator asked to " + verb + " it to " + target);
    }

    void onMaintenance(Round r, String host, boolean enabled) {
        HostRecord h = r.host(host);
        var refusal = r.finish().view().refuseMaintenance(host, enabled);
        if (refusal.isPresent()) {
            r.event("host-maintenance-refused", host, null, refusal.get(), "maintenance on " + host + " refused: "
                    + refusal.get(), Map.of());
            return;
        }
        if (h.maintenance() == enabled) return;
        r.put(h.withMaintenance(enabled));
        r.capacityChanged = true;
        if (enabled) {
            r.event("host-maintenance", host, null, "the operator put it in maintenance",
                    host + " is in maintenance: its VMs move away and nothing is placed on it", Map.of("enabled", true));
        } else {
            r.hostsChanged = true;
            r.event("host-maintenance", host, null, "the operator ended its maintenance",
                    host + " left maintenance and takes VMs again; VMs with failback return to it",
                    Map.of("enabled", false));
        }
    }

    void onShutdown(Round r, String host, String reason) {
        HostRecord h = r.host(host);
        if (h == null || h.shutdown() != HostRecord.Shutdown.NONE) return;
        r.put(h.withShutdown(HostRecord.Shutdown.DRAINING));
        r.capacityChanged = true;
        ShutdownPolicy policy = r.policy.shutdownPolicy();
        String what = switch (policy) {
            case MIGRATE -> "its VMs move to other hosts first";
            case FAILOVER -> "its VMs are stopped and the HA ones restarted elsewhere";
            case FREEZE -> "its VMs are stopped and stay on it until it returns";
        };
        r.event("host-shutting-down", host, null, reason == null ? "its agent reports a clean shutdown" : reason,
                host + " is shutting down cleanly (shutdownPolicy " + policy.wireName() + "): " + what,
                Map.of("shutdownPolicy", policy.wireName()));
        if (policy == ShutdownPolicy.MIGRATE) return; // the sweep migrates them
        for (VmRecord v : List.copyOf(r.vms.values())) {
            if (!host.equals(v.host()) || !Placement.OCCUPYING.contains(v.state()) || ignored(r, v.name())) continue;
            if (v.state() != VmState.RUNNING) continue; // commands in flight settle first; the sweep comes back
            stopForShutdown(r, v, host, policy);
        }
    }

    private void stopForShutdown(Round r, VmRecord v, String host, ShutdownPolicy policy) {
        String id = r.send(host, v.name(), PendingCommand.Kind.STOP, v.generation(), CommandLedger.STOP_TIMEOUT_MILLIS,
                cid -> new AgentCommand.StopVm(cid, v.name(), CommandLedger.STOP_GUEST_TIMEOUT_SECONDS));
        r.put(v.to(VmState.MIGRATING, host, r.now).withCommand(id).withMove(null,
                policy == ShutdownPolicy.FREEZE ? null : MoveKind.RELOCATE).withHome(host));
        r.event("vm-stop-requested", host, v.name(), "its host " + host + " is shutting down (shutdownPolicy "
                + policy.wireName() + ")", v.name() + " is shut down on " + host
                + (policy == ShutdownPolicy.FREEZE ? "; it stays there, frozen, until the host returns"
                        : r.spec(v.name()) != null && r.spec(v.name()).restartable() ? "; it restarts elsewhere"
                        : "; it is not an HA VM, so it stays stopped"), Map.of());
    }

    // ---- every round ---------------------------------------------------------------------------------------------

    /** Evacuates hosts in maintenance or shutting down, clears finished shutdowns, and fails VMs back. */
    void sweep(Round r) {
        boolean hostsChanged = r.hostsChanged;
        r.hostsChanged = false;
        for (HostRecord h : List.copyOf(r.hosts.values())) {
            boolean draining = h.shutdown() == HostRecord.Shutdown.DRAINING;
            if (!(h.maintenance() || draining) || !h.mayBeAlive()) continue;
            if (h.maintenance() || r.policy.shutdownPolicy() == ShutdownPolicy.MIGRATE) evacuate(r, h.name());
            else if (draining)
                for (VmRecord v : List.copyOf(r.vms.values()))
                    if (h.name().equals(v.host()) && v.state() == VmState.RUNNING && !ignored(r, v.name()))
                        stopForShutdown(r, v, h.name(), r.policy.shutdownPolicy());
            if (draining && !hasVms(r, h.name())) clearShutdown(r, h.name());
        }
        if (hostsChanged) failback(r);
    }

    private static boolean hasVms(Round r, String host) {
        for (VmRecord v : r.vms.values())
            if (host.equals(v.host()) && Placement.OCCUPYING.contains(v.state()) && !ignored(r, v.name())) return true;
        return false;
    }

    private static void clearShutdown(Round r, String host) {
        r.put(r.host(host).withShutdown(HostRecord.Shutdown.CLEARED));
        r.event("host-shutdown-cleared", host, null, "none of its VMs runs any more",
                host + " may shut down: its VMs were dealt with (shutdownPolicy " + r.policy.shutdownPolicy().wireName()
                        + ")", Map.of());
        r.emit(new HaCommand.ClearShutdown(host, "its VMs were dealt with under shutdownPolicy "
                + r.policy.shutdownPolicy().wireName()));
    }

    /** Migrates every running VM away from {@code host}, each to the best host that takes it; the rest wait. */
    private void evacuate(Round r, String host) {
        Map<String, Placement.HostCapacity> capacity = capacities(r, host);
        Map<String, String> placed = new HashMap<>();
        List<VmSpec> order = new ArrayList<>();
        for (VmRecord v : r.vms.values()) {
            if (!host.equals(v.host()) || v.state() != VmState.RUNNING || ignored(r, v.name())) continue;
            VmSpec spec = r.spec(v.name());
            if (spec != null) order.add(spec);
        }
        order.sort(Placement.order());
        for (VmSpec spec : order) {
            VmRecord v = r.vm(spec.name());
            Placement.Choice choice = Placement.choose(capacity.values(), spec, List.of(host), null, false, r.policy,
                    r.ruleBook(), vm -> placed.containsKey(vm) ? placed.get(vm) : r.holdingHost(vm));
            if (choice.host() == null) {
                String key = "evacuation:" + choice.whyNone();
                if (!key.equals(v.waitReason())) {
                    r.put(v.waiting(r.now.monotonicNanos(), key));
                    r.event("vm-evacuation-waiting", host, v.name(), choice.whyNone(),
                            v.name() + " cannot leave " + host + " yet: " + choice.whyNone()
                                    + "; it moves as soon as a host can take it", Map.of());
                }
                continue;
            }
            Placement.HostCapacity t = capacity.get(choice.host());
            capacity.put(t.host(), t.plus(spec.name(), spec.memoryMiB(), spec.vcpus(), spec.restartable()));
            placed.put(spec.name(), t.host());
            String why = r.host(host).maintenance() ? host + " is in maintenance" : host + " is shutting down";
            begin(r, v.withHome(host).waiting(0, null), t.host(), MoveKind.MIGRATE, why);
        }
    }

    /** VMs with failback return to their most preferred available host, or to the host they were moved from. */
    private void failback(Round r) {
        Map<String, Placement.HostCapacity> capacity = capacities(r, null);
        for (VmRecord v : List.copyOf(r.vms.values())) {
            VmSpec spec = r.spec(v.name());
            if (spec == null || !spec.failback() || v.state() != VmState.RUNNING || v.host() == null
                    || spec.requestedState() != RequestedState.STARTED) continue;
            String target = failbackTarget(r, spec, v, capacity);
            if (target == null || target.equals(v.host())) continue;
            Placement.Choice ok = Placement.choose(capacity.values(), spec, List.of(), target, false, r.policy,
                    r.ruleBook(), vm -> vm.equals(v.name()) ? null : r.holdingHost(vm));
            if (!target.equals(ok.host())) continue;
            Placement.HostCapacity t = capacity.get(target);
            capacity.put(target, t.plus(spec.name(), spec.memoryMiB(), spec.vcpus(), spec.restartable()));
            begin(r, v, target, MoveKind.MIGRATE, "failback: " + target + " is its "
                    + (spec.preferredHosts().isEmpty() ? "home host" : "most preferred host") + " and available again");
        }
    }

    private static String failbackTarget(Round r, VmSpec spec, VmRecord v, Map<String, Placement.HostCapacity> capacity) {
        if (!spec.preferredHosts().isEmpty()) {
            String best = null;
            int bestPref = spec.preference(v.host());
            for (HostPreference p : spec.preferredHosts())
                if (capacity.containsKey(p.host()) && p.priority() > bestPref) {
                    best = p.host();
                    bestPref = p.priority();
                }
            return best;
        }
        return v.homeHost() != null && capacity.containsKey(v.homeHost()) ? v.homeHost() : null;
    }

    // ---- carrying a move out -------------------------------------------------------------------------------------

    /** Begins moving the running VM {@code v} to {@code target}. */
    void begin(Round r, VmRecord v, String target, MoveKind kind, String reason) {
        String source = v.host();
        VmSpec spec = r.spec(v.name());
        if (kind == MoveKind.MIGRATE) {
            String saveTo = SharedStorage.savedState(v.name(), v.nextGeneration());
            String id = r.send(source, v.name(), PendingCommand.Kind.SAVE, v.generation(),
                    CommandLedger.SAVE_TIMEOUT_MILLIS, cid -> new AgentCommand.SaveVm(cid, v.name(), saveTo));
            r.put(v.to(VmState.MIGRATING, source, r.now).withCommand(id).withMove(target, kind).withRestoreFrom(saveTo)
                    .newAttempt());
            r.event("vm-migrating", source, v.name(), reason, v.name() + " migrates from " + source + " to " + target
                    + ": its memory state is saved to shared storage, then restored on " + target,
                    Round.details("from", source, "to", target, "memoryMiB", spec == null ? null : spec.memoryMiB()));
        } else {
            String id = r.send(source, v.name(), PendingCommand.Kind.STOP, v.generation(),
                    CommandLedger.STOP_TIMEOUT_MILLIS,
                    cid -> new AgentCommand.StopVm(cid, v.name(), CommandLedger.STOP_GUEST_TIMEOUT_SECONDS));
            r.put(v.to(VmState.MIGRATING, source, r.now).withCommand(id).withMove(target, kind).newAttempt());
            r.event("vm-relocating", source, v.name(), reason, v.name() + " relocates from " + source + " to " + target
                    + ": shut down on " + source + ", then started on " + target,
                    Round.details("from", source, "to", target));
        }
    }

    /** The save of a migration ended: on success the VM starts on its target from the saved state. */
    void onSaveResult(Round r, PendingCommand command, boolean ok, String error) {
        VmRecord v = r.vm(command.vm());
        if (ok) {
            r.event("vm-saved", command.host(), v.name(), "the agent saved its memory state",
                    v.name() + " saved on " + command.host() + " to " + v.restoreFrom() + "; restoring it on "
                            + v.moveTarget(), Map.of());
            leftSource(r, v, command.host(), "migration to " + v.moveTarget());
        } else {
            String why = error == null ? "no reason given" : error;
            r.event("vm-migration-failed", command.host(), v.name(), why, "saving " + v.name() + " on "
                    + command.host() + " failed (" + why + "); relocating it instead (shut down, then started on "
                    + v.moveTarget() + ")", Map.of());
            VmRecord back = v.to(VmState.RUNNING, command.host(), r.now).withCommand(null).withRestoreFrom(null);
            String target = v.moveTarget();
            if (target == null) {
                r.put(back.withMove(null, null));
                return;
            }
            begin(r, back, target, MoveKind.RELOCATE, "its migration failed: " + why);
        }
    }

    /**
     * The VM no longer runs on {@code source} as part of a move or a shutdown: it starts on its target, is placed
     * elsewhere, or (freeze) waits frozen on its host. Returns false if the VM was not moving.
     */
    boolean leftSource(Round r, VmRecord v, String source, String what) {
        if (v.state() != VmState.MIGRATING) return false;
        r.capacityChanged = true;
        HostRecord h = r.host(source);
        if (v.moveTarget() == null && v.moveKind() == null) {
            r.put(v.to(VmState.FROZEN, source, r.now).withCommand(null));
            r.event("vm-frozen", source, v.name(), "its host shut down under shutdownPolicy freeze",
                    v.name() + " is stopped on " + source + " and starts there again when the host returns", Map.of());
            return true;
        }
        VmSpec spec = r.spec(v.name());
        if (spec == null || spec.requestedState() != RequestedState.STARTED
                || (v.moveTarget() == null && !spec.restartable())) {
            r.put(v.to(VmState.STOPPED, source, r.now).withCommand(null).withMove(null, null).withRestoreFrom(null));
            r.event("vm-stopped", source, v.name(), "it stopped for " + what, v.name() + " is stopped: "
                    + (spec != null && !spec.restartable() ? "it is not an HA VM" : "it is not requested started"),
                    Map.of());
            return true;
        }
        r.put(v.to(VmState.STARTING, null, r.now).withCommand(null).withMove(null, null).newAttempt());
        r.requestPlacement(v.name(), v.moveTarget(), h != null && h.shutdown() != HostRecord.Shutdown.NONE
                && v.moveTarget() == null ? "its host " + source + " shut down (shutdownPolicy failover)" : what);
        return true;
    }

    // ---- helpers -------------------------------------------------------------------------------------------------

    private static Map<String, Placement.HostCapacity> capacities(Round r, String except) {
        return Placement.capacities(r.hosts.values().stream().filter(h -> h.acceptsVms() && !h.name().equals(except))
                .toList(), r.vms, r.specs);
    }

    static boolean ignored(Round r, String vm) {
        VmSpec spec = r.spec(vm);
        return spec != null && spec.requestedState() == RequestedState.IGNORED;
    }
}
