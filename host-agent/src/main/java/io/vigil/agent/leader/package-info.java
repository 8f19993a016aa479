/**
 * What this agent knows of the controllers' leader lease, and the fence it puts in front of their commands.
 *
 * <p>Exactly one controller runs the HA core: the holder of the leader lease on shared storage
 * ({@code control-plane/leader/epoch-<E>}, see {@link io.vigil.protocol.storage.LeaderLeaseFiles}), whose epoch grows
 * at every change of leader. Every command carries the epoch of the leader that sent it.
 * <ul>
 *   <li><b>Epoch fencing.</b> {@link io.vigil.agent.leader.LeaderEpochs} is the highest epoch this agent has seen, kept
 *       in {@code stateDir/leader-epoch} so that an agent restart does not forget it. It is raised by every admitted
 *       command and by the highest epoch claimed on shared storage. {@link io.vigil.agent.leader.CommandFence} refuses a
 *       command whose epoch is lower (a leader that was frozen, or cut off, and has since been replaced): it is not
 *       executed, and its result says {@code refused: command from leader epoch <e>, but epoch <h> is current ...}.
 *       A command that raises the epoch is recorded durably (fsync of the file and its directory) before it runs, so
 *       no restart can let an older leader act after a newer one did.</li>
 *   <li><b>Control-plane liveness.</b> {@link io.vigil.agent.leader.LeaderLeaseWatch} reads the leader lease about once
 *       a second on its own thread (never one that waits on libvirt) into a
 *       {@link io.vigil.protocol.storage.LeaderObserver} on this agent's monotonic clock. The control plane is alive
 *       while the leader's heartbeat changes within its lease timeout; the isolation monitor applies the isolation
 *       response only then (a control-plane outage is not host isolation).</li>
 * </ul>
 */
package io.vigil.agent.leader;
