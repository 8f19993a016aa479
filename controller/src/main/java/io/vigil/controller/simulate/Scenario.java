package io.vigil.controller.simulate;

import io.vigil.controller.ha.ClusterPolicy;
import io.vigil.controller.ha.Rule;
import io.vigil.controller.ha.VmSpec;
import java.math.BigDecimal;
import java.util.List;
import java.util.Map;

/**
 * A parsed, validated scenario: the initial policy, hosts, VMs and rules, the timed actions in the order they
 * happen, and when the simulation ends. Built by {@link ScenarioParser}.
 */
public record Scenario(ClusterPolicy policy, List<Host> hosts, List<Vm> vms, List<Rule> rules, List<Action> actions,
        BigDecimal until) {

    /** {@code online} false: declared but powered off at the start (a recover-host brings it in). */
    public record Host(String name, long memoryMiB, int cpus, boolean online) {}

    /** {@code host} null: not running at the start; the core places it if it is requested started. */
    public record Vm(VmSpec spec, String host) {
        public String name() {
            return spec.name();
        }
    }

    /**
     * One timed action. Only the fields the action takes are set: {@code host}, {@code vm}, {@code to},
     * {@code count}, {@code enabled}, {@code override}; {@code policy} is the whole policy after a set-policy;
     * {@code vmFields} the VM fields a set-vm changes (validated against the VM then).
     */
    public record Action(long atMillis, String action, String host, String vm, String to, int count, Boolean enabled,
            boolean override, ClusterPolicy policy, Map<String, Object> vmFields, String text, int line) {

        /** How the action reads in the event log. */
        String describe() {
            return text;
        }
    }

    public long untilMillis() {
        return until.movePointRight(3).longValue();
    }
}
