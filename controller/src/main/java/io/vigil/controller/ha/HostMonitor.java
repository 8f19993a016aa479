package io.vigil.controller.ha;

import io.vigil.protocol.HostInventory;
import java.util.List;
import java.util.Map;

/**
 * Host states from network heartbeats (direct) and storage heartbeats (indirect): connected, suspect after two
 * missed intervals, then at the failure timeout isolated (storage heartbeat still changing) or failed (both
 * silent), fenced once its storage lease expired. A connected host that lost its storage has fenced itself and is
 * fenced too. Timeouts are evaluated on every input, so a Tick is only needed when nothing else arrives.
 */
final class HostMonitor {
    private final Failover failover;
    private final Rejoin rejoin;
    private final Reconciler reconciler;

    HostMonitor(Failover failover, Rejoin rejoin, Reconciler reconciler) {
        this.failover = failover;
        this.rejoin = rejoin;
        this.reconciler = reconciler;
    }

    /** Hello ({@code hello}) or heartbeat from a host's agent. */
    void onAgent(Round r, String name, long generation, HostInventory inventory, boolean storageOk, boolean hello) {
        HostRecord prev = r.host(name);
        HostInventory before = prev == null ? null : prev.inventory();
        if (prev == null) {
            r.put(HostRecord.joined(name, generation, inventory, storageOk, r.now));
            r.capacityChanged = true;
            r.event("host-connected", name, null, hello ? "its agent connected" : "its first heartbeat arrived",
                    name + " connected with generation " + generation + " (" + inventory.cpus() + " CPUs, "
                            + inventory.memoryTotalMiB() + " MiB)",
                    Map.of("generation", generation));
        } else if (generation < prev.generation()) {
            // A message from an incarnation that has since been replaced (generations only grow): not evidence
            // about the host as it is now.
            return;
        } else {
            long silentMillis = r.now.millisSince(prev.lastHeartbeatNanos());
            boolean newGeneration = generation > prev.generation();
            r.put(prev.heard(generation, inventory, storageOk, r.now));
            if (hello && prev.shutdown() != HostRecord.Shutdown.NONE)
                r.put(r.host(name).withShutdown(HostRecord.Shutdown.NONE)); // a new agent run: not shutting down
            switch (prev.state()) {
                case OFFLINE -> {
                    r.put(r.host(name).to(HostState.CONNECTED, r.now).withShutdown(HostRecord.Shutdown.NONE));
                    r.capacityChanged = true;
                    r.hostsChanged = true;
                    r.event("host-connected", name, null, "it is back after a clean shutdown",
                            name + " is back after a clean shutdown, with generation " + generation,
                            Map.of("generation", generation));
                    thaw(r, name);
                }
                case CONNECTED -> {
                    if (hello || !prev.connected()) {
                        r.capacityChanged = true;
                        r.hostsChanged = true;
                        r.event("host-connected", name, null, "its agent connected",
                                name + " connected with generation " + generation
                                        + (newGeneration ? " (new; was " + prev.generation() + ")" : ""),
                                Map.of("generation", generation));
                    }
                }
                case REJOINING -> {
                    if (!hello) rejoin.complete(r, name);
                }
                case SUSPECT, ISOLATED -> recovered(r, name, prev, silentMillis, "");
                case FAILED -> {
                    if (newGeneration) {
                        failover.fence(r, name, "host-leases-expired",
                                "it came back with generation " + generation + "; its generation "
                                        + prev.generation() + " leases are void",
                                name + "'s leases of generation " + prev.generation() + " are void");
                        rejoin.begin(r, name, hello);
                    } else {
                        recovered(r, name, prev, silentMillis, "; its leases never expired, so its VMs stay");
                    }
                }
                case FENCED -> {
                    if (storageOk) rejoin.begin(r, name, hello);
                }
            }
        }
        HostRecord h = r.host(name);
        if (h.state() == HostState.CONNECTED && !h.storageOk())
            storageLost(r, name, "its agent reports it cannot renew its storage lease and has fenced itself");
        h = r.host(name);
        if (h.state() == HostState.CONNECTED || h.state() == HostState.REJOINING) reconciler.reconcile(r, name, before);
    }

    void onDisconnected(Round r, String name) {
        HostRecord h = r.host(name);
        if (h == null || !h.connected()) return;
        r.put(h.disconnected());
        if (h.shutdown() == HostRecord.Shutdown.CLEARED && h.state() == HostState.CONNECTED) {
            offline(r, name, "its agent disconnected after its clean shutdown was cleared");
            return;
        }
        r.event("host-disconnected", name, null, "its agent's connection closed",
                name + "'s agent disconnected; heartbeat timeouts decide whether it failed", Map.of());
    }

    void onStorage(Round r, Map<String, HaInput.StorageView> views) {
        for (Map.Entry<String, HaInput.StorageView> e : views.entrySet())
            r.storage.put(e.getKey(), new StorageReading(e.getValue(), r.now.monotonicNanos()));
    }

    private static void offline(Round r, String name, String cause) {
        r.put(r.host(name).to(HostState.OFFLINE, r.now));
        r.capacityChanged = true;
        r.event("host-offline", name, null, cause, name + " is offline after a clean shutdown; nothing fails over",
                Map.of());
    }

    /** The host is back: VMs frozen on it by its shutdown start there again. */
    private static void thaw(Round r, String name) {
        for (VmRecord v : List.copyOf(r.vms.values())) {
            if (v.state() != VmState.FROZEN || !name.equals(v.host())) continue;
            VmSpec spec = r.spec(v.name());
            if (spec == null || spec.requestedState() != RequestedState.STARTED) continue;
            r.put(v.to(VmState.STARTING, null, r.now).withHome(name).newAttempt());
            r.requestPlacement(v.name(), name, "its host " + name + " returned (it was frozen there by the shutdown)");
        }
    }

    private void recovered(Round r, String name, HostRecord prev, long silentMillis, String note) {
        failover.cancel(r, name);
        r.put(r.host(name).to(HostState.CONNECTED, r.now));
        r.capacityChanged = true;
        r.hostsChanged = true;
        for (VmRecord v : List.copyOf(r.vms.values()))
            if (name.equals(v.host()) && v.state() == VmState.RECOVERY)
                r.put(v.to(VmState.RUNNING, name, r.now).withCommand(null));
        r.event("host-recovered", name, null, "its network heartbeat is back",
                name + " is connected again after " + silentMillis + " ms of silence (was " + prev.state().wireName()
                        + ")" + note,
                Map.of("silentMillis", silentMillis));
    }

    private void storageLost(Round r, String name, String cause) {
        failover.open(r, name);
        failover.fence(r, name, "host-storage-lost", cause, name + " lost its shared storage: " + cause);
    }

    /** Fires every timeout that has passed. */
    void evaluate(Round r) {
        for (String name : List.copyOf(r.hosts.keySet()))
            for (int i = 0; i < HostState.values().length && evaluateOnce(r, name); i++) { }
    }

    private boolean evaluateOnce(Round r, String name) {
        HostRecord h = r.host(name);
        long silent = r.now.millisSince(h.lastHeartbeatNanos());
        StorageReading storage = r.storage.get(name);
        long failureTimeout = r.failureTimeoutMillis();
        switch (h.state()) {
            case CONNECTED, REJOINING -> {
                if (h.shutdown() == HostRecord.Shutdown.CLEARED && (silent > 2 * r.heartbeatMillis() || !h.connected())) {
                    offline(r, name, "its heartbeats stopped after its clean shutdown was cleared");
                    return true;
                }
                if (silent > 2 * r.heartbeatMillis()) {
                    String id = failover.open(r, name);
                    r.put(r.host(name).to(HostState.SUSPECT, r.now));
                    String cause = "no network heartbeat for " + silent + " ms (interval " + r.heartbeatMillis()
                            + " ms)";
                    r.event("host-suspect", name, null, cause, "failure of " + name + " detected: " + cause
                            + "; it is declared failed or isolated after " + failureTimeout + " ms",
                            failover.step(r, id, "detected", false));
                    return true;
                }
                if (h.state() == HostState.CONNECTED && h.shutdown() != HostRecord.Shutdown.CLEARED && leaseExpired(storage, h)
                        && storageReadable(r, name)) {
                    storageLost(r, name, "its storage heartbeat has been unchanged for "
                            + storage.unchangedMillis(r.now) + " ms: its lease expired");
                    return true;
                }
                return false;
            }
            case SUSPECT, ISOLATED -> {
                if (newerGeneration(storage, h)) {
                    fenceRestarted(r, name, h, storage);
                    return true;
                }
                if (h.state() == HostState.SUSPECT && silent > failureTimeout) {
                    if (storageAlive(r, storage, h)) {
                        String id = failover.open(r, name);
                        r.put(r.host(name).to(HostState.ISOLATED, r.now));
                        String cause = "no network heartbeat for " + silent + " ms but its storage heartbeat changed "
                                + storage.unchangedMillis(r.now) + " ms ago";
                        r.event("host-isolated", name, null, cause, name + " is isolated: " + cause
                                + "; its VMs stay where they are (isolation response: "
                                + r.policy.isolationResponse().wireName() + ")",
                                failover.step(r, id, "isolated", false));
                    } else {
                        failover.declareFailed(r, name, "no network heartbeat for " + silent + " ms and "
                                + storageSilence(r, storage, h));
                    }
                    return true;
                }
                if (h.state() == HostState.ISOLATED && !storageAlive(r, storage, h)) {
                    failover.declareFailed(r, name, "it was isolated and now " + storageSilence(r, storage, h));
                    return true;
                }
                return false;
            }
            case FAILED -> {
                if (leaseExpired(storage, h)) {
                    String cause = "its storage heartbeat has been unchanged for " + storage.unchangedMillis(r.now)
                            + " ms, past its lease timeout";
                    failover.fence(r, name, "host-leases-expired", cause,
                            name + "'s leases expired: none of its VMs can still write its disks");
                    return true;
                }
                if (newerGeneration(storage, h)) {
                    fenceRestarted(r, name, h, storage);
                    return true;
                }
                return false;
            }
            default -> {
                return false;
            }
        }
    }

    private void fenceRestarted(Round r, String name, HostRecord h, StorageReading storage) {
        failover.fence(r, name, "host-leases-expired",
                "its storage heartbeat shows generation " + storage.view().generation() + ": it restarted",
                name + "'s leases of generation " + h.generation() + " are void");
    }

    /**
     * The storage heartbeat of the host's current generation is still being renewed: it changed within two heartbeat
     * intervals. A live host rewrites it every interval, so its reading is never older than that plus the
     * controller's poll; a dead host's last write is at most one interval younger than its last network heartbeat,
     * so by the failure timeout it is already older than this window, and the host goes straight to failed instead
     * of passing through a misleading "isolated".
     */
    private static boolean storageAlive(Round r, StorageReading s, HostRecord h) {
        if (s == null) return false;
        if (s.view().generation() > h.generation()) return true;
        return s.view().generation() == h.generation() && !s.view().leaseExpired()
                && s.unchangedMillis(r.now) <= storageRenewalWindowMillis(r);
    }

    private static long storageRenewalWindowMillis(Round r) {
        return Math.min(2000L * r.policy.heartbeatIntervalSeconds(), r.failureTimeoutMillis());
    }

    private static String storageSilence(Round r, StorageReading s, HostRecord h) {
        if (s == null) return "no storage heartbeat reading";
        if (s.view().generation() < h.generation())
            return "no storage heartbeat of generation " + h.generation() + " yet";
        return "its storage heartbeat unchanged for " + s.unchangedMillis(r.now) + " ms";
    }

    private static boolean leaseExpired(StorageReading s, HostRecord h) {
        return s != null && s.view().generation() == h.generation() && s.view().leaseExpired();
    }

    private static boolean newerGeneration(StorageReading s, HostRecord h) {
        return s != null && s.view().generation() > h.generation();
    }

    /**
     * Whether the controller's own view of shared storage works: some other host's heartbeat is fresh. Without
     * this, a controller that lost the storage mount would fence every connected host at once.
     */
    private static boolean storageReadable(Round r, String except) {
        for (Map.Entry<String, StorageReading> e : r.storage.entrySet())
            if (!e.getKey().equals(except) && !e.getValue().view().leaseExpired()
                    && e.getValue().unchangedMillis(r.now) <= r.failureTimeoutMillis())
                return true;
        return false;
    }
}
