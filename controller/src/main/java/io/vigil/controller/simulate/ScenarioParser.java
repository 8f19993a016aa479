package io.vigil.controller.simulate;

import io.vigil.controller.ha.ClusterPolicy;
import io.vigil.controller.ha.Priority;
import io.vigil.protocol.IsolationResponse;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Reads the scenario format of {@code scripts/vigil simulate}. Strict: an unknown field or action is an error
 * naming it and its line, and so is a field or action the format defines but the HA core does not support yet.
 */
public final class ScenarioParser {
    /** The longest scenario it runs (a day of virtual time). */
    static final long MAX_UNTIL_SECONDS = 86_400;

    private static final Set<String> TOP = Set.of("policy", "hosts", "vms", "rules", "events", "until");
    private static final Set<String> POLICY = Set.of("heartbeatIntervalSeconds", "failureTimeoutSeconds",
            "leaseTimeoutSeconds", "isolationResponse");
    private static final Set<String> POLICY_LATER = Set.of("hostFailuresToTolerate", "admissionControl",
            "reservePercent", "failoverHosts", "rejoinGraceSeconds", "shutdownPolicy");
    private static final Set<String> HOST = Set.of("name", "memoryMiB", "cpus");
    private static final Set<String> VM = Set.of("name", "memoryMiB", "cpus", "host", "priority", "haEnabled");
    private static final Set<String> VM_LATER = Set.of("requestedState", "preferredHosts", "strict", "startAfter",
            "startAfterTimeoutSeconds", "maxRestarts", "maxRelocations", "failback", "cacheMode");
    /** The actions supported, each with the fields it takes besides {@code at} and {@code action}. */
    private static final Map<String, Set<String>> ACTIONS = Map.of(
            "fail-host", Set.of("host"), "isolate-host", Set.of("host"), "lose-storage", Set.of("host"),
            "recover-host", Set.of("host"), "start", Set.of("vm"), "stop", Set.of("vm"),
            "set-policy", Set.of("fields"), "fail-start", Set.of("vm", "count"));
    private static final Set<String> ACTIONS_LATER = Set.of("maintenance", "shutdown-host", "migrate", "relocate",
            "set-vm");

    private ScenarioParser() {}

    public static Scenario parse(Path file) throws ScenarioException {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new ScenarioException(0, "cannot read " + file + ": " + e.getMessage());
        }
        return parse(text);
    }

    public static Scenario parse(String text) throws ScenarioException {
        YamlNode root = YamlNode.parse(text);
        Map<String, YamlNode> top = fields(root, "the scenario", TOP, Set.of());

        ClusterPolicy policy = ClusterPolicy.DEFAULT;
        if (top.containsKey("policy")) policy = policy(top.get("policy"), policy, "policy");

        Map<String, Scenario.Host> hosts = new TreeMap<>();
        List<Scenario.Host> hostList = new ArrayList<>();
        for (YamlNode n : list(top.get("hosts"), "hosts")) {
            Map<String, YamlNode> f = fields(n, "a host", HOST, Set.of());
            String name = name(f, n, "host");
            if (hosts.containsKey(name)) throw new ScenarioException(n.line(), "host '" + name + "' is declared twice");
            Scenario.Host h = new Scenario.Host(name, positive(required(f, n, "memoryMiB"), "memoryMiB"),
                    f.containsKey("cpus") ? (int) positive(f.get("cpus"), "cpus") : 1);
            hosts.put(name, h);
            hostList.add(h);
        }
        if (hosts.isEmpty()) throw new ScenarioException(root.line(), "a scenario needs at least one host");

        Map<String, Scenario.Vm> vms = new TreeMap<>();
        List<Scenario.Vm> vmList = new ArrayList<>();
        Map<String, Long> used = new HashMap<>();
        for (YamlNode n : list(top.get("vms"), "vms")) {
            Map<String, YamlNode> f = fields(n, "a VM", VM, VM_LATER);
            String name = name(f, n, "VM");
            if (vms.containsKey(name)) throw new ScenarioException(n.line(), "VM '" + name + "' is declared twice");
            long memory = positive(required(f, n, "memoryMiB"), "memoryMiB");
            String host = f.containsKey("host") ? host(f.get("host"), hosts) : null;
            Priority priority = Priority.MEDIUM;
            if (f.containsKey("priority")) {
                YamlNode p = f.get("priority");
                String value = string(p, "priority");
                if (value.equals("disabled"))
                    throw new ScenarioException(p.line(), "priority 'disabled' is not supported yet");
                try {
                    priority = Priority.fromWire(value);
                } catch (IllegalArgumentException e) {
                    throw new ScenarioException(p.line(), e.getMessage());
                }
            }
            boolean ha = !f.containsKey("haEnabled") || bool(f.get("haEnabled"), "haEnabled");
            Scenario.Vm vm = new Scenario.Vm(name, memory, f.containsKey("cpus") ? (int) positive(f.get("cpus"),
                    "cpus") : 1, host, priority, ha);
            if (host != null) {
                long total = used.merge(host, memory, Long::sum);
                if (total > hosts.get(host).memoryMiB())
                    throw new ScenarioException(n.line(), "the VMs placed on " + host + " need " + total
                            + " MiB, it has " + hosts.get(host).memoryMiB() + " MiB");
            }
            vms.put(name, vm);
            vmList.add(vm);
        }

        YamlNode rules = top.get("rules");
        if (rules != null && !list(rules, "rules").isEmpty())
            throw new ScenarioException(rules.line(), "rules are not supported yet");

        YamlNode untilNode = top.get("until");
        if (untilNode == null) throw new ScenarioException(root.line(), "'until' (seconds to simulate) is required");
        BigDecimal until = number(untilNode, "until");
        if (until.signum() <= 0 || until.compareTo(BigDecimal.valueOf(MAX_UNTIL_SECONDS)) > 0)
            throw new ScenarioException(untilNode.line(), "until must be between 0 and " + MAX_UNTIL_SECONDS
                    + " seconds, not " + until);

        // Actions happen in time order, those at the same time in file order; a set-policy changes the policy that
        // the later ones see, so its consistency is checked here.
        record Timed(long atMillis, YamlNode node) {}
        List<Timed> timed = new ArrayList<>();
        for (YamlNode n : list(top.get("events"), "events")) {
            Map<String, YamlNode> f = map(n, "an event");
            BigDecimal at = number(required(f, n, "at"), "at");
            if (at.signum() < 0 || at.compareTo(until) > 0)
                throw new ScenarioException(f.get("at").line(), "at must be between 0 and until (" + until
                        + "), not " + at);
            timed.add(new Timed(at.movePointRight(3).longValue(), n));
        }
        timed.sort(Comparator.comparingLong(Timed::atMillis));
        List<Scenario.Action> actions = new ArrayList<>();
        ClusterPolicy current = policy;
        for (Timed t : timed) {
            Scenario.Action a = action(t.node(), t.atMillis(), hosts, vms, current);
            if (a.policy() != null) current = a.policy();
            actions.add(a);
        }
        return new Scenario(policy, List.copyOf(hostList), List.copyOf(vmList), List.copyOf(actions), until);
    }

    private static Scenario.Action action(YamlNode n, long atMillis, Map<String, Scenario.Host> hosts,
            Map<String, Scenario.Vm> vms, ClusterPolicy current) throws ScenarioException {
        Map<String, YamlNode> f = map(n, "an event");
        String action = string(required(f, n, "action"), "action");
        int line = f.get("action").line();
        if (ACTIONS_LATER.contains(action))
            throw new ScenarioException(line, "action " + action + " is not supported yet");
        Set<String> takes = ACTIONS.get(action);
        if (takes == null)
            throw new ScenarioException(line, "unknown action '" + action + "' (known: "
                    + String.join(", ", new TreeMap<>(ACTIONS).keySet()) + ")");
        Set<String> known = new LinkedHashSet<>(List.of("at", "action"));
        known.addAll(takes);
        fields(n, "a " + action + " event", known, Set.of());
        for (String field : takes) required(f, n, field);
        String host = f.containsKey("host") ? host(f.get("host"), hosts) : null;
        String vm = null;
        if (f.containsKey("vm")) {
            vm = string(f.get("vm"), "vm");
            if (!vms.containsKey(vm)) throw new ScenarioException(f.get("vm").line(), "unknown VM '" + vm + "'");
        }
        int count = f.containsKey("count") ? (int) positive(f.get("count"), "count") : 0;
        ClusterPolicy policy = f.containsKey("fields") ? policy(f.get("fields"), current, "set-policy fields") : null;
        return new Scenario.Action(atMillis, action, host, vm, count, policy, n.line());
    }

    private static ClusterPolicy policy(YamlNode n, ClusterPolicy base, String what) throws ScenarioException {
        Map<String, YamlNode> f = fields(n, what, POLICY, POLICY_LATER);
        int heartbeat = f.containsKey("heartbeatIntervalSeconds")
                ? (int) positive(f.get("heartbeatIntervalSeconds"), "heartbeatIntervalSeconds")
                : base.heartbeatIntervalSeconds();
        int failure = f.containsKey("failureTimeoutSeconds")
                ? (int) positive(f.get("failureTimeoutSeconds"), "failureTimeoutSeconds")
                : base.failureTimeoutSeconds();
        int lease = f.containsKey("leaseTimeoutSeconds")
                ? (int) positive(f.get("leaseTimeoutSeconds"), "leaseTimeoutSeconds")
                : base.leaseTimeoutSeconds();
        IsolationResponse isolation = base.isolationResponse();
        if (f.containsKey("isolationResponse")) {
            YamlNode i = f.get("isolationResponse");
            try {
                isolation = IsolationResponse.fromWire(string(i, "isolationResponse"));
            } catch (IllegalArgumentException e) {
                throw new ScenarioException(i.line(), e.getMessage());
            }
        }
        try {
            return base.withTiming(heartbeat, failure, lease, isolation);
        } catch (IllegalArgumentException e) {
            throw new ScenarioException(n.line(), what + ": " + e.getMessage());
        }
    }

    // ---- typed access, each error naming the line --------------------------------------------------------------

    @SuppressWarnings("unchecked")
    private static Map<String, YamlNode> map(YamlNode n, String what) throws ScenarioException {
        if (!(n.value() instanceof Map)) throw new ScenarioException(n.line(), what + " must be a mapping");
        return (Map<String, YamlNode>) n.value();
    }

    /** The fields of a mapping, refusing unknown ones and those not supported yet. */
    private static Map<String, YamlNode> fields(YamlNode n, String what, Set<String> known, Set<String> later)
            throws ScenarioException {
        Map<String, YamlNode> f = map(n, what);
        for (Map.Entry<String, YamlNode> e : f.entrySet()) {
            if (known.contains(e.getKey())) continue;
            if (later.contains(e.getKey()))
                throw new ScenarioException(e.getValue().line(), "field '" + e.getKey() + "' of " + what
                        + " is not supported yet");
            throw new ScenarioException(e.getValue().line(), "unknown field '" + e.getKey() + "' in " + what
                    + " (known: " + String.join(", ", new java.util.TreeSet<>(known)) + ")");
        }
        return f;
    }

    @SuppressWarnings("unchecked")
    private static List<YamlNode> list(YamlNode n, String what) throws ScenarioException {
        if (n == null || n.value() == null) return List.of();
        if (!(n.value() instanceof List)) throw new ScenarioException(n.line(), what + " must be a list");
        return (List<YamlNode>) n.value();
    }

    private static YamlNode required(Map<String, YamlNode> f, YamlNode owner, String field) throws ScenarioException {
        YamlNode v = f.get(field);
        if (v == null || v.value() == null) throw new ScenarioException(owner.line(), "'" + field + "' is required");
        return v;
    }

    private static String name(Map<String, YamlNode> f, YamlNode owner, String what) throws ScenarioException {
        String name = string(required(f, owner, "name"), "name");
        if (!name.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,62}"))
            throw new ScenarioException(f.get("name").line(), what + " name '" + name
                    + "' must be letters, digits, '.', '_' or '-' (at most 63)");
        return name;
    }

    private static String host(YamlNode n, Map<String, Scenario.Host> hosts) throws ScenarioException {
        String host = string(n, "host");
        if (!hosts.containsKey(host)) throw new ScenarioException(n.line(), "unknown host '" + host + "'");
        return host;
    }

    private static String string(YamlNode n, String field) throws ScenarioException {
        if (!(n.value() instanceof String s)) throw new ScenarioException(n.line(), field + " must be a string");
        return s;
    }

    private static boolean bool(YamlNode n, String field) throws ScenarioException {
        if (!(n.value() instanceof Boolean b)) throw new ScenarioException(n.line(), field + " must be true or false");
        return b;
    }

    private static BigDecimal number(YamlNode n, String field) throws ScenarioException {
        if (!(n.value() instanceof Number num)) throw new ScenarioException(n.line(), field + " must be a number");
        return new BigDecimal(num.toString());
    }

    private static long positive(YamlNode n, String field) throws ScenarioException {
        if (!(n.value() instanceof Integer || n.value() instanceof Long) || ((Number) n.value()).longValue() <= 0)
            throw new ScenarioException(n.line(), field + " must be a positive whole number");
        long v = ((Number) n.value()).longValue();
        if (v > Integer.MAX_VALUE) throw new ScenarioException(n.line(), field + " is too large");
        return v;
    }
}
