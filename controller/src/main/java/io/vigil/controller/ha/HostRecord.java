package io.vigil.controller.ha;

import io.vigil.protocol.HostInventory;
import java.util.Set;
import java.util.TreeSet;

/**
 * The core's bookkeeping for one host: its judged state, the generation of its storage lease, its last inventory
 * (observed truth), when it was last heard on the network (monotonic, for timeouts; wall clock, for people), the
 * failover in progress for it, the VMs it lost (moved away while it was fenced) that it must never run again,
 * whether the operator put it in maintenance, and how far a clean shutdown of it has got.
 */
record HostRecord(String name, HostState state, long generation, HostInventory inventory, boolean connected,
        boolean storageOk, long lastHeartbeatNanos, long lastHeartbeatMillis, long stateSinceMillis,
        String failoverId, int failoverCount, Set<String> lostVms, boolean maintenance, Shutdown shutdown,
        long failedAtNanos) {

    /** A clean shutdown: NONE; DRAINING while its VMs are dealt with under the shutdown policy; CLEARED once told. */
    enum Shutdown { NONE, DRAINING, CLEARED }

    HostRecord {
        lostVms = Set.copyOf(lostVms);
        if (shutdown == null) shutdown = Shutdown.NONE;
    }

    static HostRecord joined(String name, long generation, HostInventory inventory, boolean storageOk, Now now) {
        return new HostRecord(name, HostState.CONNECTED, generation, inventory, true, storageOk, now.monotonicNanos(),
                now.epochMillis(), now.epochMillis(), null, 0, Set.of(), false, Shutdown.NONE, 0);
    }

    /** A host known from the store, or referenced by a VM, that has not been heard from since the core (re)started. */
    static HostRecord unheard(String name, HostState state, long generation, HostInventory inventory,
            boolean storageOk, long stateSinceMillis, Now now) {
        return new HostRecord(name, state, generation, inventory, false, storageOk, now.monotonicNanos(),
                now.epochMillis(), stateSinceMillis, null, 0, Set.of(), false, Shutdown.NONE, 0);
    }

    HostRecord heard(long gen, HostInventory inv, boolean ok, Now now) {
        return new HostRecord(name, state, gen, inv, true, ok, now.monotonicNanos(), now.epochMillis(),
                stateSinceMillis, failoverId, failoverCount, lostVms, maintenance, shutdown, failedAtNanos);
    }

    HostRecord to(HostState newState, Now now) {
        return new HostRecord(name, newState, generation, inventory, connected, storageOk, lastHeartbeatNanos,
                lastHeartbeatMillis, newState == state ? stateSinceMillis : now.epochMillis(), failoverId,
                failoverCount, lostVms, maintenance, shutdown,
                newState == HostState.FAILED && state != HostState.FAILED ? now.monotonicNanos() : failedAtNanos);
    }

    HostRecord disconnected() {
        return new HostRecord(name, state, generation, inventory, false, storageOk, lastHeartbeatNanos,
                lastHeartbeatMillis, stateSinceMillis, failoverId, failoverCount, lostVms, maintenance, shutdown,
                failedAtNanos);
    }

    HostRecord withFailover(String id, int count) {
        return new HostRecord(name, state, generation, inventory, connected, storageOk, lastHeartbeatNanos,
                lastHeartbeatMillis, stateSinceMillis, id, count, lostVms, maintenance, shutdown, failedAtNanos);
    }

    HostRecord withLost(String vm, boolean lost) {
        Set<String> next = new TreeSet<>(lostVms);
        if (lost) next.add(vm); else next.remove(vm);
        return new HostRecord(name, state, generation, inventory, connected, storageOk, lastHeartbeatNanos,
                lastHeartbeatMillis, stateSinceMillis, failoverId, failoverCount, next, maintenance, shutdown,
                failedAtNanos);
    }

    HostRecord withMaintenance(boolean on) {
        return new HostRecord(name, state, generation, inventory, connected, storageOk, lastHeartbeatNanos,
                lastHeartbeatMillis, stateSinceMillis, failoverId, failoverCount, lostVms, on, shutdown, failedAtNanos);
    }

    HostRecord withShutdown(Shutdown phase) {
        return new HostRecord(name, state, generation, inventory, connected, storageOk, lastHeartbeatNanos,
                lastHeartbeatMillis, stateSinceMillis, failoverId, failoverCount, lostVms, maintenance, phase,
                failedAtNanos);
    }

    /** Whether this host may receive new VMs: healthy, not in maintenance, not shutting down. */
    boolean acceptsVms() {
        return healthy() && !maintenance && shutdown == Shutdown.NONE;
    }

    /** Heard on the network with its storage lease renewed: what it reports is the truth. */
    boolean healthy() {
        return state == HostState.CONNECTED && connected && storageOk;
    }

    /** Whether its agent may still be alive to carry out a command. */
    boolean mayBeAlive() {
        return state == HostState.CONNECTED || state == HostState.SUSPECT || state == HostState.ISOLATED
                || state == HostState.REJOINING;
    }
}
