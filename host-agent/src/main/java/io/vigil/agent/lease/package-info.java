/**
 * Host and VM leases on shared storage, self-fencing, and lease recovery at agent restart.
 *
 * <h2>Algorithm</h2>
 * <ul>
 *   <li><b>Host lease (delta lease).</b> Every heartbeat interval the agent rewrites {@code hosts/<host>.heartbeat}
 *       with {@code (host, generation, counter++, leaseTimeoutMillis T, wallclock)} ({@link
 *       io.vigil.agent.lease.HostLease#renew}). It records {@code System.nanoTime()} at the <em>start</em> of each
 *       write that succeeds. Writes never create directories: a vanished mount makes them fail.</li>
 *   <li><b>Observation.</b> Every agent (and the controller) polls all heartbeat files every ~250 ms into a
 *       {@link io.vigil.protocol.storage.HeartbeatObserver}: a host whose heartbeat value has not changed for its T,
 *       measured on the observer's monotonic clock from the observer's first sighting of that value, is expired.
 *       Only rates of clocks matter, never their readings.</li>
 *   <li><b>VM lease.</b> {@code leases/<vm>/gen-<N>} holds {@code {vm, ownerHost, ownerHostGeneration, N}}, created
 *       with O_EXCL; the current lease is the highest N; {@code gen-<N>.released} frees it. It is valid exactly while
 *       its owner's host lease at {@code ownerHostGeneration} is live, so renewing the heartbeat renews every VM lease
 *       at once (sanlock's resource leases tied to a host_id + generation).</li>
 *   <li><b>Acquire</b> at generation G ({@link io.vigil.agent.lease.VmLeases#acquire}): read the current lease N.
 *       It is free if absent, released, ours from an older host generation, its owner's heartbeat shows a newer
 *       generation, or its owner's heartbeat is expired in our own observer (read afresh first). Ours at our current
 *       generation with N &ge; G: already acquired (idempotent). Held by a live host: poll for up to T + 2 s, then
 *       refuse with "lease held by &lt;host&gt;". Then create {@code gen-max(G, N+1)} with O_EXCL; losing that race
 *       is a refusal. The newest three generations are kept, older ones deleted.</li>
 *   <li><b>Self-fence.</b> A watchdog thread, separate from the writer (a write can hang on NFS), checks every 50 ms
 *       whether {@code now - lastSuccessStart > F} with {@code F = 0.75 T - 500 ms}. If so it destroys the HA VMs
 *       ({@code virDomainDestroy}), reports {@code storageOk=false} from then on, and moves to generation + 1; the
 *       writer stops renewing past F (a late renewal would be a lie) and ignores writes begun before the fence. The
 *       first write that succeeds afterwards is the rejoin at the new generation, with no VM lease kept.</li>
 *   <li><b>Restart.</b> The local state file ({@code stateDir/agent-state}, not on shared storage) holds the boot id,
 *       generation, counter, last renewal start (nanoTime, comparable only within one boot), T and the HA VM names.
 *       Same boot and less than F since the last renewal: resume the generation, renew at once (before connecting
 *       to libvirt), re-attach the VM leases naming us at that generation, restart nothing. Otherwise destroy the
 *       running HA VMs first, then take a generation above any seen (after watching for one T that nobody else
 *       writes our heartbeat, when there is no local state).</li>
 * </ul>
 *
 * <h2>Timing argument</h2>
 * Let the holder's last successful renewal start at real time t0, let clock rates differ from real time by at most a
 * factor (1 &plusmn; rho), and let destroying the VMs take at most K. An observer can only have first seen that value
 * after the write completed, so after t0, and it declares the lease expired no earlier than T of its clock later:
 * real time &ge; t0 + T/(1+rho). The holder's watchdog fires F of its clock after t0, real time &le; t0 + F(1+rho),
 * and its VMs are gone by t0 + F(1+rho) + K. Safety needs F(1+rho) + K &lt; T/(1+rho). With T = 4 s, F = 2.5 s,
 * rho = 1 % (monotonic clocks are slewed by at most 0.05 % by NTP) and K = 1 s: 3.525 s &lt; 3.96 s. A holder whose
 * write is merely slow is covered too: its success counts from the write's start, and a write begun before a
 * fence never counts. An acquirer that only just started its observer waits a full T from its first sighting,
 * hence the acquire wait of T + 2 s. An agent that is dead (or frozen) cannot self-fence, and QEMU outlives it: the
 * fence watchdog process ({@code io.vigil.agent.fence}) kills its HA VMs at the same deadline F, from the deadline
 * the agent hands it after every renewal (sanlock's wdmd plays this part with a hardware watchdog).
 */
package io.vigil.agent.lease;
