package io.vigil.controller.ha;

import io.vigil.protocol.HostInventory;
import io.vigil.protocol.VmPowerState;
import java.util.Map;

/** Everything the core reacts to. The shell produces these from agent messages, storage reads, the store and a timer. */
public sealed interface HaInput {

    /** An agent said Hello. */
    record AgentConnected(String host, long hostGeneration, HostInventory inventory, boolean storageOk) implements HaInput {}

    /** A network heartbeat with the host's full inventory. */
    record AgentHeartbeat(String host, long hostGeneration, HostInventory inventory, boolean storageOk) implements HaInput {}

    /** The agent's connection closed. Not a failure by itself: heartbeat timeouts decide. */
    record AgentDisconnected(String host) implements HaInput {}

    record VmLifecycleObserved(String host, String vm, String event, VmPowerState state) implements HaInput {}

    record CommandCompleted(String host, String commandId, String vm, boolean ok, String error, long leaseGeneration)
            implements HaInput {}

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
}
