package io.vigil.controller.ha;

import io.vigil.protocol.memory.RecoveryReport;
import io.vigil.protocol.HostInventory;
import io.vigil.protocol.VmPowerState;
import java.util.List;
import java.util.Map;

/** Everything the core reacts to. The shell produces these from agent messages, storage reads, the store and a timer. */
public sealed interface HaInput {

    /** An agent said Hello. */
    record AgentConnected(String host, long hostGeneration, HostInventory inventory, boolean storageOk) implements HaInput {}

    /** A network heartbeat with the host's full inventory. */
    record AgentHeartbeat(String host, long hostGeneration, HostInventory inventory, boolean storageOk) implements HaInput {}

    /** The agent's connection closed. Not a failure by itself: heartbeat timeouts decide. */
    record AgentDisconnected(String host) implements HaInput {}

    /**
     * A libvirt lifecycle event the host's agent forwarded: libvirt's {@code event} and {@code detail} (may be null)
     * and the power state after it. {@code repeated}: how many events the shell folded since the last one it passed on
     * for this VM and host, identical to that one ({@code io.vigil.controller.runtime.LifecycleCoalescing}).
     */
    record VmLifecycleObserved(String host, String vm, String event, String detail, VmPowerState state, int repeated)
            implements HaInput {

        public VmLifecycleObserved(String host, String vm, String event, String detail, VmPowerState state) {
            this(host, vm, event, detail, state, 0);
        }

        public VmLifecycleObserved(String host, String vm, String event, VmPowerState state) {
            this(host, vm, event, null, state);
        }

        /** This event, carrying {@code n} folded repeats of the one before it. */
        public VmLifecycleObserved withRepeated(int n) {
            return new VmLifecycleObserved(host, vm, event, detail, state, n);
        }
    }

    /**
     * {@code detail} (may be null): how a successful command was carried out (e.g. a restore fell back to a cold
     * start); {@code recovery} (may be null): what a start recovered of a failed host's dirty cache blocks.
     */
    record CommandCompleted(String host, String commandId, String vm, boolean ok, String error, long leaseGeneration,
            String detail, RecoveryReport recovery) implements HaInput {

        public CommandCompleted(String host, String commandId, String vm, boolean ok, String error, long leaseGeneration,
                String detail) {
            this(host, commandId, vm, ok, error, leaseGeneration, detail, null);
        }

        public CommandCompleted(String host, String commandId, String vm, boolean ok, String error, long leaseGeneration) {
            this(host, commandId, vm, ok, error, leaseGeneration, null);
        }
    }

    /**
     * The shell's latest reading of every host heartbeat on shared storage (indirect monitoring), measured with the
     * controller's monotonic clock: for each host, how long its heartbeat has been unchanged and whether its lease
     * has expired (unchanged for the lease timeout the host wrote).
     */
    record StorageObserved(Map<String, StorageView> hosts) implements HaInput {}

    record StorageView(long generation, long unchangedForMillis, boolean leaseExpired) {}

    /** Periodic: lets timeouts fire. */
    record Tick() implements HaInput {}

    /** A VM's spec was created or changed (desired state, HA settings). */
    record VmSpecChanged(VmSpec spec) implements HaInput {}

    record PolicyChanged(ClusterPolicy policy) implements HaInput {}

    /** The placement rules changed: {@code rules} is the whole new set. */
    record RulesChanged(List<Rule> rules) implements HaInput {}

    /** The operator put a host into maintenance ({@code enabled}) or took it out. */
    record MaintenanceRequested(String host, boolean enabled) implements HaInput {}

    /** The operator asked to move a running VM to {@code target}: migrate (saved and restored) or relocate (restarted). */
    record MoveRequested(String vm, String target, MoveKind kind) implements HaInput {}

    /** The host's agent says the host is shutting down cleanly: the shutdown policy applies to its VMs. */
    record HostShuttingDown(String host, String reason) implements HaInput {}
}
