package io.vigil.controller.ha;

import io.vigil.protocol.AgentCommand;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * The working copy for one {@link HaCore#step}: private copies of the state's maps that the rules update, and the
 * commands they emit, in order. The state handed in is never touched; {@link #finish()} freezes the copies into
 * the next {@link ClusterState}. Keeping the mutation inside one call is what lets the rules read like plain code
 * while the core stays a function.
 */
final class Round {
    final Now now;
    ClusterPolicy policy;
    final Map<String, VmSpec> specs;
    final Map<String, VmRecord> vms;
    final Map<String, HostRecord> hosts;
    final Map<String, StorageReading> storage;
    final Map<String, FailoverRecord> failovers;
    final Map<String, Rule> rules;
    CommandLedger ledger;
    boolean resumePending;
    /** Set when a host may have become available again: VMs with failback may return. */
    boolean hostsChanged;
    private RuleBook ruleBook;

    /** Set when memory may have been freed or a host may have appeared: VMs waiting for capacity are retried. */
    boolean capacityChanged;

    private final List<HaCommand> commands = new ArrayList<>();
    private final Map<String, PlacementRequest> placements = new TreeMap<>();

    /** A VM to place in this round's placement pass; {@code preferredHost} is tried first when it has room. */
    record PlacementRequest(String preferredHost, String reason) {}

    Round(ClusterState state, Now now) {
        this.now = now;
        this.policy = state.policy();
        this.specs = new TreeMap<>(state.specs());
        this.vms = new TreeMap<>(state.vms());
        this.hosts = new TreeMap<>(state.hosts());
        this.storage = new TreeMap<>(state.storage());
        this.failovers = new LinkedHashMap<>(state.failovers());
        this.rules = new TreeMap<>(state.ruleMap());
        this.ledger = state.ledger();
        this.resumePending = state.resumePending();
    }

    ClusterState finish() {
        return new ClusterState(policy, specs, vms, hosts, storage, failovers, rules, ledger, resumePending);
    }

    List<HaCommand> commands() {
        return List.copyOf(commands);
    }

    RuleBook ruleBook() {
        if (ruleBook == null) ruleBook = new RuleBook(rules.values());
        return ruleBook;
    }

    void replaceRules(java.util.Collection<Rule> next) {
        rules.clear();
        for (Rule rule : next) rules.put(rule.name(), rule);
        ruleBook = null;
    }

    /** The host a VM holds memory on for the rules: a move's target, else its host while it occupies it, or null. */
    String holdingHost(String vm) {
        VmRecord v = vms.get(vm);
        if (v == null) return null;
        if (v.moveTarget() != null) return v.moveTarget();
        return v.host() != null && Placement.OCCUPYING.contains(v.state()) ? v.host() : null;
    }

    VmRecord vm(String name) {
        return vms.get(name);
    }

    void put(VmRecord vm) {
        vms.put(vm.name(), vm);
    }

    HostRecord host(String name) {
        return name == null ? null : hosts.get(name);
    }

    void put(HostRecord host) {
        hosts.put(host.name(), host);
    }

    VmSpec spec(String name) {
        return specs.get(name);
    }

    long heartbeatMillis() {
        return policy.heartbeatIntervalSeconds() * 1000L;
    }

    long failureTimeoutMillis() {
        return policy.failureTimeoutSeconds() * 1000L;
    }

    void emit(HaCommand command) {
        commands.add(command);
    }

    void event(String type, String host, String vm, String cause, String message, Map<String, Object> details) {
        commands.add(new HaCommand.RecordEvent(new ClusterEvent(0, now.epochMillis(), type, host, vm, cause, message,
                details == null ? Map.of() : details)));
    }

    /** Sends a command to a host's agent and remembers it until its result or its timeout. Returns its id. */
    String send(String host, String vm, PendingCommand.Kind kind, long generation, long timeoutMillis,
            Function<String, AgentCommand> make) {
        String id = ledger.nextId();
        AgentCommand command = make.apply(id);
        ledger = ledger.withIssued(new PendingCommand(id, host, vm, kind, generation, now.monotonicNanos(),
                timeoutMillis, command));
        commands.add(new HaCommand.SendToAgent(host, command));
        return id;
    }

    /** Forgets a command in flight: its result, if it still comes, is stale and ignored. */
    void drop(String commandId) {
        if (commandId != null) ledger = ledger.without(commandId);
    }

    void requestPlacement(String vm, String preferredHost, String reason) {
        placements.put(vm, new PlacementRequest(preferredHost, reason));
    }

    Map<String, PlacementRequest> takePlacements() {
        Map<String, PlacementRequest> out = new TreeMap<>(placements);
        placements.clear();
        return out;
    }

    /** Event details without null values, in the order given: key, value, key, value... */
    static Map<String, Object> details(Object... keyValues) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (int i = 0; i + 1 < keyValues.length; i += 2)
            if (keyValues[i + 1] != null) out.put((String) keyValues[i], keyValues[i + 1]);
        return Collections.unmodifiableMap(out);
    }

    static Map<String, Object> merge(Map<String, Object> first, Map<String, Object> second) {
        Map<String, Object> out = new LinkedHashMap<>(first);
        out.putAll(second);
        return Collections.unmodifiableMap(out);
    }
}
