package io.vigil.controller.ha;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.vigil.protocol.AgentCommand;
import io.vigil.protocol.HostInventory;
import io.vigil.protocol.VmPowerState;
import io.vigil.protocol.VmReport;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Drives the core on a virtual clock against simulated agents. Each simulated agent holds domains, heartbeats over
 * the network and on storage, answers commands (when {@link #autoRespond}), and fences itself when it cannot write
 * its storage heartbeat, like the real agent. After every step the harness checks that no VM runs on two hosts
 * (simulated truth) and that no VM is listed on two hosts by the core.
 */
final class FakeCluster {
    static final long HOST_MEMORY = 1024;
    private static final Pattern MEMORY = Pattern.compile("<memory unit='MiB'>(\\d+)</memory>");

    final HaCore core = new HaCore();
    ClusterState state;
    Now now = new Now(7_000_000_000L, 1_750_000_000_000L);
    final long startNanos = now.monotonicNanos();
    final List<ClusterEvent> events = new ArrayList<>();
    final List<HaCommand> allCommands = new ArrayList<>();
    List<HaCommand> lastCommands = List.of();
    final Map<String, Agent> agents = new TreeMap<>();
    final Deque<HaInput> inbox = new ArrayDeque<>();
    boolean autoRespond = true;
    /** Off only in tests that hand the core a VM running twice on purpose, to see how it answers. */
    boolean checkDoubleRuns = true;

    static final class Agent {
        final String name;
        long generation = 1;
        long memoryMiB = HOST_MEMORY;
        /** Process exists (SIGKILL ends it and its QEMU processes). */
        boolean alive = true;
        boolean network = true;
        boolean storage = true;
        boolean storageOk = true;
        long lastStorageWriteNanos;
        final Map<String, VmReport> domains = new TreeMap<>();
        final Set<String> refuse = new HashSet<>();
        /** Commands it received but does not answer. */
        boolean mute;
        /** Where this host's memory keeper serves its cache arenas (null: none). */
        io.vigil.protocol.memory.MemoryKeeperEndpoint memoryKeeper;

        Agent(String name) {
            this.name = name;
        }

        HostInventory inventory() {
            return new HostInventory(4, memoryMiB, memoryMiB, List.copyOf(domains.values()), memoryKeeper);
        }
    }

    FakeCluster() {
        this(ClusterState.initial(ClusterPolicy.DEFAULT));
    }

    FakeCluster(ClusterState initial) {
        state = initial;
    }

    // ---- driving the core ------------------------------------------------------------------------------------

    Step step(HaInput input) {
        Step step = core.step(state, input, now);
        assertNotNull(step.state());
        state = step.state();
        lastCommands = step.commands();
        allCommands.addAll(step.commands());
        for (HaCommand c : step.commands()) {
            if (c instanceof HaCommand.RecordEvent e) events.add(e.event());
            if (autoRespond && c instanceof HaCommand.SendToAgent s) carryOut(s);
            if (c instanceof HaCommand.TellLostVms t) {
                Agent a = agents.get(t.host());
                if (a != null && a.alive) for (String vm : t.vms()) a.domains.remove(vm);
            }
        }
        checkInvariants();
        return step;
    }

    /** Feeds queued agent results until none is left. */
    void deliver() {
        while (!inbox.isEmpty()) step(inbox.poll());
    }

    void advance(long millis) {
        now = now.plusMillis(millis);
    }

    long elapsedMillis() {
        return now.millisSince(startNanos);
    }

    /** Runs the world for {@code millis}: storage writes and readings every 250 ms, heartbeats every second. */
    void run(long millis) {
        long end = elapsedMillis() + millis;
        while (elapsedMillis() < end) {
            advance(250);
            for (Agent a : agents.values()) agentStorageTick(a);
            step(storageReading());
            if (elapsedMillis() % 1000 == 0)
                for (Agent a : agents.values()) if (a.alive && a.network) step(heartbeatOf(a));
            deliver();
            step(new HaInput.Tick());
            deliver();
        }
    }

    private void agentStorageTick(Agent a) {
        if (!a.alive) return;
        if (a.storage && elapsedMillis() % 1000 == 0) a.lastStorageWriteNanos = now.monotonicNanos();
        long leaseTimeout = state.policy().leaseTimeoutSeconds() * 1000L;
        long fenceAfter = leaseTimeout * 3 / 4 - 500;
        if (!a.storage && now.millisSince(a.lastStorageWriteNanos) > fenceAfter && a.storageOk) {
            a.storageOk = false; // self-fence: a lapsed host lease protects none of its domains
            a.domains.clear();
        }
    }

    HaInput.StorageObserved storageReading() {
        Map<String, HaInput.StorageView> views = new TreeMap<>();
        long leaseTimeout = state.policy().leaseTimeoutSeconds() * 1000L;
        for (Agent a : agents.values()) {
            long unchanged = now.millisSince(a.lastStorageWriteNanos);
            views.put(a.name, new HaInput.StorageView(a.generation, unchanged, unchanged >= leaseTimeout));
        }
        return new HaInput.StorageObserved(views);
    }

    /** A storage reading for one host, as the shell's storage watcher would report it. */
    void storage(String host, long generation, long unchangedMillis, boolean expired) {
        step(new HaInput.StorageObserved(Map.of(host, new HaInput.StorageView(generation, unchangedMillis, expired))));
        deliver();
    }

    // ---- simulated agents ------------------------------------------------------------------------------------

    Agent addHost(String name) {
        Agent a = new Agent(name);
        a.lastStorageWriteNanos = now.monotonicNanos();
        agents.put(name, a);
        step(new HaInput.AgentConnected(name, a.generation, a.inventory(), true));
        deliver();
        return a;
    }

    HaInput.AgentHeartbeat heartbeatOf(Agent a) {
        return new HaInput.AgentHeartbeat(a.name, a.generation, a.inventory(), a.storageOk);
    }

    void heartbeat(String host) {
        step(heartbeatOf(agents.get(host)));
        deliver();
    }

    /** SIGKILL of the agent and its QEMU processes. */
    void kill(String host) {
        Agent a = agents.get(host);
        a.alive = false;
        a.network = false;
        a.domains.clear();
    }

    /** The agent comes back as a new incarnation (new generation), without domains. */
    void restart(String host) {
        Agent a = agents.get(host);
        a.alive = true;
        a.network = true;
        a.storage = true;
        a.storageOk = true;
        a.generation++;
        a.domains.clear();
        a.lastStorageWriteNanos = now.monotonicNanos();
        step(new HaInput.AgentConnected(host, a.generation, a.inventory(), true));
        deliver();
    }

    private void carryOut(HaCommand.SendToAgent s) {
        Agent a = agents.get(s.host());
        if (a == null || !a.alive || !a.network || a.mute) return; // lost; the core's timeout decides
        AgentCommand c = s.command();
        boolean ok = true;
        String error = null;
        long generation = 0;
        if (c instanceof AgentCommand.StartVm start) {
            if (a.refuse.contains(start.vm()) || !a.storageOk) {
                ok = false;
                error = "lease held by another host";
            } else {
                Matcher m = MEMORY.matcher(start.domainXml());
                long memory = m.find() ? Long.parseLong(m.group(1)) : 64;
                a.domains.put(start.vm(), new VmReport(start.vm(), "uuid-" + start.vm(), VmPowerState.RUNNING, memory,
                        1, start.generation()));
                generation = start.generation();
            }
        } else {
            a.domains.remove(c.vm());
        }
        inbox.add(new HaInput.CommandCompleted(s.host(), c.id(), c.vm(), ok, error, generation));
    }

    /** Every event is stamped with the time of the input that caused it and says what happened and why. */
    private void checkEvents(List<HaCommand> commands) {
        for (HaCommand c : commands) {
            if (!(c instanceof HaCommand.RecordEvent r)) continue;
            ClusterEvent e = r.event();
            assertEquals(now.epochMillis(), e.timeMillis(), e.type());
            assertTrue(e.cause() != null && !e.cause().isBlank(), "cause of " + e);
            assertTrue(e.message() != null && !e.message().isBlank(), "message of " + e);
            assertNotNull(e.details(), "details of " + e);
            if (e.type().startsWith("host-")) assertNotNull(e.host(), "host of " + e);
            if (e.type().startsWith("vm-")) assertNotNull(e.vm(), "vm of " + e);
            assertEquals(0, e.sequence());
        }
    }

    private void checkInvariants() {
        checkEvents(lastCommands);
        Map<String, List<String>> runningOn = new HashMap<>();
        for (Agent a : agents.values())
            if (a.alive)
                for (VmReport r : a.domains.values())
                    if (r.state().isActive()) runningOn.computeIfAbsent(r.name(), k -> new ArrayList<>()).add(a.name);
        for (Map.Entry<String, List<String>> e : runningOn.entrySet())
            if (checkDoubleRuns && e.getValue().size() > 1) fail(e.getKey() + " runs on " + e.getValue() + " at " + elapsedMillis() + " ms");
        Map<String, String> listed = new HashMap<>();
        for (HostStatus h : state.hostStatuses().values())
            for (String vm : h.vms()) {
                String other = listed.put(vm, h.name());
                if (other != null) fail(vm + " is listed on " + other + " and " + h.name());
            }
    }

    // ---- VMs ---------------------------------------------------------------------------------------------------

    static VmSpec spec(String name, long memoryMiB, boolean ha, Priority priority, RequestedState desired) {
        String xml = "<domain type='kvm'><name>" + name + "</name><memory unit='MiB'>" + memoryMiB
                + "</memory><vcpu>1</vcpu></domain>";
        return new VmSpec(name, xml, memoryMiB, 1, ha, priority, desired, 0);
    }

    void create(String name, long memoryMiB, boolean ha, Priority priority) {
        step(new HaInput.VmSpecChanged(spec(name, memoryMiB, ha, priority, RequestedState.STARTED)));
        deliver();
    }

    void create(VmSpec spec) {
        step(new HaInput.VmSpecChanged(spec));
        deliver();
    }

    void desire(String name, RequestedState desired) {
        step(new HaInput.VmSpecChanged(state.specs().get(name).withRequested(desired)));
        deliver();
    }

    VmStatus vm(String name) {
        return state.vmStatuses().get(name);
    }

    HostStatus host(String name) {
        return state.hostStatuses().get(name);
    }

    List<String> eventTypes() {
        return events.stream().map(ClusterEvent::type).collect(Collectors.toList());
    }

    List<ClusterEvent> events(String type) {
        return events.stream().filter(e -> e.type().equals(type)).collect(Collectors.toList());
    }

    ClusterEvent lastEvent(String type) {
        List<ClusterEvent> found = events(type);
        assertTrue(!found.isEmpty(), "no " + type + " event in " + eventTypes());
        return found.get(found.size() - 1);
    }

    <T extends AgentCommand> List<HaCommand.SendToAgent> sent(Class<T> kind) {
        return allCommands.stream().filter(c -> c instanceof HaCommand.SendToAgent s && kind.isInstance(s.command()))
                .map(c -> (HaCommand.SendToAgent) c).collect(Collectors.toList());
    }

    <T extends AgentCommand> List<HaCommand.SendToAgent> lastSent(Class<T> kind) {
        return lastCommands.stream().filter(c -> c instanceof HaCommand.SendToAgent s && kind.isInstance(s.command()))
                .map(c -> (HaCommand.SendToAgent) c).collect(Collectors.toList());
    }

    /** Where each VM runs according to the simulated agents. */
    Map<String, String> truth() {
        Map<String, String> out = new TreeMap<>();
        for (Agent a : agents.values())
            if (a.alive) for (VmReport r : a.domains.values()) if (r.state().isActive()) out.put(r.name(), a.name);
        return out;
    }

    void assertVm(String name, VmState state, String host) {
        VmStatus v = vm(name);
        assertNotNull(v, name + " unknown");
        assertEquals(state, v.state(), name + " state; events " + eventTypes());
        assertEquals(host, v.host(), name + " host");
    }

    static Set<String> ordered(String... values) {
        return new LinkedHashSet<>(List.of(values));
    }
}
