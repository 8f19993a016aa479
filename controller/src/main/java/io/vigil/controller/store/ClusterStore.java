package io.vigil.controller.store;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.MemberAttributeConfig;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.HazelcastJsonValue;
import com.hazelcast.cluster.Member;
import com.hazelcast.core.LifecycleEvent;
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
import io.vigil.protocol.storage.SharedStorage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HA state of the cluster: VM specs (requested state and HA settings, written by the REST API), the policy, the
 * placement rules and the operator's maintenance requests (desired state: durable on shared storage before a change
 * returns), the core's last placement of each VM and its record of each host (durable, written by the leader before it
 * sends the commands that follow from them), VM and host statuses with their live figures (Hazelcast memory, rebuilt
 * from the agents), and the event log (durable within {@link DurableLog#FLUSH_MILLIS}).
 *
 * <p>All of it goes through {@link StateMap}s from the one {@link StateMaps} registry. Nothing here uses a Hazelcast
 * lock or CP structure: the community edition has no linearizable primitives; compare-and-set happens on storage.
 */
public final class ClusterStore implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ClusterStore.class);
    /** Member attribute holding the URL agents dial to reach this controller. */
    public static final String AGENT_URL_ATTRIBUTE = "vigil.agentUrl";
    public static final String CONTROLLER_NAME_ATTRIBUTE = "vigil.name";
    private static final String POLICY_KEY = "current";

    private final StateMaps maps;
    private final StateMap<VmSpec> specs;
    private final StateMap<VmStatus> vmStatuses;
    private final StateMap<VmStatus> placements;
    private final StateMap<HostStatus> hostStatuses;
    private final StateMap<HostStatus> hostRecords;
    private final StateMap<ClusterPolicy> policy;
    private final StateMap<Rule> rules;
    private final StateMap<MaintenanceRequest> maintenance;
    private final DurableLog<ClusterEvent> eventLog;
    private final SequencedLog<ClusterEvent> events;
    private volatile BooleanSupplier leadership;
    private volatile Runnable merged = () -> {};

    public ClusterStore(StateMaps maps, Path logsDir, String writer, int maxEvents) {
        this.maps = maps;
        this.specs = maps.map(StateMaps.Name.VM_SPECS, VmSpec.class);
        this.vmStatuses = maps.map(StateMaps.Name.VM_STATUSES, VmStatus.class);
        this.placements = maps.map(StateMaps.Name.VM_PLACEMENTS, VmStatus.class);
        this.hostStatuses = maps.map(StateMaps.Name.HOST_STATUSES, HostStatus.class);
        this.hostRecords = maps.map(StateMaps.Name.HOST_RECORDS, HostStatus.class);
        this.policy = maps.map(StateMaps.Name.POLICY, ClusterPolicy.class);
        this.rules = maps.map(StateMaps.Name.RULES, Rule.class);
        this.maintenance = maps.map(StateMaps.Name.MAINTENANCE, MaintenanceRequest.class);
        this.eventLog = new DurableLog<>(logsDir.resolve("events"), writer, ClusterEvent.class, ClusterEvent::sequence,
                maxEvents);
        this.events = new SequencedLog<>(maps.hazelcast(), StateMaps.Name.EVENTS.mapName(), "vigil.event-ids", ClusterEvent.class,
                ClusterEvent::sequence, maxEvents, eventLog, false);
        this.leadership = this::isOldestMember;
    }

    /**
     * Starts the embedded member and opens the durable state under the shared storage's {@code control-plane}
     * directory. With no {@code hazelcastMembers} the member is a standalone cluster of one (no join at all);
     * otherwise it joins the listed members by TCP-IP. Multicast and auto-detection are always off, so that a
     * controller never joins a stranger's cluster by accident. Member failure detection is tuned down from
     * Hazelcast's minute to a few seconds; leadership does not depend on it (see the leader lease).
     *
     * <p>The community edition authenticates no member, so: the member listens on {@code hazelcastInterface} only;
     * its cluster name is derived from the cluster secret ({@code clusterSecretFile}, created when missing), so that
     * Hazelcast admits only members holding the secret; and secret values are sealed with a key derived from it (see
     * {@link StateMaps}). The secret is checked against the one the durable state was sealed with before Hazelcast
     * starts: a controller given another cluster's secret stops here, with the reason.
     */
    public static ClusterStore start(ControllerConfig config) throws java.io.IOException {
        ClusterSecret secret = ClusterSecret.loadOrCreate(Path.of(config.clusterSecretFile()));
        SealingKey sealing = secret.sealingKey();
        Path controlPlane = new SharedStorage(config.sharedStoragePath()).controlPlaneDir();
        StateDirectory disk = StateDirectory.open(controlPlane, config.name(), System::currentTimeMillis);
        StorageSealing.bind(controlPlane, disk, sealing);
        Config c = new Config();
        c.setClusterName(secret.clusterName());
        c.setInstanceName("vigil-" + config.name() + "-" + config.hazelcastPort());
        c.setProperty("hazelcast.logging.type", "slf4j");
        c.setProperty("hazelcast.phone.home.enabled", "false");
        c.setProperty("hazelcast.shutdownhook.enabled", "false"); // the controller shuts down in its own order
        c.setProperty("hazelcast.heartbeat.interval.seconds", "1");
        c.setProperty("hazelcast.max.no.heartbeat.seconds", "6");
        c.setProperty("hazelcast.merge.first.run.delay.seconds", "5");
        c.setProperty("hazelcast.merge.next.run.delay.seconds", "5");
        // One interface, never the wildcard: see HazelcastInterface for how it is chosen.
        String bind = config.hazelcastInterface();
        c.setProperty("hazelcast.socket.bind.any", "false");
        c.setProperty("hazelcast.local.localAddress", bind);
        c.getNetworkConfig().getInterfaces().setEnabled(true).addInterface(bind);
        c.getNetworkConfig().setPublicAddress((bind.contains(":") ? "[" + bind + "]" : bind) + ":" + config.hazelcastPort());
        c.getNetworkConfig().setPort(config.hazelcastPort()).setPortAutoIncrement(false);
        JoinConfig join = c.getNetworkConfig().getJoin();
        join.getMulticastConfig().setEnabled(false);
        join.getAutoDetectionConfig().setEnabled(false);
        join.getTcpIpConfig().setEnabled(!config.hazelcastMembers().isEmpty()).setMembers(config.hazelcastMembers());
        MemberAttributeConfig attributes = new MemberAttributeConfig();
        attributes.setAttribute(AGENT_URL_ATTRIBUTE, config.advertisedAgentUrl());
        attributes.setAttribute(CONTROLLER_NAME_ATTRIBUTE, config.name());
        c.setMemberAttributeConfig(attributes);
        HazelcastInstance hz = Hazelcast.newHazelcastInstance(c);
        try {
            ClusterStore store = new ClusterStore(new StateMaps(hz, disk, sealing), controlPlane.resolve("logs"), config.name(),
                    10_000);
            // After a split heals, Hazelcast keeps one side's cache: storage is the truth, so load it again.
            hz.getLifecycleService().addLifecycleListener(e -> {
                if (e.getState() == LifecycleEvent.LifecycleState.MERGED) {
                    log.info("the controller cluster merged after a split: reloading cluster state from storage");
                    Thread t = new Thread(() -> {
                        store.maps.resyncAll();
                        store.merged.run();
                    }, "vigil-resync");
                    t.setDaemon(true);
                    t.start();
                }
            });
            return store;
        } catch (RuntimeException e) {
            hz.shutdown();
            throw e;
        }
    }

    public HazelcastInstance hazelcast() {
        return maps.hazelcast();
    }

    /** The registry of state maps, for the holders of security state (tokens, users, certificates). */
    public StateMaps maps() {
        return maps;
    }

    /** {@code listener} runs after this member merged back into the cluster and reloaded the state from storage. */
    public void onMerged(Runnable listener) {
        this.merged = listener;
    }

    /** Who decides whether this member runs the HA core: the leader lease once the controller has one. */
    public void leadBy(BooleanSupplier leadership) {
        this.leadership = leadership;
    }

    /** Whether this member runs the HA core now. */
    public boolean isLocalLeader() {
        return hazelcast().getLifecycleService().isRunning() && leadership.getAsBoolean();
    }

    /** Without a leader lease (unit tests of the loop): the oldest member, as Hazelcast lists them everywhere. */
    private boolean isOldestMember() {
        var members = hazelcast().getCluster().getMembers();
        return !members.isEmpty() && members.iterator().next().localMember();
    }

    /** The agent URLs of every controller in the cluster, this one first. */
    public List<String> controllerAgentUrls() {
        List<String> urls = new ArrayList<>();
        Member local = hazelcast().getCluster().getLocalMember();
        urls.add(local.getAttribute(AGENT_URL_ATTRIBUTE));
        for (Member m : hazelcast().getCluster().getMembers()) {
            String url = m.getAttribute(AGENT_URL_ATTRIBUTE);
            if (!m.localMember() && url != null) urls.add(url);
        }
        return urls;
    }

    // ---- VM specs (desired state) -------------------------------------------------------------------------------

    public Optional<VmSpec> spec(String vm) {
        return specs.get(vm);
    }

    public List<VmSpec> specs() {
        return specs.values();
    }

    /** Stores a new VM; false if one with this name exists (a compare-and-set on storage). */
    public boolean createSpec(VmSpec spec) {
        return specs.create(spec.name(), spec);
    }

    /**
     * Applies {@code change} to the stored spec with compare-and-set, retrying when a concurrent writer got there
     * first; a change that changes nothing is not written. Returns the new spec, or empty if the VM does not exist.
     */
    public Optional<VmSpec> updateSpec(String vm, UnaryOperator<VmSpec> change) {
        return specs.update(vm, change);
    }

    public void removeSpec(String vm) {
        specs.remove(vm);
    }

    /** {@code listener} sees every spec created or changed, by any member. */
    public void onSpecChanged(Consumer<VmSpec> listener) {
        specs.onChange((key, spec) -> {
            if (spec != null) listener.accept(spec);
        });
    }

    // ---- statuses (observed state, written by the leader) ------------------------------------------------------

    public Optional<VmStatus> vmStatus(String vm) {
        return vmStatuses.get(vm);
    }

    public List<VmStatus> vmStatuses() {
        return vmStatuses.values();
    }

    /**
     * Records the core's view of a VM: its placement durably (before the leader sends the commands that follow from
     * it), its status in memory for readers.
     */
    public void putVmStatus(VmStatus status) {
        placements.put(status.name(), status);
        vmStatuses.put(status.name(), status);
    }

    public void removeVmStatus(String vm) {
        placements.remove(vm);
        vmStatuses.remove(vm);
    }

    /** Writes {@code status} to the in-memory status map readers use, if it differs from what is there. */
    public void publishVmStatus(VmStatus status) {
        if (!vmStatuses.get(status.name()).equals(Optional.of(status))) vmStatuses.put(status.name(), status);
    }

    /** Writes {@code status} to the in-memory host status map readers use, if it differs from what is there. */
    public void publishHostStatus(HostStatus status) {
        if (!hostStatuses.get(status.name()).equals(Optional.of(status))) hostStatuses.put(status.name(), status);
    }

    /** The core's last durable placement of every VM: what a restarted leader resumes from. */
    public List<VmStatus> vmPlacements() {
        return placements.values();
    }

    public Optional<HostStatus> hostStatus(String host) {
        return hostStatuses.get(host);
    }

    public List<HostStatus> hostStatuses() {
        return hostStatuses.values();
    }

    /**
     * Records a host's status in memory, and durably what the core decided about it (state, generation, maintenance,
     * capacity) whenever that changed: not the figures every heartbeat changes, which storage need not keep.
     */
    public void putHostStatus(HostStatus status) {
        hostStatuses.put(status.name(), status);
        HostStatus record = decided(status);
        if (!hostRecords.get(status.name()).equals(Optional.of(record))) hostRecords.put(status.name(), record);
    }

    private static HostStatus decided(HostStatus h) {
        return new HostStatus(h.name(), h.state(), h.generation(), h.cpus(), h.memoryTotalMiB(), 0, false, h.storageOk(),
                List.of(), 0, h.stateSinceMillis(), h.maintenance(), h.reserveMiB(), null);
    }

    public void removeHostStatus(String host) {
        hostStatuses.remove(host);
        hostRecords.remove(host);
    }

    /** What the core last decided about every host: what a restarted leader resumes from. */
    public List<HostStatus> hostRecords() {
        return hostRecords.values();
    }

    // ---- policy --------------------------------------------------------------------------------------------------

    /** Stores {@code initial} unless a policy is stored already (a restarted or joining controller keeps the cluster's). */
    public ClusterPolicy initPolicy(ClusterPolicy initial) {
        policy.create(POLICY_KEY, initial);
        return policy.get(POLICY_KEY).orElse(initial);
    }

    public Optional<ClusterPolicy> policy() {
        return policy.get(POLICY_KEY);
    }

    public void setPolicy(ClusterPolicy p) {
        policy.put(POLICY_KEY, p);
    }

    /**
     * Applies {@code change} to the stored policy ({@link ClusterPolicy#DEFAULT} if none) with compare-and-set,
     * retrying when a concurrent writer got there first; a change that changes nothing is not written. Returns the
     * new policy.
     */
    public ClusterPolicy updatePolicy(UnaryOperator<ClusterPolicy> change) {
        policy.create(POLICY_KEY, ClusterPolicy.DEFAULT);
        return policy.update(POLICY_KEY, change).orElseThrow();
    }

    public void onPolicyChanged(Consumer<ClusterPolicy> listener) {
        policy.onChange((key, p) -> {
            if (p != null) listener.accept(p);
        });
    }

    // ---- placement rules -----------------------------------------------------------------------------------------

    public Optional<Rule> rule(String name) {
        return rules.get(name);
    }

    /** Every rule, sorted by name. */
    public List<Rule> rules() {
        return rules.values().stream().sorted(Comparator.comparing(Rule::name)).toList();
    }

    /** Stores a new rule; false if one with this name exists. */
    public boolean createRule(Rule rule) {
        return rules.create(rule.name(), rule);
    }

    /** Replaces the stored rule of this name; false if there is none. */
    public boolean replaceRule(Rule rule) {
        return rules.update(rule.name(), r -> rule).isPresent();
    }

    /**
     * Applies {@code change} to the stored rule with compare-and-set, retrying when a concurrent writer got there
     * first; a change that changes nothing is not written. Returns the new rule, or empty if there is no rule of this
     * name.
     */
    public Optional<Rule> updateRule(String name, UnaryOperator<Rule> change) {
        return rules.update(name, change);
    }

    /** Removes the rule; false if there was none. */
    public boolean removeRule(String name) {
        return rules.remove(name);
    }

    /** {@code listener} runs after every rule change (added, replaced, removed) by any member. */
    public void onRulesChanged(Runnable listener) {
        rules.onChange((key, r) -> listener.run());
    }

    // ---- maintenance requests ------------------------------------------------------------------------------------

    /**
     * The operator's latest maintenance request for a host. Kept (not consumed) so that a leader that takes over
     * can carry out a request its predecessor had not yet acted on; the host's status says what the core did.
     */
    public record MaintenanceRequest(String host, boolean enabled, long requestedAtMillis) {}

    public void requestMaintenance(MaintenanceRequest request) {
        maintenance.put(request.host(), request);
    }

    /** Every host's latest maintenance request, by host. */
    public Map<String, MaintenanceRequest> maintenanceRequests() {
        Map<String, MaintenanceRequest> out = new TreeMap<>();
        for (MaintenanceRequest r : maintenance.values()) out.put(r.host(), r);
        return out;
    }

    /** {@code listener} sees every maintenance request, made on any member. */
    public void onMaintenanceRequested(Consumer<MaintenanceRequest> listener) {
        maintenance.onChange((key, r) -> {
            if (r != null) listener.accept(r);
        });
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
            if (hazelcast().getLifecycleService().isRunning()) events.map().removeEntryListener(id);
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

    /** Writes the events appended so far to storage now (they are otherwise durable within the flush interval). */
    public void flushEvents() {
        eventLog.flush();
    }

    @Override
    public void close() {
        eventLog.close();
        hazelcast().shutdown();
    }

    static <T> T read(HazelcastJsonValue value, Class<T> type) {
        return Json.read(value.getValue(), type);
    }
}
