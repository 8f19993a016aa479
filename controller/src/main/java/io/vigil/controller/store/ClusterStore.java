package io.vigil.controller.store;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.MemberAttributeConfig;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.HazelcastJsonValue;
import com.hazelcast.cluster.Member;
import com.hazelcast.map.IMap;
import com.hazelcast.map.listener.EntryAddedListener;
import com.hazelcast.map.listener.EntryRemovedListener;
import com.hazelcast.map.listener.EntryUpdatedListener;
import com.hazelcast.query.Predicate;
import com.hazelcast.query.Predicates;
import io.vigil.controller.config.ControllerConfig;
import io.vigil.controller.ha.ClusterEvent;
import io.vigil.controller.ha.ClusterPolicy;
import io.vigil.controller.ha.HostStatus;
import io.vigil.controller.ha.Rule;
import io.vigil.controller.ha.VmSpec;
import io.vigil.controller.ha.VmStatus;
import io.vigil.protocol.Json;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cluster state as Hazelcast maps on an embedded member: VM specs (requested state and HA settings, written by
 * the REST API), VM and host statuses (written by the leader's HA loop after every step), the policy, the placement
 * rules, the operator's maintenance requests, and the event log.
 *
 * <p>Values are stored as JSON ({@link HazelcastJsonValue}, mapped with the protocol's one mapper) so that every
 * member reads them without shared classes or custom serializers, and so that the event log can be queried with
 * predicates on its fields. Nothing here uses a Hazelcast lock or CP structure: the community edition has no
 * linearizable primitives, and safety lives at the storage lease anyway. Writes that must not clobber a concurrent
 * writer use the map's own compare-and-set ({@code putIfAbsent}, {@code replace(key, old, new)}).
 */
public final class ClusterStore implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ClusterStore.class);
    /** Member attribute holding the URL agents dial to reach this controller. */
    public static final String AGENT_URL_ATTRIBUTE = "vigil.agentUrl";
    public static final String CONTROLLER_NAME_ATTRIBUTE = "vigil.name";
    private static final String POLICY_KEY = "current";

    private final HazelcastInstance hz;
    private final IMap<String, HazelcastJsonValue> specs;
    private final IMap<String, HazelcastJsonValue> vmStatuses;
    private final IMap<String, HazelcastJsonValue> hostStatuses;
    private final IMap<String, HazelcastJsonValue> policy;
    private final IMap<String, HazelcastJsonValue> rules;
    private final IMap<String, HazelcastJsonValue> maintenance;
    private final SequencedLog<ClusterEvent> events;

    public ClusterStore(HazelcastInstance hz, int maxEvents) {
        this.hz = hz;
        this.specs = hz.getMap("vigil.vm-specs");
        this.vmStatuses = hz.getMap("vigil.vm-statuses");
        this.hostStatuses = hz.getMap("vigil.host-statuses");
        this.policy = hz.getMap("vigil.policy");
        this.rules = hz.getMap("vigil.rules");
        this.maintenance = hz.getMap("vigil.maintenance");
        this.events = new SequencedLog<>(hz, "vigil.events", "vigil.event-ids", ClusterEvent.class, ClusterEvent::sequence,
                maxEvents);
    }

    /**
     * Starts the embedded member. With no {@code hazelcastMembers} it is a standalone cluster of one (no join at
     * all); otherwise it joins the listed members by TCP-IP. Multicast and auto-detection are always off, so that a
     * controller never joins a stranger's cluster by accident.
     */
    public static ClusterStore start(ControllerConfig config) {
        Config c = new Config();
        c.setClusterName("vigil");
        c.setInstanceName("vigil-" + config.name() + "-" + config.hazelcastPort());
        c.setProperty("hazelcast.logging.type", "slf4j");
        c.setProperty("hazelcast.phone.home.enabled", "false");
        c.setProperty("hazelcast.shutdownhook.enabled", "false"); // the controller shuts down in its own order
        // Hazelcast binds where the API does (loopback by default); a wildcard API address leaves Hazelcast's choice.
        if (!config.httpHost().equals("0.0.0.0") && !config.httpHost().equals("::")) {
            c.setProperty("hazelcast.local.localAddress", config.httpHost());
        }
        c.getNetworkConfig().setPort(config.hazelcastPort()).setPortAutoIncrement(false);
        JoinConfig join = c.getNetworkConfig().getJoin();
        join.getMulticastConfig().setEnabled(false);
        join.getAutoDetectionConfig().setEnabled(false);
        join.getTcpIpConfig().setEnabled(!config.hazelcastMembers().isEmpty()).setMembers(config.hazelcastMembers());
        MemberAttributeConfig attributes = new MemberAttributeConfig();
        attributes.setAttribute(AGENT_URL_ATTRIBUTE, config.advertisedAgentUrl());
        attributes.setAttribute(CONTROLLER_NAME_ATTRIBUTE, config.name());
        c.setMemberAttributeConfig(attributes);
        return new ClusterStore(Hazelcast.newHazelcastInstance(c), 10_000);
    }

    public HazelcastInstance hazelcast() {
        return hz;
    }

    /** The HA core runs on the oldest member only; Hazelcast lists members oldest first, identically everywhere. */
    public boolean isLocalLeader() {
        if (!hz.getLifecycleService().isRunning()) return false;
        var members = hz.getCluster().getMembers();
        return !members.isEmpty() && members.iterator().next().localMember();
    }

    /** The agent URLs of every controller in the cluster, this one first. */
    public List<String> controllerAgentUrls() {
        List<String> urls = new ArrayList<>();
        Member local = hz.getCluster().getLocalMember();
        urls.add(local.getAttribute(AGENT_URL_ATTRIBUTE));
        for (Member m : hz.getCluster().getMembers()) {
            String url = m.getAttribute(AGENT_URL_ATTRIBUTE);
            if (!m.localMember() && url != null) urls.add(url);
        }
        return urls;
    }

    // ---- VM specs (desired state) -------------------------------------------------------------------------------

    public Optional<VmSpec> spec(String vm) {
        return Optional.ofNullable(specs.get(vm)).map(v -> read(v, VmSpec.class));
    }

    public List<VmSpec> specs() {
        return specs.values().stream().map(v -> read(v, VmSpec.class)).toList();
    }

    /** Stores a new VM; false if one with this name exists (atomic on the owning partition). */
    public boolean createSpec(VmSpec spec) {
        return specs.putIfAbsent(spec.name(), json(spec)) == null;
    }

    /**
     * Applies {@code change} to the stored spec with compare-and-set, retrying when a concurrent writer got there
     * first; a change that changes nothing is not written. Returns the new spec, or empty if the VM does not exist.
     */
    public Optional<VmSpec> updateSpec(String vm, UnaryOperator<VmSpec> change) {
        for (int attempt = 0; attempt < 100; attempt++) {
            HazelcastJsonValue old = specs.get(vm);
            if (old == null) return Optional.empty();
            VmSpec current = read(old, VmSpec.class);
            VmSpec updated = change.apply(current);
            if (updated.equals(current)) return Optional.of(current); // no write, so no change reaches the core
            if (specs.replace(vm, old, json(updated))) return Optional.of(updated);
        }
        throw new IllegalStateException("spec of " + vm + " changed concurrently 100 times in a row");
    }

    public void removeSpec(String vm) {
        specs.delete(vm);
    }

    /** {@code listener} sees every spec created or changed, by any member. */
    public void onSpecChanged(Consumer<VmSpec> listener) {
        specs.addEntryListener(new JsonEntryListener<>(VmSpec.class, listener), true);
    }

    /** Hands every added or updated JSON value of a map to {@code listener} as a {@code type}. */
    private record JsonEntryListener<T>(Class<T> type, Consumer<T> listener)
            implements EntryAddedListener<String, HazelcastJsonValue>, EntryUpdatedListener<String, HazelcastJsonValue> {
        @Override
        public void entryAdded(com.hazelcast.core.EntryEvent<String, HazelcastJsonValue> e) {
            listener.accept(read(e.getValue(), type));
        }

        @Override
        public void entryUpdated(com.hazelcast.core.EntryEvent<String, HazelcastJsonValue> e) {
            listener.accept(read(e.getValue(), type));
        }
    }

    // ---- statuses (observed state, written by the leader) ------------------------------------------------------

    public Optional<VmStatus> vmStatus(String vm) {
        return Optional.ofNullable(vmStatuses.get(vm)).map(v -> read(v, VmStatus.class));
    }

    public List<VmStatus> vmStatuses() {
        return vmStatuses.values().stream().map(v -> read(v, VmStatus.class)).toList();
    }

    public void putVmStatus(VmStatus status) {
        vmStatuses.set(status.name(), json(status));
    }

    public void removeVmStatus(String vm) {
        vmStatuses.delete(vm);
    }

    public Optional<HostStatus> hostStatus(String host) {
        return Optional.ofNullable(hostStatuses.get(host)).map(v -> read(v, HostStatus.class));
    }

    public List<HostStatus> hostStatuses() {
        return hostStatuses.values().stream().map(v -> read(v, HostStatus.class)).toList();
    }

    public void putHostStatus(HostStatus status) {
        hostStatuses.set(status.name(), json(status));
    }

    public void removeHostStatus(String host) {
        hostStatuses.delete(host);
    }

    // ---- policy --------------------------------------------------------------------------------------------------

    /** Stores {@code initial} unless a policy is stored already (a restarted or joining controller keeps the cluster's). */
    public ClusterPolicy initPolicy(ClusterPolicy initial) {
        HazelcastJsonValue existing = policy.putIfAbsent(POLICY_KEY, json(initial));
        return existing == null ? initial : read(existing, ClusterPolicy.class);
    }

    public Optional<ClusterPolicy> policy() {
        return Optional.ofNullable(policy.get(POLICY_KEY)).map(v -> read(v, ClusterPolicy.class));
    }

    public void setPolicy(ClusterPolicy p) {
        policy.set(POLICY_KEY, json(p));
    }

    /**
     * Applies {@code change} to the stored policy ({@link ClusterPolicy#DEFAULT} if none) with compare-and-set,
     * retrying when a concurrent writer got there first; a change that changes nothing is not written. Returns the
     * new policy.
     */
    public ClusterPolicy updatePolicy(UnaryOperator<ClusterPolicy> change) {
        for (int attempt = 0; attempt < 100; attempt++) {
            HazelcastJsonValue old = policy.get(POLICY_KEY);
            ClusterPolicy current = old == null ? null : read(old, ClusterPolicy.class);
            ClusterPolicy updated = change.apply(current == null ? ClusterPolicy.DEFAULT : current);
            if (updated.equals(current)) return current;
            boolean stored = old == null ? policy.putIfAbsent(POLICY_KEY, json(updated)) == null
                    : policy.replace(POLICY_KEY, old, json(updated));
            if (stored) return updated;
        }
        throw new IllegalStateException("the policy changed concurrently 100 times in a row");
    }

    public void onPolicyChanged(Consumer<ClusterPolicy> listener) {
        policy.addEntryListener(new JsonEntryListener<>(ClusterPolicy.class, listener), true);
    }

    // ---- placement rules -----------------------------------------------------------------------------------------

    public Optional<Rule> rule(String name) {
        return Optional.ofNullable(rules.get(name)).map(v -> read(v, Rule.class));
    }

    /** Every rule, sorted by name. */
    public List<Rule> rules() {
        return rules.values().stream().map(v -> read(v, Rule.class)).sorted(Comparator.comparing(Rule::name)).toList();
    }

    /** Stores a new rule; false if one with this name exists. */
    public boolean createRule(Rule rule) {
        return rules.putIfAbsent(rule.name(), json(rule)) == null;
    }

    /** Replaces the stored rule of this name; false if there is none. */
    public boolean replaceRule(Rule rule) {
        return rules.replace(rule.name(), json(rule)) != null;
    }

    /**
     * Applies {@code change} to the stored rule with compare-and-set, retrying when a concurrent writer got there
     * first; a change that changes nothing is not written. Returns the new rule, or empty if there is no rule of this
     * name.
     */
    public Optional<Rule> updateRule(String name, UnaryOperator<Rule> change) {
        for (int attempt = 0; attempt < 100; attempt++) {
            HazelcastJsonValue old = rules.get(name);
            if (old == null) return Optional.empty();
            Rule current = read(old, Rule.class);
            Rule updated = change.apply(current);
            if (updated.equals(current)) return Optional.of(current);
            if (rules.replace(name, old, json(updated))) return Optional.of(updated);
        }
        throw new IllegalStateException("rule " + name + " changed concurrently 100 times in a row");
    }

    /** Removes the rule; false if there was none. */
    public boolean removeRule(String name) {
        return rules.remove(name) != null;
    }

    /** {@code listener} runs after every rule change (added, replaced, removed) by any member. */
    public void onRulesChanged(Runnable listener) {
        rules.addEntryListener(new ChangeListener(listener), false);
    }

    private record ChangeListener(Runnable listener) implements EntryAddedListener<String, HazelcastJsonValue>,
            EntryUpdatedListener<String, HazelcastJsonValue>, EntryRemovedListener<String, HazelcastJsonValue> {
        @Override
        public void entryAdded(com.hazelcast.core.EntryEvent<String, HazelcastJsonValue> e) {
            listener.run();
        }

        @Override
        public void entryUpdated(com.hazelcast.core.EntryEvent<String, HazelcastJsonValue> e) {
            listener.run();
        }

        @Override
        public void entryRemoved(com.hazelcast.core.EntryEvent<String, HazelcastJsonValue> e) {
            listener.run();
        }
    }

    // ---- maintenance requests ------------------------------------------------------------------------------------

    /**
     * The operator's latest maintenance request for a host. Kept (not consumed) so that a leader that takes over
     * can carry out a request its predecessor had not yet acted on; the host's status says what the core did.
     */
    public record MaintenanceRequest(String host, boolean enabled, long requestedAtMillis) {}

    public void requestMaintenance(MaintenanceRequest request) {
        maintenance.set(request.host(), json(request));
    }

    /** Every host's latest maintenance request, by host. */
    public Map<String, MaintenanceRequest> maintenanceRequests() {
        Map<String, MaintenanceRequest> out = new TreeMap<>();
        for (HazelcastJsonValue v : maintenance.values()) {
            MaintenanceRequest r = read(v, MaintenanceRequest.class);
            out.put(r.host(), r);
        }
        return out;
    }

    /** {@code listener} sees every maintenance request, made on any member. */
    public void onMaintenanceRequested(Consumer<MaintenanceRequest> listener) {
        maintenance.addEntryListener(new JsonEntryListener<>(MaintenanceRequest.class, listener), true);
    }

    // ---- events --------------------------------------------------------------------------------------------------

    /**
     * Stores {@code event} under a new sequence number and returns it stamped. Sequences come from a flake id
     * generator: unique cluster-wide without coordination, and increasing on one member, so the leader's events
     * sort in the order they happened.
     */
    public ClusterEvent appendEvent(ClusterEvent event) {
        return events.append(event::withSequence);
    }

    /**
     * {@code listener} sees every event appended from now on, by any member (a Hazelcast entry listener on the events
     * map; it runs on a Hazelcast event thread, so it must not block). Trimming old events is not reported. Returns
     * what removes the listener again.
     */
    public Runnable onEventAppended(Consumer<ClusterEvent> listener) {
        java.util.UUID id = events.map().addEntryListener(
                (EntryAddedListener<Long, HazelcastJsonValue>) e -> listener.accept(read(e.getValue(), ClusterEvent.class)),
                true);
        return () -> {
            if (hz.getLifecycleService().isRunning()) events.map().removeEntryListener(id);
        };
    }

    /** Drops the oldest events beyond the bound, so the log cannot grow without end. */
    public void trimEvents() {
        int trimmed = events.trim();
        if (trimmed > 0) log.debug("trimmed {} old events", trimmed);
    }

    /** Filters for {@link #events}; null fields match everything. */
    public record EventQuery(Long sinceSequence, Long sinceMillis, String host, String vm, String type, int limit) {}

    /** Events matching {@code q}, oldest first, at most {@code q.limit()} of the newest. */
    public List<ClusterEvent> events(EventQuery q) {
        List<Predicate<Long, HazelcastJsonValue>> ps = new ArrayList<>();
        if (q.sinceSequence() != null) ps.add(Predicates.greaterThan("sequence", q.sinceSequence()));
        if (q.sinceMillis() != null) ps.add(Predicates.greaterEqual("timeMillis", q.sinceMillis()));
        if (q.host() != null) ps.add(Predicates.equal("host", q.host()));
        if (q.vm() != null) ps.add(Predicates.equal("vm", q.vm()));
        if (q.type() != null) ps.add(Predicates.equal("type", q.type()));
        return events.newest(ps, q.limit());
    }

    @Override
    public void close() {
        hz.shutdown();
    }

    static HazelcastJsonValue json(Object value) {
        return new HazelcastJsonValue(Json.write(value));
    }

    static <T> T read(HazelcastJsonValue value, Class<T> type) {
        return Json.read(value.getValue(), type);
    }
}
