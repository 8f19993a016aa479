package io.vigil.controller.simulate;

import io.vigil.protocol.CacheMode;
import io.vigil.controller.ha.AdmissionControl;
import io.vigil.controller.ha.ClusterPolicy;
import io.vigil.controller.ha.HostPreference;
import io.vigil.controller.ha.Priority;
import io.vigil.controller.ha.RequestedState;
import io.vigil.controller.ha.Rule;
import io.vigil.controller.ha.ShutdownPolicy;
import io.vigil.controller.ha.VmSpec;
import io.vigil.protocol.IsolationResponse;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Reads the scenario format of {@code scripts/vigil simulate}. Strict: an unknown field or action, a value of the
 * wrong type or out of range, or a name that refers to nothing is an error naming it and its line. Field names are
 * those of the REST API.
 */
public final class ScenarioParser {
    /** The longest scenario it runs (a day of virtual time). */
    static final long MAX_UNTIL_SECONDS = 86_400;

    private static final Set<String> TOP = Set.of("policy", "hosts", "vms", "rules", "events", "until");
    static final Set<String> POLICY = Set.of("heartbeatIntervalSeconds", "failureTimeoutSeconds",
            "leaseTimeoutSeconds", "isolationResponse", "hostFailuresToTolerate", "admissionControl", "reservePercent",
            "failoverHosts", "rejoinGraceSeconds", "shutdownPolicy");
    private static final Set<String> HOST = Set.of("name", "memoryMiB", "cpus", "online");
    /** VM fields a set-vm may change (the REST API's writable VM fields). */
    static final Set<String> VM_SETTINGS = Set.of("haEnabled", "priority", "requestedState", "preferredHosts", "strict",
            "startAfter", "startAfterTimeoutSeconds", "maxRestarts", "maxRelocations", "failback", "cacheMode",
            "cacheWeight");
    private static final Set<String> VM;
    static {
        Set<String> vm = new TreeSet<>(VM_SETTINGS);
        vm.addAll(List.of("name", "memoryMiB", "cpus", "host"));
        VM = Set.copyOf(vm);
    }
    private static final Set<String> RULE = Set.of("name", "type", "vms", "strict");
    /** The actions, each with the fields it requires and those it may take, besides {@code at} and {@code action}. */
    private static final Map<String, Set<String>> REQUIRED = new TreeMap<>(Map.ofEntries(
            Map.entry("fail-host", Set.of("host")), Map.entry("isolate-host", Set.of("host")),
            Map.entry("lose-storage", Set.of("host")), Map.entry("recover-host", Set.of("host")),
            Map.entry("maintenance", Set.of("host", "enabled")), Map.entry("shutdown-host", Set.of("host")),
            Map.entry("migrate", Set.of("vm", "to")), Map.entry("relocate", Set.of("vm", "to")),
            Map.entry("start", Set.of("vm")), Map.entry("stop", Set.of("vm")),
            Map.entry("set-vm", Set.of("vm", "fields")), Map.entry("set-policy", Set.of("fields")),
            Map.entry("fail-start", Set.of("vm", "count")), Map.entry("restart-controller", Set.of())));
    private static final Map<String, Set<String>> OPTIONAL = Map.of("start", Set.of("override"),
            "set-vm", Set.of("override"));

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
        Map<String, YamlNode> top = fields(root, "the scenario", TOP);

        Map<String, Scenario.Host> hosts = new TreeMap<>();
        List<Scenario.Host> hostList = new ArrayList<>();
        for (YamlNode n : list(top.get("hosts"), "hosts")) {
            Map<String, YamlNode> f = fields(n, "a host", HOST);
            String name = name(f, n, "host");
            if (hosts.containsKey(name)) throw new ScenarioException(n.line(), "host '" + name + "' is declared twice");
            Scenario.Host h = new Scenario.Host(name, positive(required(f, n, "memoryMiB"), "memoryMiB"),
                    f.containsKey("cpus") ? (int) positive(f.get("cpus"), "cpus") : 1,
                    !f.containsKey("online") || bool(f.get("online"), "online"));
            hosts.put(name, h);
            hostList.add(h);
        }
        if (hosts.isEmpty()) throw new ScenarioException(root.line(), "a scenario needs at least one host");

        ClusterPolicy policy = ClusterPolicy.DEFAULT;
        if (top.containsKey("policy")) policy = policy(top.get("policy"), policy, "policy", hosts);

        // VMs: first the names (startAfter may name a VM declared later), then each VM.
        List<YamlNode> vmNodes = list(top.get("vms"), "vms");
        Set<String> vmNames = new LinkedHashSet<>();
        for (YamlNode n : vmNodes) {
            String name = name(fields(n, "a VM", VM), n, "VM");
            if (!vmNames.add(name)) throw new ScenarioException(n.line(), "VM '" + name + "' is declared twice");
        }
        Map<String, Scenario.Vm> vms = new TreeMap<>();
        List<Scenario.Vm> vmList = new ArrayList<>();
        Map<String, Long> used = new HashMap<>();
        for (YamlNode n : vmNodes) {
            Map<String, YamlNode> f = fields(n, "a VM", VM);
            String name = name(f, n, "VM");
            long memory = positive(required(f, n, "memoryMiB"), "memoryMiB");
            int cpus = f.containsKey("cpus") ? (int) positive(f.get("cpus"), "cpus") : 1;
            String host = f.containsKey("host") ? host(f.get("host"), hosts) : null;
            VmSpec base = new VmSpec(name, Simulator.domainXml(name, memory, cpus), memory, cpus, true, Priority.MEDIUM,
                    RequestedState.STARTED, 0);
            Map<String, YamlNode> settings = new LinkedHashMap<>(f);
            settings.keySet().retainAll(VM_SETTINGS);
            VmSpec spec = vmSettings(base, settings, n, hosts.keySet(), vmNames);
            if (host != null) {
                if (spec.requestedState() != RequestedState.STARTED && spec.requestedState() != RequestedState.IGNORED)
                    throw new ScenarioException(f.get("host").line(), "VM '" + name + "' runs on " + host
                            + " at the start but its requestedState is " + spec.requestedState().wireName());
                if (!hosts.get(host).online())
                    throw new ScenarioException(f.get("host").line(), "VM '" + name + "' runs on " + host
                            + " at the start but that host is not online");
                long total = used.merge(host, memory, Long::sum);
                if (total > hosts.get(host).memoryMiB())
                    throw new ScenarioException(n.line(), "the VMs placed on " + host + " need " + total
                            + " MiB, it has " + hosts.get(host).memoryMiB() + " MiB");
            }
            Scenario.Vm vm = new Scenario.Vm(spec, host);
            vms.put(name, vm);
            vmList.add(vm);
        }

        List<Rule> rules = new ArrayList<>();
        Set<String> ruleNames = new TreeSet<>();
        for (YamlNode n : list(top.get("rules"), "rules")) {
            Map<String, YamlNode> f = fields(n, "a rule", RULE);
            String name = string(required(f, n, "name"), "name");
            if (!ruleNames.add(name)) throw new ScenarioException(n.line(), "rule '" + name + "' is declared twice");
            List<String> members = new ArrayList<>();
            for (YamlNode m : list(required(f, n, "vms"), "vms")) members.add(vmName(m, vms.keySet()));
            try {
                rules.add(new Rule(name, Rule.Type.fromWire(string(required(f, n, "type"), "type")), members,
                        f.containsKey("strict") && bool(f.get("strict"), "strict")));
            } catch (IllegalArgumentException e) {
                throw new ScenarioException(n.line(), "rule '" + name + "': " + e.getMessage());
            }
        }

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
            Scenario.Action a = action(t.node(), t.atMillis(), hosts, vms, vmNames, current);
            if (a.policy() != null) current = a.policy();
            actions.add(a);
        }
        return new Scenario(policy, List.copyOf(hostList), List.copyOf(vmList), List.copyOf(rules),
                List.copyOf(actions), until);
    }

    private static Scenario.Action action(YamlNode n, long atMillis, Map<String, Scenario.Host> hosts,
            Map<String, Scenario.Vm> vms, Set<String> vmNames, ClusterPolicy current) throws ScenarioException {
        Map<String, YamlNode> f = map(n, "an event");
        String action = string(required(f, n, "action"), "action");
        int line = f.get("action").line();
        Set<String> takes = REQUIRED.get(action);
        if (takes == null)
            throw new ScenarioException(line, "unknown action '" + action + "' (known: "
                    + String.join(", ", REQUIRED.keySet()) + ")");
        Set<String> known = new LinkedHashSet<>(List.of("at", "action"));
        known.addAll(takes);
        known.addAll(OPTIONAL.getOrDefault(action, Set.of()));
        fields(n, "a " + action + " event", known);
        for (String field : takes) required(f, n, field);
        String host = f.containsKey("host") ? host(f.get("host"), hosts) : null;
        String to = f.containsKey("to") ? host(f.get("to"), hosts) : null;
        String vm = f.containsKey("vm") ? vmName(f.get("vm"), vms.keySet()) : null;
        int count = f.containsKey("count") ? (int) positive(f.get("count"), "count") : 0;
        Boolean enabled = f.containsKey("enabled") ? bool(f.get("enabled"), "enabled") : null;
        boolean override = f.containsKey("override") && bool(f.get("override"), "override");
        ClusterPolicy policy = null;
        Map<String, Object> vmFields = null;
        String text = action + (host != null ? " " + host : "") + (vm != null ? " " + vm : "")
                + (to != null ? " to " + to : "") + (enabled != null ? " enabled " + enabled : "")
                + (count > 0 ? " count " + count : "") + (override ? " override" : "");
        if (action.equals("set-policy")) {
            policy = policy(f.get("fields"), current, "set-policy fields", hosts);
            text += " " + yamlText(f.get("fields"));
        } else if (action.equals("set-vm")) {
            Map<String, YamlNode> settings = fields(f.get("fields"), "set-vm fields", VM_SETTINGS);
            // Checked against the VM as declared; the simulator checks again against the VM as it is then.
            vmSettings(vms.get(vm).spec(), settings, f.get("fields"), hosts.keySet(), vmNames);
            vmFields = new LinkedHashMap<>();
            for (Map.Entry<String, YamlNode> e : settings.entrySet()) vmFields.put(e.getKey(), e.getValue());
            text += " " + yamlText(f.get("fields"));
        }
        return new Scenario.Action(atMillis, action, host, vm, to, count, enabled, override, policy, vmFields, text,
                n.line());
    }

    private static String yamlText(YamlNode n) {
        Object v = n.value();
        if (v instanceof Map<?, ?> m) {
            List<String> parts = new ArrayList<>();
            for (Map.Entry<?, ?> e : m.entrySet()) parts.add(e.getKey() + ": " + yamlText((YamlNode) e.getValue()));
            return "{" + String.join(", ", parts) + "}";
        }
        if (v instanceof List<?> l) {
            List<String> parts = new ArrayList<>();
            for (Object o : l) parts.add(yamlText((YamlNode) o));
            return "[" + String.join(", ", parts) + "]";
        }
        return String.valueOf(v);
    }

    /** {@code base} with the cluster policy fields of {@code n} applied, checked as a whole. */
    static ClusterPolicy policy(YamlNode n, ClusterPolicy base, String what, Map<String, Scenario.Host> hosts)
            throws ScenarioException {
        Map<String, YamlNode> f = fields(n, what, POLICY);
        int heartbeat = intField(f, "heartbeatIntervalSeconds", base.heartbeatIntervalSeconds(), 1);
        int failure = intField(f, "failureTimeoutSeconds", base.failureTimeoutSeconds(), 1);
        int lease = intField(f, "leaseTimeoutSeconds", base.leaseTimeoutSeconds(), 1);
        int failures = intField(f, "hostFailuresToTolerate", base.hostFailuresToTolerate(), 0);
        int percent = intField(f, "reservePercent", base.reservePercent(), 0);
        int grace = intField(f, "rejoinGraceSeconds", base.rejoinGraceSeconds(), 0);
        IsolationResponse isolation = f.containsKey("isolationResponse")
                ? wire(f.get("isolationResponse"), "isolationResponse", IsolationResponse::fromWire)
                : base.isolationResponse();
        AdmissionControl admission = f.containsKey("admissionControl")
                ? wire(f.get("admissionControl"), "admissionControl", AdmissionControl::fromWire)
                : base.admissionControl();
        ShutdownPolicy shutdown = f.containsKey("shutdownPolicy")
                ? wire(f.get("shutdownPolicy"), "shutdownPolicy", ShutdownPolicy::fromWire)
                : base.shutdownPolicy();
        List<String> failoverHosts = base.failoverHosts();
        if (f.containsKey("failoverHosts")) {
            failoverHosts = new ArrayList<>();
            for (YamlNode h : list(f.get("failoverHosts"), "failoverHosts")) failoverHosts.add(host(h, hosts));
        }
        try {
            return new ClusterPolicy(heartbeat, failure, lease, isolation, failures, admission, percent, failoverHosts,
                    grace, shutdown);
        } catch (IllegalArgumentException e) {
            throw new ScenarioException(n.line(), what + ": " + e.getMessage());
        }
    }

    /** {@code base} with the VM settings {@code f} applied (the names of the REST API), checked as a whole. */
    static VmSpec vmSettings(VmSpec base, Map<String, YamlNode> f, YamlNode owner, Set<String> hosts,
            Set<String> vms) throws ScenarioException {
        VmSpec s = base;
        try {
            boolean ha = f.containsKey("haEnabled") ? bool(f.get("haEnabled"), "haEnabled") : s.haEnabled();
            Priority priority = f.containsKey("priority") ? wire(f.get("priority"), "priority", Priority::fromWire)
                    : s.priority();
            RequestedState requested = s.requestedState();
            if (f.containsKey("requestedState")) {
                requested = wire(f.get("requestedState"), "requestedState", RequestedState::fromWire);
                if (requested == RequestedState.DELETED)
                    throw new ScenarioException(f.get("requestedState").line(),
                            "requestedState must be one of started, stopped, disabled, ignored, not 'deleted'");
            }
            List<HostPreference> preferred = s.preferredHosts();
            if (f.containsKey("preferredHosts")) {
                preferred = new ArrayList<>();
                for (YamlNode p : list(f.get("preferredHosts"), "preferredHosts")) {
                    Map<String, YamlNode> pf = fields(p, "a preferred host", Set.of("host", "priority"));
                    String h = string(required(pf, p, "host"), "host");
                    if (!hosts.contains(h)) throw new ScenarioException(pf.get("host").line(), "unknown host '" + h + "'");
                    preferred.add(new HostPreference(h, pf.containsKey("priority")
                            ? (int) whole(pf.get("priority"), "priority") : 0));
                }
            }
            boolean strict = f.containsKey("strict") ? bool(f.get("strict"), "strict") : s.strict();
            List<String> startAfter = s.startAfter();
            if (f.containsKey("startAfter")) {
                startAfter = new ArrayList<>();
                for (YamlNode v : list(f.get("startAfter"), "startAfter")) startAfter.add(vmName(v, vms));
            }
            int timeout = intField(f, "startAfterTimeoutSeconds", s.startAfterTimeoutSeconds(), 0);
            int restarts = intField(f, "maxRestarts", s.maxRestarts(), 0);
            int relocations = intField(f, "maxRelocations", s.maxRelocations(), 0);
            boolean failback = f.containsKey("failback") ? bool(f.get("failback"), "failback") : s.failback();
            CacheMode cache = f.containsKey("cacheMode") ? wire(f.get("cacheMode"), "cacheMode", CacheMode::fromWire)
                    : s.cacheMode();
            int cacheWeight = intField(f, "cacheWeight", s.cacheWeight(), 0);
            if (f.containsKey("cacheWeight") && whole(f.get("cacheWeight"), "cacheWeight") > VmSpec.MAX_CACHE_WEIGHT)
                throw new ScenarioException(f.get("cacheWeight").line(), "cacheWeight must be between 0 and "
                        + VmSpec.MAX_CACHE_WEIGHT + " (0: no cache memory)");
            return new VmSpec(s.name(), s.domainXml(), s.memoryMiB(), s.vcpus(), ha, priority, requested,
                    s.createdAtMillis(), preferred, strict, startAfter, timeout, restarts, relocations, failback, cache,
                    cacheWeight);
        } catch (IllegalArgumentException e) {
            throw new ScenarioException(owner.line(), "VM '" + base.name() + "': " + e.getMessage());
        }
    }

    // ---- typed access, each error naming the line --------------------------------------------------------------

    private interface Wire<T> {
        T parse(String value);
    }

    private static <T> T wire(YamlNode n, String field, Wire<T> parse) throws ScenarioException {
        try {
            // YAML 1.1 reads an unquoted off/on as a boolean: admissionControl: off means "off".
            if (n.value() instanceof Boolean b) return parse.parse(b ? "on" : "off");
            return parse.parse(string(n, field));
        } catch (IllegalArgumentException e) {
            throw new ScenarioException(n.line(), e.getMessage());
        }
    }

    private static int intField(Map<String, YamlNode> f, String field, int base, int min) throws ScenarioException {
        if (!f.containsKey(field)) return base;
        long v = whole(f.get(field), field);
        if (v < min) throw new ScenarioException(f.get(field).line(), field + " must be at least " + min);
        return (int) v;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, YamlNode> map(YamlNode n, String what) throws ScenarioException {
        if (!(n.value() instanceof Map)) throw new ScenarioException(n.line(), what + " must be a mapping");
        return (Map<String, YamlNode>) n.value();
    }

    /** The fields of a mapping, refusing unknown ones. */
    private static Map<String, YamlNode> fields(YamlNode n, String what, Set<String> known) throws ScenarioException {
        Map<String, YamlNode> f = map(n, what);
        for (Map.Entry<String, YamlNode> e : f.entrySet())
            if (!known.contains(e.getKey()))
                throw new ScenarioException(e.getValue().line(), "unknown field '" + e.getKey() + "' in " + what
                        + " (known: " + String.join(", ", new TreeSet<>(known)) + ")");
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

    private static String vmName(YamlNode n, Set<String> vms) throws ScenarioException {
        String vm = string(n, "vm");
        if (!vms.contains(vm)) throw new ScenarioException(n.line(), "unknown VM '" + vm + "'");
        return vm;
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

    private static long whole(YamlNode n, String field) throws ScenarioException {
        if (!(n.value() instanceof Integer || n.value() instanceof Long))
            throw new ScenarioException(n.line(), field + " must be a whole number");
        long v = ((Number) n.value()).longValue();
        if (Math.abs(v) > Integer.MAX_VALUE) throw new ScenarioException(n.line(), field + " is too large");
        return v;
    }

    private static long positive(YamlNode n, String field) throws ScenarioException {
        long v = whole(n, field);
        if (v <= 0) throw new ScenarioException(n.line(), field + " must be a positive whole number");
        return v;
    }
}
