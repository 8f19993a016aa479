package io.vigil.controller.ha;

import io.vigil.controller.cache.CacheLending;
import io.vigil.protocol.HostInventory;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The core's whole state. Immutable: {@link HaCore#step} returns a new one and never changes the one it was given.
 * Besides what the store keeps ({@link #specs()}, {@link #vmStatuses()}, {@link #hostStatuses()}, {@link #policy()})
 * it holds what only matters while the controller runs: commands in flight, failovers in progress, the latest
 * storage-heartbeat readings and each host's last inventory.
 */
public final class ClusterState {
    private final ClusterPolicy policy;
    private final Map<String, VmSpec> specs;
    private final Map<String, VmRecord> vms;
    private final Map<String, HostRecord> hosts;
    private final Map<String, StorageReading> storage;
    private final Map<String, FailoverRecord> failovers;
    private final Map<String, Rule> rules;
    private final CommandLedger ledger;
    /** Set by {@link #restore}: the first input after it starts the clocks the store could not keep. */
    private final boolean resumePending;
    /** Computed on first use; a benign race at worst computes it twice (its fields are final). */
    private Derived derived;

    ClusterState(ClusterPolicy policy, Map<String, VmSpec> specs, Map<String, VmRecord> vms,
            Map<String, HostRecord> hosts, Map<String, StorageReading> storage, Map<String, FailoverRecord> failovers,
            Map<String, Rule> rules, CommandLedger ledger, boolean resumePending) {
        if (policy == null) throw new IllegalArgumentException("policy is required");
        this.policy = policy;
        this.specs = Collections.unmodifiableSortedMap(new TreeMap<>(specs));
        this.vms = Collections.unmodifiableSortedMap(new TreeMap<>(vms));
        this.hosts = Collections.unmodifiableSortedMap(new TreeMap<>(hosts));
        this.storage = Collections.unmodifiableSortedMap(new TreeMap<>(storage));
        this.failovers = Collections.unmodifiableMap(new LinkedHashMap<>(failovers));
        this.rules = Collections.unmodifiableSortedMap(new TreeMap<>(rules));
        this.ledger = ledger;
        this.resumePending = resumePending;
    }

    public static ClusterState initial(ClusterPolicy policy) {
        return new ClusterState(policy, Map.of(), Map.of(), Map.of(), Map.of(), Map.of(), Map.of(),
                CommandLedger.empty(), false);
    }

    /**
     * Rebuilds the state after a controller restart from what the store kept, so the core resumes where it was
     * (level-triggered: agents' next heartbeats fill in the observed state). Hosts start as not connected and their
     * heartbeat clocks start at the first input after the restore, so none is declared failed before a failure
     * timeout has passed; VMs that were starting, stopping or being deleted get their command re-sent if no result
     * comes within that command's timeout.
     */
    public static ClusterState restore(ClusterPolicy policy, Collection<VmSpec> specs, Collection<VmStatus> vms,
            Collection<HostStatus> hosts) {
        return restore(policy, specs, vms, hosts, List.of());
    }

    /** As {@link #restore(ClusterPolicy, Collection, Collection, Collection)}, with the placement rules. */
    public static ClusterState restore(ClusterPolicy policy, Collection<VmSpec> specs, Collection<VmStatus> vms,
            Collection<HostStatus> hosts, Collection<Rule> rules) {
        Map<String, VmSpec> specMap = new TreeMap<>();
        for (VmSpec s : specs) specMap.put(s.name(), s);
        Map<String, VmRecord> vmMap = new TreeMap<>();
        for (VmStatus v : vms) if (specMap.containsKey(v.name())) vmMap.put(v.name(), VmRecord.restored(v));
        // A spec without a status was written just before the controller stopped: the core has not seen it yet.
        for (VmSpec s : specMap.values())
            vmMap.computeIfAbsent(s.name(), n -> VmRecord.restored(new VmStatus(n, null, VmState.STOPPED, 0, null,
                    s.createdAtMillis())));
        Map<String, HostRecord> hostMap = new TreeMap<>();
        Now unknown = new Now(0, 0); // replaced by the first input's time (see HaCore)
        for (HostStatus h : hosts) {
            HostInventory inventory = new HostInventory(h.cpus(), h.memoryTotalMiB(),
                    Math.max(0, h.memoryTotalMiB() - h.memoryUsedMiB()), List.of());
            HostState state = h.state() == HostState.REJOINING ? HostState.CONNECTED : h.state();
            hostMap.put(h.name(), HostRecord.unheard(h.name(), state, h.generation(), inventory, h.storageOk(),
                    h.stateSinceMillis(), unknown).withMaintenance(h.maintenance()));
        }
        Map<String, Rule> ruleMap = new TreeMap<>();
        for (Rule r : rules) ruleMap.put(r.name(), r);
        return new ClusterState(policy, specMap, vmMap, hostMap, Map.of(), Map.of(), ruleMap, CommandLedger.empty(),
                true);
    }

    public ClusterPolicy policy() {
        return policy;
    }

    public Map<String, VmSpec> specs() {
        return specs;
    }

    public Map<String, VmStatus> vmStatuses() {
        Map<String, VmStatus> out = new TreeMap<>();
        for (VmRecord v : vms.values()) out.put(v.name(), v.status());
        return Collections.unmodifiableMap(out);
    }

    public Map<String, HostStatus> hostStatuses() {
        return derived().hostStatuses();
    }

    /**
     * The disk cache budgets each host's agent should apply, by host and then by VM, in MiB
     * ({@link io.vigil.controller.cache.CacheLending}): every connected host, with an empty map where it lends nothing
     * (hosts in other states are told nothing until they are connected again).
     */
    public Map<String, Map<String, Long>> cacheBudgets() {
        return derived().cacheBudgets();
    }

    /** Figures derived from the records, computed once per state (it is immutable) and shared by every reader. */
    private record Derived(Map<String, HostStatus> hostStatuses, Map<String, Map<String, Long>> cacheBudgets) {}

    private Derived derived() {
        Derived d = derived;
        if (d == null) derived = d = derive();
        return d;
    }

    private Derived derive() {
        Map<String, HostStatus> out = new TreeMap<>();
        Map<String, Map<String, Long>> budgets = new TreeMap<>();
        Map<String, Placement.HostCapacity> capacities = Placement.capacities(hosts.values(), vms, specs);
        Map<String, Long> reserve = CacheLoans.reserves(policy, hosts.values(), capacities);
        Map<String, CacheLending.Loan> loans = CacheLoans.loans(hosts.values(), capacities, reserve, vms, specs);
        for (HostRecord h : hosts.values()) {
            Placement.HostCapacity capacity = capacities.get(h.name());
            CacheLending.Loan loan = loans.getOrDefault(h.name(), CacheLending.Loan.NONE);
            out.put(h.name(), new HostStatus(h.name(), h.state(), h.generation(), h.inventory().cpus(),
                    h.inventory().memoryTotalMiB(), capacity.usedMiB(), h.connected(), h.storageOk(),
                    capacity.vms(), h.lastHeartbeatMillis(), h.stateSinceMillis(), h.maintenance(),
                    reserve.getOrDefault(h.name(), 0L), CacheLoans.figures(h, loan),
                    HostStatus.Reported.of(h.inventory().vms())));
            // Only a connected host is told: a host missing a heartbeat or two keeps its caches until it is judged.
            if (h.state() == HostState.CONNECTED) budgets.put(h.name(), loan.budgetsMiB());
        }
        return new Derived(Collections.unmodifiableMap(out), Collections.unmodifiableMap(budgets));
    }

    public Map<String, Rule> rules() {
        return rules;
    }

    /** The cluster as the checks of {@link ClusterView} see it. */
    public ClusterView view() {
        return new ClusterView(policy, hostStatuses().values(), specs.values(), vmStatuses().values(), rules.values());
    }

    /** The last inventory each host reported (observed truth), for the REST layer's CPU and memory figures. */
    public Map<String, HostInventory> inventories() {
        Map<String, HostInventory> out = new TreeMap<>();
        for (HostRecord h : hosts.values()) out.put(h.name(), h.inventory());
        return Collections.unmodifiableMap(out);
    }

    /** Ids of the commands whose results the core still waits for. */
    public Collection<String> pendingCommandIds() {
        return ledger.pending().keySet();
    }

    Map<String, VmRecord> vms() {
        return vms;
    }

    Map<String, HostRecord> hosts() {
        return hosts;
    }

    Map<String, StorageReading> storage() {
        return storage;
    }

    Map<String, FailoverRecord> failovers() {
        return failovers;
    }

    Map<String, Rule> ruleMap() {
        return rules;
    }

    CommandLedger ledger() {
        return ledger;
    }

    boolean resumePending() {
        return resumePending;
    }
}
