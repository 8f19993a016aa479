package io.vigil.controller.ha;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * A read-only picture of the cluster as the store (or the core) holds it, for the checks that must answer at once
 * and the same way everywhere: admission control, and whether a move or maintenance request can be carried out. The
 * REST API asks it before it stores a request (so a refusal is a clear 409 that changes nothing) and the core asks it
 * again when the request arrives.
 */
public final class ClusterView {
    private final ClusterPolicy policy;
    private final Map<String, HostStatus> hosts = new TreeMap<>();
    private final Map<String, VmSpec> specs = new TreeMap<>();
    private final Map<String, VmStatus> vms = new TreeMap<>();
    private final RuleBook rules;

    public ClusterView(ClusterPolicy policy, Collection<HostStatus> hosts, Collection<VmSpec> specs,
            Collection<VmStatus> vms, Collection<Rule> rules) {
        this.policy = policy;
        for (HostStatus h : hosts) this.hosts.put(h.name(), h);
        for (VmSpec s : specs) this.specs.put(s.name(), s);
        for (VmStatus v : vms) this.vms.put(v.name(), v);
        this.rules = new RuleBook(rules);
    }

    public ClusterPolicy policy() {
        return policy;
    }

    /** The host a VM holds memory on, or null. */
    String hostOf(String vm) {
        VmStatus v = vms.get(vm);
        return v != null && v.host() != null && Placement.OCCUPYING.contains(v.state()) ? v.host() : null;
    }

    /** Every host's load without {@code exceptVm} (may be null). */
    List<FailoverReserve.HostLoad> loads(String exceptVm) {
        List<FailoverReserve.HostLoad> out = new ArrayList<>();
        for (HostStatus h : hosts.values()) {
            long used = h.memoryUsedMiB();
            long ha = 0;
            int vcpus = 0;
            for (String name : h.vms()) {
                VmSpec s = specs.get(name);
                if (s == null || !h.name().equals(hostOf(name))) continue;
                if (name.equals(exceptVm)) {
                    used -= s.memoryMiB();
                    continue;
                }
                vcpus += s.vcpus();
                if (s.restartable()) ha += s.memoryMiB();
            }
            out.add(new FailoverReserve.HostLoad(h.name(), h.memoryTotalMiB(), Math.max(0, used), ha, h.cpus(), vcpus,
                    h.usable()));
        }
        return out;
    }

    /** Every host's load as admission control counts it (memory used, HA memory, usable), for the cluster overview. */
    public List<FailoverReserve.HostLoad> hostLoads() {
        return loads(null);
    }

    /**
     * Whether {@code spec} may be (or stay) requested started under admission control. Only HA VMs are checked; a VM
     * already running is checked where it runs.
     */
    public FailoverReserve.Admission admit(VmSpec spec) {
        if (!spec.restartable()) return FailoverReserve.Admission.yes(null, "not an HA VM: admission control does not apply");
        String current = hostOf(spec.name());
        VmSpec old = specs.get(spec.name());
        if (current != null && old != null && old.restartable() && old.memoryMiB() == spec.memoryMiB())
            return FailoverReserve.Admission.yes(current, "it already runs as an HA VM");
        List<String> candidates = new ArrayList<>();
        for (HostStatus h : hosts.values()) {
            if (current != null && !current.equals(h.name())) continue;
            if (!h.usable() || !spec.allowedOn(h.name())) continue;
            if (rules.strictConflict(spec.name(), h.name(), this::hostOf) != null) continue;
            candidates.add(h.name());
        }
        return FailoverReserve.admit(policy, loads(spec.name()), candidates, spec.memoryMiB(), spec.vcpus());
    }

    /** Why {@code vm} cannot be moved to {@code target} now, or empty when it can. */
    public Optional<String> refuseMove(String vm, String target, MoveKind kind) {
        VmSpec spec = specs.get(vm);
        VmStatus v = vms.get(vm);
        if (spec == null) return Optional.of("no VM named '" + vm + "'");
        HostStatus t = hosts.get(target);
        if (t == null) return Optional.of("no host named '" + target + "' has ever connected");
        if (spec.requestedState() == RequestedState.IGNORED)
            return Optional.of(vm + " is ignored by the controller (requestedState ignored)");
        if (v == null || v.state() != VmState.RUNNING || v.host() == null)
            return Optional.of(vm + " is not running (it is " + (v == null ? "not started yet" : v.state().wireName())
                    + "); only a running VM can be " + (kind == MoveKind.MIGRATE ? "migrated" : "relocated"));
        if (target.equals(v.host())) return Optional.of(vm + " already runs on " + target);
        if (t.state() != HostState.CONNECTED || !t.connected())
            return Optional.of("the target " + target + " is offline (" + t.state().wireName()
                    + (t.connected() ? "" : ", not connected") + ")");
        if (!t.storageOk()) return Optional.of("the target " + target + " cannot write shared storage");
        if (t.maintenance()) return Optional.of("the target " + target + " is in maintenance");
        if (!spec.allowedOn(target))
            return Optional.of(vm + " is strict about its preferred hosts and " + target + " is not one of them");
        String rule = rules.strictConflict(vm, target, this::hostOf);
        if (rule != null) return Optional.of("moving " + vm + " to " + target + " would break the " + rule);
        long room = t.memoryTotalMiB() - t.memoryUsedMiB();
        if (room < spec.memoryMiB())
            return Optional.of("the target " + target + " has " + room + " MiB free; " + vm + " needs " + spec.memoryMiB()
                    + " MiB");
        return Optional.empty();
    }

    /** Why maintenance cannot be switched on (or off) for {@code host} now, or empty. */
    public Optional<String> refuseMaintenance(String host, boolean enabled) {
        HostStatus h = hosts.get(host);
        if (h == null) return Optional.of("no host named '" + host + "' has ever connected");
        if (!enabled) return Optional.empty();
        if (h.state() != HostState.CONNECTED || !h.connected())
            return Optional.of(host + " is offline (" + h.state().wireName() + (h.connected() ? "" : ", not connected")
                    + "): maintenance needs a host that can move its VMs away");
        return Optional.empty();
    }
}
