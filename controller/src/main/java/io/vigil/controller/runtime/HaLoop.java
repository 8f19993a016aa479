package io.vigil.controller.runtime;

import io.vigil.controller.ha.ClusterPolicy;
import io.vigil.controller.ha.ClusterState;
import io.vigil.controller.ha.HaCommand;
import io.vigil.controller.ha.HaCore;
import io.vigil.controller.ha.HaInput;
import io.vigil.controller.ha.HostState;
import io.vigil.controller.ha.HostStatus;
import io.vigil.controller.ha.Now;
import io.vigil.controller.ha.Step;
import io.vigil.controller.ha.VmStatus;
import io.vigil.controller.store.ClusterStore;
import io.vigil.protocol.ControllerMessage;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The imperative shell around the HA core: one thread owns the {@link ClusterState}, feeds every input to
 * {@link HaCore#step}, carries out the commands, and writes the changed VM and host statuses to the store after
 * each step. Inputs come from the agent gateway, the storage watcher, the store's change listeners (specs, policy,
 * rules, maintenance requests), the operator's move requests and a 250 ms tick; they may be submitted from any
 * thread. Repeats of a libvirt lifecycle event within seconds are folded before the core sees them
 * ({@link LifecycleCoalescing}).
 *
 * <p>Only the leader (the oldest Hazelcast member) runs the core. A member that is not the leader holds no state and
 * drops inputs; when it becomes the leader it rebuilds the state from the store ({@link ClusterState#restore}) and
 * carries on, level-triggered: the agents' next heartbeats fill in what the store did not keep. A maintenance request
 * stored before the previous leader acted on it (the host's stored status does not show it yet) is carried out once
 * the host is heard from again. Agent inputs from
 * every member reach the leader's loop (relayed by {@code AgentRelay}), each with the connection it came from, so
 * that a disconnect from a connection the host has since replaced is dropped ({@link AgentConnections}); and the
 * {@link AgentLink} the loop is given delivers its messages wherever the host's connection is.
 *
 * <p>A failing step (a bug in the core, or the store unreachable) is logged and skipped; it never stops the loop.
 */
public final class HaLoop implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(HaLoop.class);
    public static final long TICK_MILLIS = 250;

    private final ClusterStore store;
    private volatile MoveRequests moves; // set once before start
    private final java.util.function.LongSupplier epoch;
    private final AgentLink agents;
    private final ClusterPolicy fallbackPolicy;
    /** With a leader lease, no command leaves without its epoch (tests of the loop alone run without one). */
    private final boolean requiresEpoch;
    private final HaCore core = new HaCore();
    private final ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "vigil-ha-loop");
        t.setDaemon(true);
        return t;
    });
    /** Writes a step's decisions to storage side by side (they are independent keys). */
    private final java.util.concurrent.ExecutorService persisters = Executors.newFixedThreadPool(8, r -> {
        Thread t = new Thread(r, "vigil-ha-persist");
        t.setDaemon(true);
        return t;
    });
    private ClusterState state; // owned by the loop thread; null while not leader or not yet restored
    private final AgentConnections connections = new AgentConnections(); // owned by the loop thread
    private final CacheBudgetSender cacheBudgets; // owned by the loop thread
    private final LifecycleCoalescing lifecycle = new LifecycleCoalescing(); // owned by the loop thread
    /** Stored maintenance requests the restored state does not show, by host; owned by the loop thread. */
    private final Map<String, Boolean> unappliedMaintenance = new TreeMap<>();
    private long lastFailureLogNanos;
    private int stepsSinceTrim;

    public HaLoop(ClusterStore store, AgentLink agents, ClusterPolicy fallbackPolicy) {
        this(store, agents, fallbackPolicy, () -> 0, false);
    }

    /**
     * @param epoch the leader lease's epoch while this controller leads (0 otherwise): stamped on every command, so
     *              that agents refuse the commands of a leader that has since been replaced
     */
    public HaLoop(ClusterStore store, AgentLink agents, ClusterPolicy fallbackPolicy, java.util.function.LongSupplier epoch) {
        this(store, agents, fallbackPolicy, epoch, true);
    }

    private HaLoop(ClusterStore store, AgentLink agents, ClusterPolicy fallbackPolicy, java.util.function.LongSupplier epoch,
                   boolean requiresEpoch) {
        this.epoch = epoch;
        this.requiresEpoch = requiresEpoch;
        this.store = store;
        this.agents = agents;
        this.fallbackPolicy = fallbackPolicy;
        this.cacheBudgets = new CacheBudgetSender(agents);
    }

    /** The durable move requests, taken off once the core has acted on them and replayed by a new leader. */
    public void takeMovesFrom(MoveRequests moves) {
        this.moves = moves;
    }

    public void start() {
        thread.scheduleAtFixedRate(() -> handle(new HaInput.Tick()), TICK_MILLIS, TICK_MILLIS, TimeUnit.MILLISECONDS);
    }

    /** Queues {@code input} for the loop; safe from any thread. */
    public void submit(HaInput input) {
        submit(null, input);
    }

    /**
     * Queues an agent's {@code input} that arrived on {@code connection} (a cluster-wide connection name), on this
     * member or relayed from another; safe from any thread. Inputs keep the order they are submitted in.
     */
    public void submitFromAgent(String connection, HaInput input) {
        submit(Objects.requireNonNull(connection), input);
    }

    /**
     * Queues a {@link HaInput.RulesChanged} with every stored rule, read on the loop thread when its turn comes (so
     * that the store's listener thread never waits for the store, and the latest rules win).
     */
    public void submitRulesChanged() {
        try {
            thread.execute(() -> {
                if (!store.isLocalLeader()) return;
                HaInput input;
                try {
                    input = new HaInput.RulesChanged(store.rules());
                } catch (RuntimeException e) {
                    log.warn("could not read the placement rules: {}", e.toString());
                    return;
                }
                handle(null, input);
            });
        } catch (RejectedExecutionException e) {
            log.debug("loop stopped; dropped a rules change");
        }
    }

    private void submit(String connection, HaInput input) {
        try {
            thread.execute(() -> handle(connection, input));
        } catch (RejectedExecutionException e) {
            log.debug("loop stopped; dropped {}", input.getClass().getSimpleName());
        }
    }

    private void handle(HaInput input) {
        handle(null, input);
    }

    private void handle(String connection, HaInput input) {
        try {
            if (!store.isLocalLeader()) {
                if (state != null) log.info("no longer the leader controller: the HA core stops here");
                state = null;
                connections.clear();
                cacheBudgets.clear();
                lifecycle.clear();
                unappliedMaintenance.clear();
                return;
            }
            if (connection != null && !connections.admit(connection, input)) {
                log.info("ignored {} from connection {}: the host has connected again since", input, connection);
                return;
            }
            if (state == null) {
                store.maps().resyncAll(); // storage is the truth: a cache that missed writes (a split) catches up first
                state = restore();
                log.info("leader controller: HA core restored with {} VMs and {} hosts", state.specs().size(),
                        state.hostStatuses().size());
                noteUnappliedMaintenance();
                replayMoves();
                publishAll();
            }
            if (input instanceof HaInput.MaintenanceRequested m) unappliedMaintenance.remove(m.host());
            if (input instanceof HaInput.VmLifecycleObserved l) {
                var kept = lifecycle.admit(l, System.nanoTime());
                if (kept.isEmpty()) return; // a repeat, counted in the next one passed on
                input = kept.get();
            }
            ClusterState before = state;
            Step step = core.step(before, input, new Now(System.nanoTime(), System.currentTimeMillis()));
            // Write-ahead: the placements and host decisions this step made are durable before any command that
            // follows from them leaves (see Step). If persisting fails, the step is dropped whole (state and commands):
            // the core stays where storage is, and the next inputs (agents repeat their state every heartbeat) make
            // the decision again once storage is back.
            persist(before, step.state());
            state = step.state();
            if (input instanceof HaInput.MoveRequested m && moves != null) moves.taken(m); // its decision is durable now
            for (HaCommand command : step.commands()) {
                try {
                    execute(command);
                } catch (RuntimeException e) {
                    log.warn("could not carry out {}: {}", command, e.toString());
                }
            }
            sendCacheBudgets(input);
            replayMaintenance();
            if (++stepsSinceTrim >= 1000) {
                stepsSinceTrim = 0;
                store.trimEvents();
            }
        } catch (RuntimeException e) {
            // Rate-limited: with the core unavailable every tick would fail.
            long now = System.nanoTime();
            if (now - lastFailureLogNanos > TimeUnit.SECONDS.toNanos(10)) {
                lastFailureLogNanos = now;
                log.error("HA step failed on {} (input skipped)", input.getClass().getSimpleName(), e);
            }
        }
    }

    /**
     * Each agent's cache budgets follow the state: sent when they change, and again to a host that said Hello (its
     * Welcome has gone out on the new connection by then) or lost its connection.
     */
    private void sendCacheBudgets(HaInput input) {
        if (input instanceof HaInput.AgentConnected c) cacheBudgets.forget(c.host());
        if (input instanceof HaInput.AgentDisconnected d) cacheBudgets.forget(d.host());
        try {
            cacheBudgets.update(state.cacheBudgets());
        } catch (RuntimeException e) {
            log.warn("could not send cache budgets: {}", e.toString());
        }
    }

    /**
     * The core's state from what storage kept: the desired state, the last durable placement of each VM and the last
     * decision about each host. Live figures come back with the agents' next heartbeats; a restored host counts as not
     * heard from, so it is judged only after a failure timeout of silence from now (the cold start of a whole control
     * plane therefore moves nothing that its agents still report).
     */
    private ClusterState restore() {
        ClusterPolicy policy = store.policy().orElse(fallbackPolicy);
        return ClusterState.restore(policy, store.specs(), store.vmPlacements(), store.hostRecords(), store.rules());
    }

    /**
     * Writes this leader's whole view to the status maps readers use where they differ, and removes what it does not
     * have: after a restore (a cold start left them empty), and every resync interval (a member that was frozen or
     * split off may have brought its old copies back with a Hazelcast merge). Durable placements need no republishing:
     * they were written ahead of every decision.
     */
    private void publishAll() {
        state.vmStatuses().values().forEach(store::publishVmStatus);
        state.hostStatuses().values().forEach(store::publishHostStatus);
        java.util.Set<String> vms = state.vmStatuses().keySet();
        for (VmStatus v : store.vmStatuses()) if (!vms.contains(v.name())) store.removeVmStatus(v.name());
        java.util.Set<String> hosts = state.hostStatuses().keySet();
        for (HostStatus h : store.hostStatuses()) if (!hosts.contains(h.name())) store.removeHostStatus(h.name());
    }

    /** Queues {@link #publishAll} on the loop; safe from any thread (a Hazelcast merge listener). */
    public void republish() {
        try {
            thread.execute(() -> {
                try {
                    if (state != null && store.isLocalLeader()) publishAll();
                } catch (RuntimeException e) {
                    log.warn("could not republish the leader's view: {}", e.toString());
                }
            });
        } catch (RejectedExecutionException e) {
            log.debug("loop stopped; no republish");
        }
    }

    /** The move requests a previous leader never took: queued again, behind the restore. */
    private void replayMoves() {
        if (moves == null) return;
        for (MoveRequests.Request r : moves.pending()) {
            log.info("carrying out the stored move request for {} ({}, target {})", r.vm(), r.kind(), r.target());
            submit(r.input());
        }
    }

    private void noteUnappliedMaintenance() {
        unappliedMaintenance.clear();
        Map<String, HostStatus> hosts = state.hostStatuses();
        store.maintenanceRequests().forEach((host, request) -> {
            HostStatus h = hosts.get(host);
            if (h != null && h.maintenance() != request.enabled()) unappliedMaintenance.put(host, request.enabled());
        });
        if (!unappliedMaintenance.isEmpty())
            log.info("maintenance requests not yet carried out: {}", unappliedMaintenance);
    }

    /**
     * Queues each unapplied maintenance request once its host can take it: at once to end maintenance, when the host
     * is connected again to start it (a restored host counts as not connected until it is heard from, and the core
     * refuses maintenance for an offline host). Each is queued at most once per leadership.
     */
    private void replayMaintenance() {
        if (unappliedMaintenance.isEmpty()) return;
        Map<String, HostStatus> hosts = state.hostStatuses();
        var it = unappliedMaintenance.entrySet().iterator();
        while (it.hasNext()) {
            var e = it.next();
            HostStatus h = hosts.get(e.getKey());
            if (h == null || h.maintenance() == e.getValue()) {
                it.remove();
            } else if (!e.getValue() || h.state() == HostState.CONNECTED && h.connected()) {
                it.remove();
                log.info("carrying out the stored maintenance request for {} (enabled: {})", e.getKey(), e.getValue());
                submit(new HaInput.MaintenanceRequested(e.getKey(), e.getValue()));
            }
        }
    }

    private void execute(HaCommand command) {
        if (command instanceof HaCommand.SendToAgent s) {
            long e = epoch.getAsLong();
            if (e == 0 && requiresEpoch) {
                log.warn("not the leader any more: {} not sent", s.command().id());
                return;
            }
            if (!agents.send(s.host(), new ControllerMessage.Command(s.command(), e)))
                log.info("host {} is connected to no controller; {} not delivered (the core retries)", s.host(),
                        s.command().id());
        } else if (command instanceof HaCommand.TellLostVms t) {
            agents.send(t.host(), new ControllerMessage.LostVms(t.vms()));
        } else if (command instanceof HaCommand.BroadcastPolicy b) {
            agents.broadcast(new ControllerMessage.PolicyUpdate(b.policy().agentPolicy()));
        } else if (command instanceof HaCommand.RecordEvent r) {
            var stored = store.appendEvent(r.event());
            log.info("event {} host={} vm={}: {}", stored.type(), stored.host(), stored.vm(), stored.message());
        } else if (command instanceof HaCommand.ForgetVm f) {
            store.removeSpec(f.vm());
            store.removeVmStatus(f.vm());
        } else if (command instanceof HaCommand.ClearShutdown c) {
            if (!agents.send(c.host(), new ControllerMessage.ShutdownCleared(c.detail())))
                log.info("host {} is connected to no controller; its shutdown clearance was not delivered", c.host());
        }
    }

    /** Writes what this step changed, so that REST readers on any member and a future leader see it. */
    private void persist(ClusterState before, ClusterState after) {
        List<Runnable> writes = new ArrayList<>();
        Map<String, VmStatus> oldVms = before.vmStatuses();
        Map<String, VmStatus> newVms = after.vmStatuses();
        if (oldVms != newVms) {
            newVms.forEach((name, s) -> {
                if (!Objects.equals(oldVms.get(name), s)) writes.add(() -> store.putVmStatus(s));
            });
            oldVms.keySet().forEach(name -> {
                if (!newVms.containsKey(name)) writes.add(() -> store.removeVmStatus(name));
            });
        }
        Map<String, HostStatus> oldHosts = before.hostStatuses();
        Map<String, HostStatus> newHosts = after.hostStatuses();
        if (oldHosts != newHosts) {
            newHosts.forEach((name, h) -> {
                if (!Objects.equals(oldHosts.get(name), h)) writes.add(() -> store.putHostStatus(h));
            });
            oldHosts.keySet().forEach(name -> {
                if (!newHosts.containsKey(name)) writes.add(() -> store.removeHostStatus(name));
            });
        }
        if (writes.size() == 1) {
            writes.get(0).run();
        } else if (!writes.isEmpty()) {
            // Each is a different key: independent fsyncs, done side by side, all finished before any command leaves.
            List<java.util.concurrent.Future<?>> done = new ArrayList<>();
            for (Runnable w : writes) done.add(persisters.submit(w));
            for (var f : done) {
                try {
                    f.get();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while persisting a step", e);
                } catch (java.util.concurrent.ExecutionException e) {
                    throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
                }
            }
        }
    }

    @Override
    public void close() {
        thread.shutdown();
        persisters.shutdown();
        try {
            thread.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
