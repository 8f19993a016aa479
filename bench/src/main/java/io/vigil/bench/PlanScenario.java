package io.vigil.bench;

import io.vigil.controller.ha.ClusterPolicy;
import io.vigil.controller.ha.ClusterState;
import io.vigil.controller.ha.HaCommand;
import io.vigil.controller.ha.HaCore;
import io.vigil.controller.ha.HaInput;
import io.vigil.controller.ha.HostPreference;
import io.vigil.controller.ha.HostState;
import io.vigil.controller.ha.HostStatus;
import io.vigil.controller.ha.Now;
import io.vigil.controller.ha.Priority;
import io.vigil.controller.ha.RequestedState;
import io.vigil.controller.ha.Rule;
import io.vigil.controller.ha.Step;
import io.vigil.controller.ha.VmSpec;
import io.vigil.controller.ha.VmState;
import io.vigil.controller.ha.VmStatus;
import io.vigil.protocol.AgentCommand;
import io.vigil.protocol.HostInventory;
import io.vigil.protocol.VmPowerState;
import io.vigil.protocol.VmReport;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;

/**
 * The cluster bench/plan plans a failover in: 1,000 hosts (256 GiB, 64 CPUs each) running 20,000 VMs, one of them
 * ({@link #FAILED_HOST}) carrying 200 small HA VMs and the others 19 or 20 larger ones each; mixed priorities and
 * memory sizes; with {@code withRules}, 500 placement rules (anti-affinity groups of 2-5 VMs, affinity groups of
 * 2-3 co-located VMs, some strict, 65 of them touching VMs of the failed host), preferred hosts (some strict) and a
 * few start-after dependencies on VMs running elsewhere. Without, the same hosts and VMs with none of these.
 *
 * <p>Built only through the HA core's public API: {@link ClusterState#restore} with the specs and rules, then the
 * agents' inputs on a virtual clock: every agent says Hello with an inventory listing its running VMs (lease
 * generation 1), all but one heartbeat again, and after two storage readings the silent one, whose storage
 * heartbeat is stale, is FAILED with its 200 HA VMs in RECOVERY. {@link #preFence} is that state; {@link #fence}
 * (the storage reading in which its lease has expired) at {@link #fenceNow} is the input whose step fences it and
 * plans the failover of its VMs: the step bench/plan measures.
 *
 * <p>Hosts join with a Hello the core has no record of (the restored VMs are stopped, and adopted from the
 * inventories) rather than as restored host records: a restored host reconnecting sets the core's "hosts changed"
 * flag, and the failback pass that follows computes every host's capacity over every VM, so each of the 1,000
 * reconnections would cost O(hosts x VMs) and the setup would take minutes. For the plan the two are equivalent:
 * every host connected with its inventory, every VM running where its host reports it with lease generation 1.
 */
public final class PlanScenario {
    public static final int HOSTS = 1000;
    public static final int VMS = 20_000;
    public static final int RULES = 500;
    public static final int FAILED_HOST_VMS = 200;
    public static final int HOST_CPUS = 64;
    public static final long HOST_MIB = 256 * 1024;
    public static final String FAILED_HOST = host(500);
    static final long SEED = 20_240_611L;

    private static final long T0_NANOS = 1_000_000_000_000L;
    private static final long T0_MILLIS = 1_750_000_000_000L;
    /**
     * The virtual clock, in milliseconds after the restore (heartbeat interval 1 s, failure timeout 3 s, lease
     * timeout 4 s): the host that will fail says Hello at 0 and is never heard again; the others say Hello at 1 s
     * and heartbeat at 2.5 s (never silent for two intervals); the silent host's stale storage heartbeat leaves it
     * suspect at 2.2 s and failed at 3.5 s, and its lease has expired at 4 s. Every margin is at least 500 ms.
     */
    private static final long HELLO_OTHERS = 1000;
    private static final long SUSPECT_READING = 2200;
    private static final long HEARTBEAT = 2500;
    private static final long FAILED_READING = 3500;
    private static final long LEASE_EXPIRED_READING = 4000;

    public final boolean withRules;
    public final HaCore core = new HaCore();
    public final ClusterPolicy policy = ClusterPolicy.DEFAULT;
    public final List<VmSpec> specs;
    public final List<Rule> rules;
    /** Where each VM runs before the failure. */
    public final Map<String, String> hostOf;
    public final List<String> failedHostVms;
    /** The state in which {@link #FAILED_HOST} is FAILED and its HA VMs wait for its lease to expire. */
    public final ClusterState preFence;
    public final HaInput fence;
    public final Now fenceNow;
    public final long setupMillis;
    public final int setupSteps;
    /** The mean time of one steady-state agent heartbeat step during the setup (not measured by JMH). */
    public final double heartbeatStepMillis;

    private PlanScenario(boolean withRules) {
        long started = System.nanoTime();
        this.withRules = withRules;
        Random random = new Random(SEED);
        List<String> hosts = new ArrayList<>();
        for (int i = 0; i < HOSTS; i++) hosts.add(host(i));
        List<String> others = new ArrayList<>(hosts);
        others.remove(FAILED_HOST);

        // Which VM runs where: a shuffled 200 on the failed host, the rest round-robin (819 hosts x 20, 180 x 19).
        List<String> names = new ArrayList<>();
        for (int i = 0; i < VMS; i++) names.add(String.format("vm%05d", i));
        Collections.shuffle(names, random);
        Map<String, String> where = new LinkedHashMap<>();
        List<String> failedVms = new ArrayList<>(names.subList(0, FAILED_HOST_VMS));
        for (String vm : failedVms) where.put(vm, FAILED_HOST);
        for (int i = FAILED_HOST_VMS; i < VMS; i++) where.put(names.get(i), others.get((i - FAILED_HOST_VMS) % others.size()));
        this.hostOf = Collections.unmodifiableMap(where);
        this.failedHostVms = List.copyOf(failedVms);

        // Specs: the failed host runs small HA VMs (VDI-like, ~1.1 GiB on average), the others larger ones (~6 GiB).
        Map<String, VmSpec> byName = new LinkedHashMap<>();
        for (String vm : names) {
            boolean onFailed = FAILED_HOST.equals(where.get(vm));
            long mib = onFailed ? pickMiB(random, 512, 1024, 1024, 1024, 2048)
                    : pickMiB(random, 1024, 2048, 4096, 4096, 8192, 8192, 16384);
            int vcpus = (int) Math.max(1, Math.min(8, mib / 2048));
            Priority priority = pick(random, Priority.HIGHEST, Priority.HIGH, Priority.HIGH, Priority.MEDIUM,
                    Priority.MEDIUM, Priority.MEDIUM, Priority.MEDIUM, Priority.LOW, Priority.LOW, Priority.LOWEST);
            boolean ha = true;
            if (!onFailed) {
                int roll = random.nextInt(100);
                if (roll < 3) ha = false;
                else if (roll < 5) priority = Priority.DISABLED;
            }
            String xml = "<domain type='kvm'><name>" + vm + "</name><memory unit='MiB'>" + mib
                    + "</memory><vcpu>" + vcpus + "</vcpu></domain>";
            byName.put(vm, new VmSpec(vm, xml, mib, vcpus, ha, priority, RequestedState.STARTED, T0_MILLIS - 86_400_000L));
        }
        long failedUsed = failedVms.stream().mapToLong(vm -> byName.get(vm).memoryMiB()).sum();
        if (failedUsed > HOST_MIB) throw new IllegalStateException("the failed host's VMs do not fit: " + failedUsed + " MiB");

        List<Rule> ruleList = new ArrayList<>();
        if (withRules) ruleList = rulesAndPreferences(random, byName, where, failedVms, others);
        this.rules = List.copyOf(ruleList);
        this.specs = List.copyOf(byName.values());

        // Restore the specs and rules; VMs stopped and hosts unknown, adopted from the agents' inventories.
        List<VmStatus> statuses = new ArrayList<>();
        for (VmSpec s : specs) statuses.add(new VmStatus(s.name(), null, VmState.STOPPED, 1, null, T0_MILLIS - 86_400_000L));
        ClusterState state = ClusterState.restore(policy, specs, statuses, List.<HostStatus>of(), rules);

        Map<String, List<VmReport>> reports = new TreeMap<>();
        for (String h : hosts) reports.put(h, new ArrayList<>());
        for (Map.Entry<String, String> e : where.entrySet()) {
            VmSpec s = byName.get(e.getKey());
            reports.get(e.getValue()).add(new VmReport(s.name(), uuid(s.name()), VmPowerState.RUNNING, s.memoryMiB(),
                    s.vcpus(), 1));
        }
        Map<String, HostInventory> inventories = new TreeMap<>();
        for (String h : hosts) {
            long used = reports.get(h).stream().mapToLong(VmReport::memoryMiB).sum();
            inventories.put(h, new HostInventory(HOST_CPUS, HOST_MIB, HOST_MIB - used, reports.get(h)));
        }

        state = core.step(state, new HaInput.AgentConnected(FAILED_HOST, 1, inventories.get(FAILED_HOST), true), at(0))
                .state();
        int steps = 1;
        for (String h : others) {
            state = core.step(state, new HaInput.AgentConnected(h, 1, inventories.get(h), true), at(HELLO_OTHERS)).state();
            steps++;
        }
        state = core.step(state, storage(hosts, SUSPECT_READING, false), at(SUSPECT_READING)).state();
        long roundStarted = System.nanoTime();
        for (String h : others) {
            state = core.step(state, new HaInput.AgentHeartbeat(h, 1, inventories.get(h), true), at(HEARTBEAT)).state();
            steps++;
        }
        this.heartbeatStepMillis = (System.nanoTime() - roundStarted) / 1e6 / others.size();
        state = core.step(state, storage(hosts, FAILED_READING, false), at(FAILED_READING)).state();
        steps += 2;
        this.preFence = state;
        this.fence = storage(hosts, LEASE_EXPIRED_READING, true);
        this.fenceNow = at(LEASE_EXPIRED_READING);
        this.setupSteps = steps;

        Map<String, HostStatus> statusesNow = state.hostStatuses();
        for (String h : hosts) {
            HostState expected = h.equals(FAILED_HOST) ? HostState.FAILED : HostState.CONNECTED;
            HostStatus hs = statusesNow.get(h);
            if (hs.state() != expected || (expected == HostState.CONNECTED && !hs.usable()))
                throw new IllegalStateException(h + " is " + hs.state() + " (connected " + hs.connected()
                        + ") before the fence; expected " + expected);
        }
        Map<String, VmStatus> vms = state.vmStatuses();
        for (String vm : failedVms)
            if (vms.get(vm).state() != VmState.RECOVERY)
                throw new IllegalStateException(vm + " is " + vms.get(vm).state() + " before the fence; expected recovery");
        this.setupMillis = (System.nanoTime() - started) / 1_000_000;
    }

    public static PlanScenario build(boolean withRules) {
        return new PlanScenario(withRules);
    }

    /** The measured step: the failed host's lease expires; it is fenced and its VMs are placed. */
    public Step plan() {
        return core.step(preFence, fence, fenceNow);
    }

    /** The StartVm commands of a step, by VM. */
    public static Map<String, String> starts(Step step) {
        Map<String, String> out = new TreeMap<>();
        for (HaCommand c : step.commands())
            if (c instanceof HaCommand.SendToAgent s && s.command() instanceof AgentCommand.StartVm start)
                out.put(start.vm(), s.host());
        return out;
    }

    /** Checks a plan places every VM of the failed host once, elsewhere; throws if not. Returns the StartVms. */
    public Map<String, String> check(Step step) {
        Map<String, String> starts = starts(step);
        if (starts.size() != FAILED_HOST_VMS || !starts.keySet().containsAll(failedHostVms))
            throw new IllegalStateException("the plan starts " + starts.size() + " VMs, not the " + FAILED_HOST_VMS
                    + " HA VMs of " + FAILED_HOST + ": the bench would measure nothing");
        if (starts.containsValue(FAILED_HOST)) throw new IllegalStateException("the plan starts a VM on the fenced host");
        HostStatus fenced = step.state().hostStatuses().get(FAILED_HOST);
        if (fenced.state() != HostState.FENCED) throw new IllegalStateException(FAILED_HOST + " is " + fenced.state());
        return starts;
    }

    private HaInput.StorageObserved storage(List<String> hosts, long failedUnchangedMillis, boolean failedExpired) {
        Map<String, HaInput.StorageView> views = new HashMap<>();
        for (String h : hosts)
            views.put(h, h.equals(FAILED_HOST) ? new HaInput.StorageView(1, failedUnchangedMillis, failedExpired)
                    : new HaInput.StorageView(1, 300, false));
        return new HaInput.StorageObserved(views);
    }

    /**
     * 500 rules (65 touching VMs of the failed host), preferred hosts and start-after dependencies. A VM is in at
     * most one rule; VMs with strict preferred hosts are in none, so that every VM of the failed host can be placed.
     */
    private static List<Rule> rulesAndPreferences(Random random, Map<String, VmSpec> specs, Map<String, String> where,
            List<String> failedVms, List<String> others) {
        Set<String> used = new LinkedHashSet<>();
        List<String> freeFailed = new ArrayList<>(failedVms);
        Map<String, List<String>> byHost = new TreeMap<>();
        for (Map.Entry<String, String> e : where.entrySet())
            if (!e.getValue().equals(FAILED_HOST)) byHost.computeIfAbsent(e.getValue(), k -> new ArrayList<>()).add(e.getKey());
        List<String> pool = new ArrayList<>();
        for (Map.Entry<String, String> e : where.entrySet()) if (!e.getValue().equals(FAILED_HOST)) pool.add(e.getKey());
        Collections.shuffle(pool, random);
        int[] next = {0};
        List<Rule> rules = new ArrayList<>();

        // 40 anti-affinity: one VM of the failed host with 1-4 VMs on distinct other hosts; a quarter strict.
        for (int i = 0; i < 40; i++) {
            List<String> vms = new ArrayList<>(List.of(freeFailed.remove(0)));
            vms.addAll(onDistinctHosts(pool, next, used, where, 1 + random.nextInt(4)));
            rules.add(new Rule(String.format("aa-failed-%02d", i), Rule.Type.ANTI_AFFINITY, vms, i % 4 == 0));
        }
        // 10 anti-affinity among VMs of the failed host only (groups of 2-5); a third strict.
        for (int i = 0; i < 10; i++) {
            int n = 2 + random.nextInt(4);
            List<String> vms = new ArrayList<>(freeFailed.subList(0, n));
            freeFailed.subList(0, n).clear();
            rules.add(new Rule(String.format("aa-spread-%02d", i), Rule.Type.ANTI_AFFINITY, vms, i % 3 == 0));
        }
        // 15 affinity: one VM of the failed host with 1-2 VMs that run together on one other host; 40% strict.
        for (int i = 0; i < 15; i++) {
            List<String> vms = new ArrayList<>(List.of(freeFailed.remove(0)));
            vms.addAll(coLocated(random, byHost, others, used, 1 + random.nextInt(2)));
            rules.add(new Rule(String.format("af-failed-%02d", i), Rule.Type.AFFINITY, vms, i % 5 < 2));
        }
        // 335 anti-affinity elsewhere: 2-5 VMs on distinct hosts; a fifth strict.
        for (int i = 0; i < 335; i++) {
            List<String> vms = onDistinctHosts(pool, next, used, where, 2 + random.nextInt(4));
            rules.add(new Rule(String.format("aa-%03d", i), Rule.Type.ANTI_AFFINITY, vms, i % 5 == 0));
        }
        // 100 affinity elsewhere: 2-3 VMs that run together; 30% strict.
        for (int i = 0; i < 100; i++) {
            List<String> vms = coLocated(random, byHost, others, used, 2 + random.nextInt(2));
            rules.add(new Rule(String.format("af-%03d", i), Rule.Type.AFFINITY, vms, i % 10 < 3));
        }
        if (rules.size() != RULES) throw new IllegalStateException(rules.size() + " rules");

        // Preferred hosts: 30 VMs of the failed host outside rules (6 strictly), 1,000 VMs elsewhere (softly);
        // start-after: 10 VMs of the failed host after 1-2 VMs running elsewhere.
        for (int i = 0; i < 30; i++) {
            String vm = freeFailed.remove(0);
            specs.put(vm, specs.get(vm).withPreferredHosts(preferences(random, others), i % 5 == 0));
        }
        for (int i = 0; i < 1000; i++) {
            String vm = pool.get(next[0]++);
            specs.put(vm, specs.get(vm).withPreferredHosts(preferences(random, others), false));
        }
        for (int i = 0; i < 10; i++) {
            String vm = freeFailed.remove(0);
            List<String> after = new ArrayList<>();
            for (int k = 1 + random.nextInt(2); k > 0; k--) after.add(pool.get(next[0]++));
            specs.put(vm, specs.get(vm).withStartAfter(after, 120));
        }
        return rules;
    }

    private static List<String> onDistinctHosts(List<String> pool, int[] next, Set<String> used,
            Map<String, String> where, int n) {
        List<String> vms = new ArrayList<>();
        Set<String> hosts = new LinkedHashSet<>();
        while (vms.size() < n) {
            String vm = pool.get(next[0]++);
            if (used.contains(vm) || !hosts.add(where.get(vm))) continue;
            used.add(vm);
            vms.add(vm);
        }
        return vms;
    }

    private static List<String> coLocated(Random random, Map<String, List<String>> byHost, List<String> others,
            Set<String> used, int n) {
        while (true) {
            List<String> candidates = new ArrayList<>(byHost.get(others.get(random.nextInt(others.size()))));
            candidates.removeAll(used);
            if (candidates.size() < n) continue;
            List<String> vms = new ArrayList<>(candidates.subList(0, n));
            used.addAll(vms);
            return vms;
        }
    }

    private static List<HostPreference> preferences(Random random, List<String> others) {
        List<HostPreference> out = new ArrayList<>();
        Set<String> seen = new LinkedHashSet<>();
        for (int n = 1 + random.nextInt(3); seen.size() < n; ) {
            String h = others.get(random.nextInt(others.size()));
            if (seen.add(h)) out.add(new HostPreference(h, 10 * (n - out.size())));
        }
        return out;
    }

    private static Now at(long millis) {
        return new Now(T0_NANOS + millis * 1_000_000L, T0_MILLIS + millis);
    }

    static String host(int i) {
        return String.format("h%04d", i);
    }

    private static String uuid(String vm) {
        return java.util.UUID.nameUUIDFromBytes(vm.getBytes(java.nio.charset.StandardCharsets.UTF_8)).toString();
    }

    @SafeVarargs
    private static <T> T pick(Random random, T... choices) {
        return choices[random.nextInt(choices.length)];
    }

    private static long pickMiB(Random random, long... choices) {
        return choices[random.nextInt(choices.length)];
    }
}
