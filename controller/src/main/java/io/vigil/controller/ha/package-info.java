/**
 * The HA core: a pure state machine {@code (state, input, now) -> (state, commands)} that decides host states
 * (connected, suspect, isolated, failed, fenced, rejoining), when a failed host's VMs may restart, where, in which
 * order, and what to retry. No threads, clocks, sockets, Hazelcast or libvirt in here: the shell
 * ({@code io.vigil.controller.runtime}) feeds it inputs and carries out its commands, and unit tests drive it on a
 * virtual clock.
 *
 * <p>The rules, and who owns each:
 * <ol>
 *   <li>{@link io.vigil.controller.ha.HostMonitor}: a Hello or heartbeat marks a host connected and records its
 *       inventory and generation. More than two missed heartbeat intervals: suspect (the failover is "detected").
 *       Past the failure timeout: isolated if its storage heartbeat is still renewed (changed within two heartbeat
 *       intervals; its VMs stay), else failed; an isolated host whose storage heartbeat then goes stale is failed too. Timeouts fire on
 *       every input.</li>
 *   <li>Fencing ({@code HostMonitor} and {@link io.vigil.controller.ha.Failover}): a failed host whose storage lease
 *       expired (or whose storage heartbeat shows a newer generation) is fenced. A connected host whose agent
 *       reports it lost its storage, or whose lease expired on storage while other hosts' heartbeats are fresh,
 *       has fenced itself: host-storage-lost, and it is fenced.</li>
 *   <li>Failover ({@code Failover}, {@link io.vigil.controller.ha.Starter}, {@link io.vigil.controller.ha.Placement}):
 *       the HA VMs of a fenced host are placed in one pass per round with every other VM that needs a host, highest
 *       priority first (ties by name), on connected hosts with room (fewest HA VMs, then most free memory, then
 *       name), and started with generation + 1. VMs with no room wait (pending-capacity) and are retried whenever
 *       capacity may have appeared. Non-HA VMs of a fenced host are stopped.</li>
 *   <li>Command results ({@link io.vigil.controller.ha.CommandResults}, {@code Starter},
 *       {@link io.vigil.controller.ha.CommandLedger}): a confirmed start makes the VM running at the lease
 *       generation reported; a refused start tries the next best host, at most three placements, then error. No
 *       result within the command's timeout counts as a failure. A start that succeeds after the core gave up on
 *       it is destroyed. Command ids are derived from the state.</li>
 *   <li>Desired state ({@link io.vigil.controller.ha.RequestedStates}): running places and starts, stopped sends
 *       StopVm, deleted undefines the VM on its host and forgets it. The operator's start of a VM in error (every
 *       start changes the spec, {@link io.vigil.controller.ha.VmSpec#withStartRequested}) acknowledges the error:
 *       it is cleared and the VM placed afresh, its restarts and relocations counted from zero.</li>
 *   <li>Reconciliation ({@link io.vigil.controller.ha.Reconciler}): heartbeats are observed truth. Starting VMs
 *       reported running are running; an HA VM gone from a healthy host is restarted there first (at most three
 *       times); a managed VM running on a host other than the one the core has it on is destroyed there and the
 *       host told it lost it. A paused domain is active: the core leaves it running where it is and records only
 *       vm-paused and vm-resumed (the REST view shows it paused, from the host's report).</li>
 *   <li>Rejoin ({@link io.vigil.controller.ha.Rejoin}): a fenced host (or a failed one with a new generation)
 *       that comes back is rejoining, is told which VMs it lost, and is connected at its next heartbeat. A failed
 *       host back with the same generation before its leases expired is simply connected; its VMs stay.</li>
 *   <li>Disk cache ({@link io.vigil.controller.ha.CacheLoans}, the rule in {@code io.vigil.controller.cache}): each
 *       host lends its failover reserve, as far as its VMs leave it free, to its running VMs by {@code cacheWeight}
 *       ({@link io.vigil.controller.ha.ClusterState#cacheBudgets}); a StartVm carries the VM's cache mode and the cache
 *       the host must give back first (the part of the VM's memory its unused, unlent memory cannot cover); the
 *       agent's account of that reclaim is a cache-reclaimed event.</li>
 *   <li>Policy: stored, broadcast to agents, recorded.</li>
 *   <li>Every decision is a {@link io.vigil.controller.ha.ClusterEvent} with a cause and a message; failover steps
 *       carry the failover id and the milliseconds since detection. A libvirt lifecycle event of a managed VM is
 *       recorded as vm-lifecycle; the shell folds repeats first, and the count comes as {@code repeated}.</li>
 *   <li>{@link io.vigil.controller.ha.ClusterState#restore} and {@link io.vigil.controller.ha.Resumption}: after a
 *       controller restart hosts are judged from the first input on, and commands whose results were lost are
 *       re-sent if no result comes.</li>
 * </ol>
 *
 * <p>Each {@link io.vigil.controller.ha.HaCore#step} works on a private copy of the state
 * ({@link io.vigil.controller.ha.Round}) and returns a new immutable {@link io.vigil.controller.ha.ClusterState}.
 */
package io.vigil.controller.ha;
