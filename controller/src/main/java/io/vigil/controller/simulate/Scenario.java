package io.vigil.controller.simulate;

import io.vigil.controller.ha.ClusterPolicy;
import io.vigil.controller.ha.Priority;
import java.math.BigDecimal;
import java.util.List;

/**
 * A parsed, validated scenario: the initial policy, hosts and VMs, the timed actions in the order they happen, and
 * when the simulation ends. Built by {@link ScenarioParser}.
 */
public record Scenario(ClusterPolicy policy, List<Host> hosts, List<Vm> vms, List<Action> actions, BigDecimal until) {

    public record Host(String name, long memoryMiB, int cpus) {}

    /** {@code host} null: the core places it at the start. */
    public record Vm(String name, long memoryMiB, int cpus, String host, Priority priority, boolean haEnabled) {}

    /**
     * One timed action. {@code host}, {@code vm}, {@code count} and {@code policy} are set for the actions that
     * take them; {@code policy} is the whole policy after a set-policy.
     */
    public record Action(long atMillis, String action, String host, String vm, int count, ClusterPolicy policy,
            int line) {

        /** How the action reads in the event log. */
        String describe() {
            return switch (action) {
                case "set-policy" -> "set-policy heartbeatIntervalSeconds " + policy.heartbeatIntervalSeconds()
                        + ", failureTimeoutSeconds " + policy.failureTimeoutSeconds() + ", leaseTimeoutSeconds "
                        + policy.leaseTimeoutSeconds() + ", isolationResponse " + policy.isolationResponse().wireName();
                case "fail-start" -> "fail-start " + vm + " count " + count;
                default -> action + " " + (host != null ? host : vm);
            };
        }
    }

    public long untilMillis() {
        return until.movePointRight(3).longValue();
    }
}
