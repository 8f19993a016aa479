package io.vigil.controller.ha;

import java.util.Objects;

/**
 * The HA decision function: {@code (state, input, now) -> (state, commands)}. Each input is handled by the rule it
 * concerns; then every timeout that has passed fires, commands past their timeout count as failed, and one
 * placement pass starts every VM that needs a host, highest priority first. Stateless: one instance serves any
 * number of states.
 */
public final class HaCore {
    private final Failover failover = new Failover();
    private final Starter starter = new Starter(failover);
    private final RequestedStates desired = new RequestedStates(failover);
    private final Reconciler reconciler = new Reconciler(starter, desired);
    private final Moves moves = new Moves(starter);
    private final HostMonitor hosts = new HostMonitor(failover, new Rejoin(), reconciler);
    private final CommandResults results = new CommandResults(starter, desired, moves);
    private final Resumption resumption = new Resumption();

    public Step step(ClusterState state, HaInput input, Now now) {
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(input, "input");
        Objects.requireNonNull(now, "now");
        Round r = new Round(state, now);
        if (r.resumePending) resumption.resume(r);
        if (input instanceof HaInput.AgentConnected c) {
            hosts.onAgent(r, c.host(), c.hostGeneration(), c.inventory(), c.storageOk(), true);
        } else if (input instanceof HaInput.AgentHeartbeat h) {
            hosts.onAgent(r, h.host(), h.hostGeneration(), h.inventory(), h.storageOk(), false);
        } else if (input instanceof HaInput.AgentDisconnected d) {
            hosts.onDisconnected(r, d.host());
        } else if (input instanceof HaInput.VmLifecycleObserved l) {
            reconciler.onLifecycle(r, l);
        } else if (input instanceof HaInput.CommandCompleted c) {
            results.onCompleted(r, c);
        } else if (input instanceof HaInput.StorageObserved s) {
            hosts.onStorage(r, s.hosts());
        } else if (input instanceof HaInput.Tick) {
            r.capacityChanged = true;
        } else if (input instanceof HaInput.VmSpecChanged s) {
            desired.onSpec(r, s.spec());
        } else if (input instanceof HaInput.PolicyChanged p) {
            changePolicy(r, p.policy());
        } else if (input instanceof HaInput.RulesChanged c) {
            r.replaceRules(c.rules());
            r.capacityChanged = true;
            r.event("rules-changed", null, null, "the operator changed the placement rules",
                    "placement rules: " + c.rules().stream().map(Rule::name).toList()
                            + "; they apply to placements from now on (running VMs are not moved)",
                    Round.details("rules", c.rules().size()));
        } else if (input instanceof HaInput.MaintenanceRequested m) {
            if (r.host(m.host()) != null) moves.onMaintenance(r, m.host(), m.enabled());
        } else if (input instanceof HaInput.MoveRequested m) {
            moves.onMoveRequested(r, m.vm(), m.target(), m.kind());
        } else if (input instanceof HaInput.HostShuttingDown s) {
            moves.onShutdown(r, s.host(), s.reason());
        }
        hosts.evaluate(r);
        results.expire(r);
        moves.sweep(r);
        starter.placePending(r);
        return new Step(r.finish(), r.commands());
    }

    private static void changePolicy(Round r, ClusterPolicy next) {
        ClusterPolicy old = r.policy;
        r.policy = next;
        r.emit(new HaCommand.BroadcastPolicy(next));
        r.event("policy-changed", null, null, "the operator changed the policy",
                "policy: heartbeat " + old.heartbeatIntervalSeconds() + " s -> " + next.heartbeatIntervalSeconds()
                        + " s, failure timeout " + old.failureTimeoutSeconds() + " s -> "
                        + next.failureTimeoutSeconds() + " s, lease timeout " + old.leaseTimeoutSeconds() + " s -> "
                        + next.leaseTimeoutSeconds() + " s, isolation response " + old.isolationResponse().wireName()
                        + " -> " + next.isolationResponse().wireName(),
                Round.details("heartbeatIntervalSeconds", next.heartbeatIntervalSeconds(), "failureTimeoutSeconds",
                        next.failureTimeoutSeconds(), "leaseTimeoutSeconds", next.leaseTimeoutSeconds(),
                        "isolationResponse", next.isolationResponse().wireName()));
    }
}
