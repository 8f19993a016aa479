package io.vigil.controller.simulate;

import io.vigil.controller.ha.ClusterPolicy;
import io.vigil.controller.ha.HaInput;
import io.vigil.controller.ha.Now;
import io.vigil.protocol.HostInventory;
import io.vigil.protocol.IsolationResponse;
import io.vigil.protocol.VmPowerState;
import io.vigil.protocol.VmReport;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Predicate;

/**
 * A host agent as the core sees it, on the virtual clock: it writes its storage heartbeat every heartbeat interval
 * while it can, sends network heartbeats with its inventory while its network works, runs the domains it was told
 * to start, fences itself (destroys all its domains, as a lapsed lease protects none) when it has not written its storage heartbeat for
 * {@code 0.75 * leaseTimeout - 0.5 s}, and applies the isolation response when it has not heard the controller for
 * the failure timeout while its storage is fine. Mutable; owned by one {@link Simulator}.
 */
public final class SimulatedAgent {
    final String name;
    final long memoryMiB;
    final int cpus;
    long generation = 1;
    /** The host and its agent run (a failed host runs nothing). */
    boolean alive = true;
    /** Its network reaches the controller. */
    boolean network = true;
    /** It can write shared storage. */
    boolean storage = true;
    /** False once it fenced itself for want of storage, until it recovers. */
    boolean storageOk = true;
    long lastStorageWriteNanos;
    long lastControllerNanos;
    boolean isolationApplied;
    /** It told the controller it shuts down and waits for clearance (at most {@link #SHUTDOWN_TIMEOUT_MILLIS}). */
    boolean shuttingDown;
    long shutdownSinceNanos;
    /** The agent's own limit on waiting for the controller during a clean shutdown (its default). */
    static final long SHUTDOWN_TIMEOUT_MILLIS = 120_000;
    final Map<String, VmReport> domains = new TreeMap<>();

    SimulatedAgent(String name, long memoryMiB, int cpus, Now now) {
        this.name = name;
        this.memoryMiB = memoryMiB;
        this.cpus = cpus;
        this.lastStorageWriteNanos = now.monotonicNanos();
        this.lastControllerNanos = now.monotonicNanos();
    }

    HostInventory inventory() {
        long used = domains.values().stream().mapToLong(VmReport::memoryMiB).sum();
        return new HostInventory(cpus, memoryMiB, Math.max(0, memoryMiB - used), List.copyOf(domains.values()));
    }

    void run(String vm, long vmMemoryMiB, int vcpus, long leaseGeneration) {
        domains.put(vm, new VmReport(vm, "uuid-" + vm, VmPowerState.RUNNING, vmMemoryMiB, vcpus, leaseGeneration));
    }

    HaInput.AgentHeartbeat heartbeat() {
        return new HaInput.AgentHeartbeat(name, generation, inventory(), storageOk);
    }

    HaInput.AgentConnected hello() {
        return new HaInput.AgentConnected(name, generation, inventory(), storageOk);
    }

    HaInput.StorageView storageView(Now now, ClusterPolicy policy) {
        long unchanged = now.millisSince(lastStorageWriteNanos);
        return new HaInput.StorageView(generation, unchanged, unchanged >= policy.leaseTimeoutSeconds() * 1000L);
    }

    /** Whether the controller can reach it (and it the controller). */
    boolean reachable() {
        return alive && network;
    }

    /**
     * One 250 ms tick of its own timers at {@code elapsedMillis}: the storage heartbeat, the self-fence, the
     * isolation response. Returns what it did of note (null if nothing), for the event log.
     */
    String tick(Now now, long elapsedMillis, ClusterPolicy policy, Predicate<String> haEnabled) {
        if (!alive) return null;
        long interval = policy.heartbeatIntervalSeconds() * 1000L;
        if (storage && elapsedMillis % interval == 0) lastStorageWriteNanos = now.monotonicNanos();
        if (network) {
            lastControllerNanos = now.monotonicNanos();
            isolationApplied = false;
        }
        if (shuttingDown && now.millisSince(shutdownSinceNanos) > SHUTDOWN_TIMEOUT_MILLIS)
            return "shut down without the controller's clearance after " + SHUTDOWN_TIMEOUT_MILLIS / 1000 + " s"
                    + shutDown();
        long leaseTimeout = policy.leaseTimeoutSeconds() * 1000L;
        long fenceAfter = leaseTimeout * 3 / 4 - 500;
        if (!storage && storageOk && now.millisSince(lastStorageWriteNanos) > fenceAfter) {
            storageOk = false;
            // Like the real agent: a lapsed host lease protects none of its VMs, HA or not.
            Set<String> destroyed = destroyDomains(vm -> true);
            return "self-fenced: no storage heartbeat written for " + now.millisSince(lastStorageWriteNanos)
                    + " ms; destroyed domains " + destroyed;
        }
        if (!network && storage && !isolationApplied
                && now.millisSince(lastControllerNanos) > policy.failureTimeoutSeconds() * 1000L) {
            isolationApplied = true;
            IsolationResponse r = policy.isolationResponse();
            if (r == IsolationResponse.NONE) return "isolated: isolation response none, VMs keep running";
            Set<String> stopped = destroyDomains(haEnabled);
            return "isolated: isolation response " + r.wireName() + ", stopped HA domains " + stopped;
        }
        return null;
    }

    private Set<String> destroyDomains(Predicate<String> which) {
        Set<String> gone = new java.util.TreeSet<>();
        domains.keySet().removeIf(vm -> which.test(vm) && gone.add(vm));
        return gone;
    }

    void beginShutdown(Now now) {
        shuttingDown = true;
        shutdownSinceNanos = now.monotonicNanos();
    }

    /** The clean shutdown completes: remaining domains are shut down, the host powers off. Says what was left. */
    String shutDown() {
        String left = domains.isEmpty() ? "" : "; it shut down the domains still running: " + domains.keySet();
        fail();
        shuttingDown = false;
        return left;
    }

    /** The host dies: no heartbeats of any kind, its domains are gone. */
    void fail() {
        alive = false;
        network = false;
        domains.clear();
    }

    /**
     * Powers back on, reconnects, storage returns: with a new generation if its lease lapsed meanwhile (it cannot
     * know whether its VMs were taken), else the same one. A host that was down comes back without domains.
     */
    void recover(Now now, ClusterPolicy policy) {
        if (now.millisSince(lastStorageWriteNanos) >= policy.leaseTimeoutSeconds() * 1000L) {
            generation++;
        }
        if (!alive) domains.clear();
        alive = true;
        network = true;
        storage = true;
        storageOk = true;
        isolationApplied = false;
        lastStorageWriteNanos = now.monotonicNanos();
        lastControllerNanos = now.monotonicNanos();
    }
}
