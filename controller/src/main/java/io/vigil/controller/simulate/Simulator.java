package io.vigil.controller.simulate;

import io.vigil.controller.ha.ClusterEvent;
import io.vigil.controller.ha.ClusterPolicy;
import io.vigil.controller.ha.ClusterState;
import io.vigil.controller.ha.FailoverReserve;
import io.vigil.controller.ha.MoveKind;
import io.vigil.controller.ha.RequestedState;
import io.vigil.controller.ha.HaCommand;
import io.vigil.controller.ha.HaCore;
import io.vigil.controller.ha.HaInput;
import io.vigil.controller.ha.HostState;
import io.vigil.controller.ha.HostStatus;
import io.vigil.controller.ha.Now;
import io.vigil.controller.ha.Step;
import io.vigil.controller.ha.VmSpec;
import io.vigil.controller.ha.VmState;
import io.vigil.controller.ha.VmStatus;
import io.vigil.protocol.AgentCommand;
import io.vigil.protocol.VmReport;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Runs a {@link Scenario}: the real {@link HaCore} against {@link SimulatedAgent}s on a virtual clock that starts at 0
 * (monotonic and wall clock alike) and advances in {@value #STEP_MILLIS} ms steps. Each step: the scenario's actions
 * that are due, the agents' timers (storage heartbeat, self-fence, isolation response), a storage reading for the
 * core, network heartbeats on every heartbeat interval, a Tick; the agents' command results are fed back after each
 * input. The VMs of the scenario run on their hosts at t = 0 and the core is handed them as a controller that
 * restarts would find them (specs, statuses, host records), so it starts from a converged cluster.
 *
 * <p>Besides the core's events the log holds the scenario's actions ({@code scenario-action}), what agents did on
 * their own ({@code agent-self-fenced}, {@code agent-isolated}) and, should the core ever run a VM on two live hosts,
 * {@code simulator-invariant-violated}.
 */
public final class Simulator {
    static final long STEP_MILLIS = 250;

    private final Scenario scenario;
    private final HaCore core = new HaCore();
    private final Map<String, SimulatedAgent> agents = new TreeMap<>();
    private final Deque<HaInput> inbox = new ArrayDeque<>();
    private final Map<String, Integer> failStarts = new HashMap<>();
    /** Memory states saved on shared storage by SaveVm, until a StartVm restores them. */
    private final Set<String> savedStates = new HashSet<>();
    private final Map<String, String> lastHost = new TreeMap<>();
    private final Set<String> violations = new HashSet<>();
    private final List<SimulationResult.Event> events = new ArrayList<>();
    private ClusterState state;
    private Now now = new Now(0, 0);

    public Simulator(Scenario scenario) {
        this.scenario = scenario;
    }

    public static SimulationResult run(Scenario scenario) {
        return new Simulator(scenario).run();
    }

    public SimulationResult run() {
        start();
        List<Scenario.Action> actions = scenario.actions();
        int next = 0;
        long end = scenario.untilMillis();
        for (long elapsed = 0; ; elapsed += STEP_MILLIS) {
            if (elapsed > 0) {
                now = new Now(elapsed * 1_000_000L, elapsed);
            }
            while (next < actions.size() && actions.get(next).atMillis() <= elapsed) apply(actions.get(next++));
            if (elapsed > 0) tick(elapsed);
            if (elapsed + STEP_MILLIS > end) break;
        }
        return result();
    }

    // ---- the start ---------------------------------------------------------------------------------------------

    private void start() {
        List<VmSpec> specs = new ArrayList<>();
        List<VmStatus> statuses = new ArrayList<>();
        Map<String, List<String>> onHost = new TreeMap<>();
        Map<String, Long> used = new HashMap<>();
        for (Scenario.Host h : scenario.hosts()) {
            SimulatedAgent a = new SimulatedAgent(h.name(), h.memoryMiB(), h.cpus(), now);
            if (!h.online()) a.fail();
            agents.put(h.name(), a);
            onHost.put(h.name(), new ArrayList<>());
        }
        for (Scenario.Vm vm : scenario.vms()) {
            if (vm.host() == null) continue;
            specs.add(vm.spec());
            statuses.add(new VmStatus(vm.name(), vm.host(), VmState.RUNNING, 1, null, 0));
            agents.get(vm.host()).run(vm.name(), vm.spec().memoryMiB(), vm.spec().vcpus(), 1);
            onHost.get(vm.host()).add(vm.name());
            used.merge(vm.host(), vm.spec().memoryMiB(), Long::sum);
        }
        List<HostStatus> hosts = new ArrayList<>();
        for (SimulatedAgent a : agents.values())
            if (a.alive)
                hosts.add(new HostStatus(a.name, HostState.CONNECTED, a.generation, a.cpus, a.memoryMiB,
                        used.getOrDefault(a.name, 0L), false, true, List.copyOf(onHost.get(a.name)), 0, 0));
        state = ClusterState.restore(scenario.policy(), specs, statuses, hosts, scenario.rules());
        for (SimulatedAgent a : agents.values()) if (a.alive) feed(a.hello());
        for (Scenario.Vm vm : scenario.vms()) {
            if (vm.host() != null) continue;
            VmSpec spec = vm.spec();
            if (spec.requestedState() == RequestedState.STARTED && !admitted(spec, false, "created")) {
                spec = spec.withRequested(RequestedState.STOPPED);
            }
            feed(new HaInput.VmSpecChanged(spec));
        }
    }

    /** The domain XML the simulator gives a VM (the core only passes it on). */
    static String domainXml(String name, long memoryMiB, int cpus) {
        return "<domain type='kvm'><name>" + name + "</name><memory unit='MiB'>" + memoryMiB
                + "</memory><vcpu>" + cpus + "</vcpu></domain>";
    }

    /**
     * Admission control, as the REST API applies it before it stores a request: an HA VM that would break the
     * failure tolerance is refused (admission-refused) unless {@code override} (admission-overridden).
     */
    private boolean admitted(VmSpec spec, boolean override, String what) {
        FailoverReserve.Admission a = state.view().admit(spec);
        if (a.admitted()) return true;
        if (override) {
            log("admission-overridden", null, spec.name(), spec.name() + " " + what + " although " + a.reason()
                    + " (override)");
            return true;
        }
        log("admission-refused", null, spec.name(), spec.name() + " not " + what + ": " + a.reason());
        return false;
    }

    // ---- one step of the world ---------------------------------------------------------------------------------

    private void tick(long elapsed) {
        ClusterPolicy policy = state.policy();
        for (SimulatedAgent a : agents.values()) {
            String did = a.tick(now, elapsed, policy, this::haEnabled);
            if (did != null) log(did.startsWith("self-fenced") ? "agent-self-fenced"
                    : did.startsWith("shut down") ? "agent-shut-down" : "agent-isolated", a.name, null, did);
        }
        Map<String, HaInput.StorageView> views = new TreeMap<>();
        for (SimulatedAgent a : agents.values()) views.put(a.name, a.storageView(now, policy));
        feed(new HaInput.StorageObserved(views));
        if (elapsed % (policy.heartbeatIntervalSeconds() * 1000L) == 0)
            for (SimulatedAgent a : agents.values()) if (a.reachable()) feed(a.heartbeat());
        feed(new HaInput.Tick());
    }

    private boolean haEnabled(String vm) {
        VmSpec spec = state.specs().get(vm);
        return spec != null && spec.haEnabled();
    }

    private void apply(Scenario.Action a) {
        log("scenario-action", a.host(), a.vm(), a.describe() + " (line " + a.line() + ")");
        SimulatedAgent agent = a.host() == null ? null : agents.get(a.host());
        switch (a.action()) {
            case "fail-host" -> agent.fail();
            case "isolate-host" -> agent.network = false;
            case "lose-storage" -> agent.storage = false;
            case "recover-host" -> {
                agent.recover(now, state.policy());
                feed(agent.hello());
            }
            case "maintenance" -> feed(new HaInput.MaintenanceRequested(a.host(), a.enabled()));
            case "shutdown-host" -> {
                if (!agent.reachable()) return;
                agent.beginShutdown(now);
                feed(new HaInput.HostShuttingDown(a.host(), "scenario: clean shutdown of " + a.host()));
            }
            case "migrate" -> feed(new HaInput.MoveRequested(a.vm(), a.to(), MoveKind.MIGRATE));
            case "relocate" -> feed(new HaInput.MoveRequested(a.vm(), a.to(), MoveKind.RELOCATE));
            case "start" -> {
                VmSpec spec = state.specs().get(a.vm()).withRequested(RequestedState.STARTED);
                if (admitted(spec, a.override(), "started")) feed(new HaInput.VmSpecChanged(spec));
            }
            case "stop" -> feed(new HaInput.VmSpecChanged(state.specs().get(a.vm())
                    .withRequested(RequestedState.STOPPED)));
            case "set-vm" -> {
                VmSpec before = state.specs().get(a.vm());
                VmSpec after;
                try {
                    @SuppressWarnings("unchecked")
                    Map<String, YamlNode> fields = (Map<String, YamlNode>) (Map<String, ?>) a.vmFields();
                    after = ScenarioParser.vmSettings(before, fields, new YamlNode(fields, a.line()),
                            agents.keySet(), state.specs().keySet());
                } catch (ScenarioException e) {
                    log("vm-settings-refused", null, a.vm(), e.getMessage());
                    return;
                }
                boolean check = after.restartable() && (!before.restartable() || after.memoryMiB() > before.memoryMiB());
                if (!check || admitted(after, a.override(), "changed")) feed(new HaInput.VmSpecChanged(after));
            }
            case "set-policy" -> feed(new HaInput.PolicyChanged(a.policy()));
            case "fail-start" -> failStarts.merge(a.vm(), a.count(), Integer::sum);
            case "restart-controller" -> {
                // What a new leader finds in the store: specs, statuses, hosts, rules; nothing in flight.
                state = ClusterState.restore(state.policy(), state.specs().values(), state.vmStatuses().values(),
                        state.hostStatuses().values(), state.rules().values());
                log("controller-restarted", null, null, "the HA core restarts from stored state");
            }
            default -> throw new IllegalStateException("action " + a.action() + " passed the parser");
        }
    }

    /** Steps the core with {@code input}, carries out its commands, then feeds the agents' answers. */
    private void feed(HaInput input) {
        inbox.add(input);
        while (!inbox.isEmpty()) {
            Step step = core.step(state, inbox.poll(), now);
            state = step.state();
            for (HaCommand c : step.commands()) carryOut(c);
            observe();
        }
    }

    private void carryOut(HaCommand c) {
        if (c instanceof HaCommand.RecordEvent r) {
            ClusterEvent e = r.event();
            events.add(new SimulationResult.Event(e.timeMillis(), e.type(), e.host(), e.vm(), e.message()));
        } else if (c instanceof HaCommand.SendToAgent s) {
            SimulatedAgent a = agents.get(s.host());
            if (a == null || !a.reachable()) return; // lost: the core's timeout decides
            inbox.add(answer(a, s.command()));
        } else if (c instanceof HaCommand.TellLostVms t) {
            SimulatedAgent a = agents.get(t.host());
            if (a != null && a.reachable()) for (String vm : t.vms()) a.domains.remove(vm);
        } else if (c instanceof HaCommand.ClearShutdown cs) {
            SimulatedAgent a = agents.get(cs.host());
            if (a != null && a.reachable() && a.shuttingDown) {
                String left = a.shutDown();
                log("agent-shut-down", a.name, null, "cleared by the controller; the host powers off" + left);
            }
        }
        // BroadcastPolicy: the agents read the policy from the state. ForgetVm: nothing is stored.
    }

    private HaInput answer(SimulatedAgent a, AgentCommand command) {
        if (command instanceof AgentCommand.StartVm start) {
            int failures = failStarts.getOrDefault(start.vm(), 0);
            if (failures > 0) {
                failStarts.put(start.vm(), failures - 1);
                return new HaInput.CommandCompleted(a.name, start.id(), start.vm(), false,
                        "simulated start failure (fail-start)", 0);
            }
            if (!a.storageOk)
                return new HaInput.CommandCompleted(a.name, start.id(), start.vm(), false,
                        "cannot acquire the disk lease: shared storage lost", 0);
            VmSpec vm = state.specs().get(start.vm());
            a.run(start.vm(), vm.memoryMiB(), vm.vcpus(), start.generation());
            String detail = start.restoreFrom() == null ? null
                    : savedStates.remove(start.restoreFrom()) ? "restored from saved state"
                    : "cold start: no saved state at " + start.restoreFrom();
            // Its caches are imaginary: giving memory back takes no time.
            if (start.reclaimMiB() > 0)
                detail = "reclaimed " + start.reclaimMiB() + " MiB of cache in 0 ms"
                        + (detail == null ? "" : "; " + detail);
            return new HaInput.CommandCompleted(a.name, start.id(), start.vm(), true, null, start.generation(), detail);
        }
        if (command instanceof AgentCommand.SaveVm save) {
            if (a.domains.remove(save.vm()) == null)
                return new HaInput.CommandCompleted(a.name, save.id(), save.vm(), false, save.vm() + " does not run here", 0);
            savedStates.add(save.saveTo());
            return new HaInput.CommandCompleted(a.name, save.id(), save.vm(), true, null, 0);
        }
        a.domains.remove(command.vm()); // StopVm, DestroyVm, UndefineVm
        return new HaInput.CommandCompleted(a.name, command.id(), command.vm(), true, null, 0);
    }

    /** Remembers where each VM was last, and checks that no VM runs on two live hosts. */
    private void observe() {
        for (VmStatus v : state.vmStatuses().values()) if (v.host() != null) lastHost.put(v.name(), v.host());
        Map<String, List<String>> runningOn = new TreeMap<>();
        for (SimulatedAgent a : agents.values())
            if (a.alive)
                for (VmReport r : a.domains.values())
                    if (r.state().isActive()) runningOn.computeIfAbsent(r.name(), k -> new ArrayList<>()).add(a.name);
        runningOn.forEach((vm, hosts) -> {
            if (hosts.size() > 1 && violations.add(vm + hosts))
                log("simulator-invariant-violated", null, vm, vm + " runs on " + hosts + " at once");
        });
    }

    private void log(String type, String host, String vm, String detail) {
        events.add(new SimulationResult.Event(now.epochMillis(), type, host, vm, detail));
    }

    private SimulationResult result() {
        Map<String, SimulationResult.HostOutcome> hosts = new TreeMap<>();
        for (SimulatedAgent a : agents.values()) {
            HostStatus h = state.hostStatuses().get(a.name);
            hosts.put(a.name, new SimulationResult.HostOutcome(h == null ? "unknown" : h.state().wireName()));
        }
        Map<String, SimulationResult.VmOutcome> vms = new TreeMap<>();
        for (VmStatus v : state.vmStatuses().values())
            vms.put(v.name(), new SimulationResult.VmOutcome(v.host() != null ? v.host() : lastHost.get(v.name()),
                    v.state().wireName()));
        return new SimulationResult(scenario.until(), hosts, vms, List.copyOf(events));
    }
}
