package io.vigil.controller.ha;

import java.util.List;

/**
 * The result of feeding one input to the core: the next state and the commands to carry out, in order.
 *
 * <p><b>The contract between the core and the shell</b> ({@code io.vigil.controller.runtime.HaLoop}):
 * <ol>
 *   <li>The shell makes the step's decisions durable <em>before</em> it carries out any of its commands: every VM
 *       status that changed (its host, lease generation and state: the placement) and every host record that changed
 *       (state, generation, maintenance) is written to the durable store on shared storage, then the commands go
 *       out. If that write fails, none of the step's commands is sent.</li>
 *   <li>Commands to agents carry the epoch of the leader lease the shell holds at the moment it sends them; a shell
 *       that no longer holds the lease sends nothing.</li>
 *   <li>Events ({@link HaCommand.RecordEvent}) are commands too: an event is never recorded for a decision that was
 *       not made durable first.</li>
 * </ol>
 *
 * <p>Why a crash (or loss of leadership) at any point is safe: before the durable write, nothing of the step left
 * the controller, and the next leader computes it again from the same durable state and the agents' reports
 * (level-triggered). Between the write and the sends, the durable state shows VMs {@code starting}, {@code stopping}
 * or {@code deleting} on a host with no command having reached it; the next leader restores exactly that
 * ({@link ClusterState#restore}) and {@link Resumption} re-sends each such command when no result arrives within its
 * timeout. Commands are idempotent by id and by lease generation at the agent, so a command that did leave and is
 * sent again does no harm. The reverse order would be unsafe: a StartVm sent before its placement was durable could
 * start a VM that a restarted leader believes to be elsewhere, and destroy it as a stray.
 */
public record Step(ClusterState state, List<HaCommand> commands) {}
