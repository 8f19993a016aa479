package io.vigil.controller.ha;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The placement rules indexed by VM, and what they say about putting a VM on a host given where the other VMs are
 * ({@code hostOf}: a VM's host, or null where it holds none). A strict rule forbids; a non-strict one counts as a
 * conflict that placement weighs after the VM's preferred hosts.
 */
public final class RuleBook {
    private final Map<String, List<Rule>> byVm = new HashMap<>();
    private final List<Rule> all;

    public RuleBook(Collection<Rule> rules) {
        this.all = List.copyOf(rules);
        for (Rule r : rules) for (String vm : r.vms()) byVm.computeIfAbsent(vm, k -> new ArrayList<>()).add(r);
    }

    public static RuleBook empty() {
        return new RuleBook(List.of());
    }

    public List<Rule> rules() {
        return all;
    }

    public List<Rule> of(String vm) {
        return byVm.getOrDefault(vm, List.of());
    }

    /** Why a strict rule forbids {@code vm} on {@code host}, or null when none does. */
    public String strictConflict(String vm, String host, Function<String, String> hostOf) {
        for (Rule r : of(vm)) {
            if (!r.strict()) continue;
            String why = conflict(r, vm, host, hostOf);
            if (why != null) return why;
        }
        return null;
    }

    /** How many non-strict rules {@code vm} on {@code host} would break. */
    public int softConflicts(String vm, String host, Function<String, String> hostOf) {
        int n = 0;
        for (Rule r : of(vm)) if (!r.strict() && conflict(r, vm, host, hostOf) != null) n++;
        return n;
    }

    private static String conflict(Rule r, String vm, String host, Function<String, String> hostOf) {
        if (r.type() == Rule.Type.ANTI_AFFINITY) {
            for (String other : r.vms())
                if (!other.equals(vm) && host.equals(hostOf.apply(other)))
                    return (r.strict() ? "strict " : "") + "anti-affinity rule " + r.name() + ": " + other + " runs on "
                            + host;
            return null;
        }
        boolean anyPlaced = false;
        for (String other : r.vms()) {
            if (other.equals(vm)) continue;
            String h = hostOf.apply(other);
            if (h == null) continue;
            if (h.equals(host)) return null;
            anyPlaced = true;
        }
        return anyPlaced ? (r.strict() ? "strict " : "") + "affinity rule " + r.name() + ": its other VMs run elsewhere"
                : null;
    }
}
