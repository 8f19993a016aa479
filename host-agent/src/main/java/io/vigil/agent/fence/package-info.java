/**
 * The fence watchdog: what kills this host's VMs when the agent itself cannot, because it is dead (crash,
 * SIGKILL, a plain stop not followed by a restart) or frozen.
 *
 * <p>Why it exists: QEMU outlives the agent by design, so that a restarted agent re-attaches to running VMs. But a
 * dead agent renews no lease and fences nothing: once the lease timeout T passes, other hosts take the VM leases and
 * start the VMs, while their QEMU processes still run here. sanlock closes that hole with wdmd and a hardware
 * watchdog; this package is Vigil's equivalent, a small process separate from the agent.
 *
 * <p>How: after every successful host-lease renewal the agent writes {@code <stateDir>/fence-deadline.json}
 * ({@link io.vigil.agent.fence.FenceDeadlines}, tmp + rename) holding the boot id, the fence deadline
 * ({@code lastSuccessfulRenewalStart + F} on {@link System#nanoTime()}, which is CLOCK_MONOTONIC and shared by
 * every process of one boot) and the pids of its running VMs' QEMU processes. The watchdog
 * ({@link io.vigil.agent.fence.FenceWatchdogMain}, its own JVM in its own session) reads that file every 100 ms and,
 * once the deadline has passed, SIGKILLs each listed pid whose command line still names the guest. It fires at the
 * same F as the agent's in-process self-fence, so the lease timing argument (package {@code io.vigil.agent.lease})
 * covers it unchanged: F(1+rho) + K &lt; T/(1+rho), its 100 ms poll counted in the kill budget K. The agent starts
 * it ({@link io.vigil.agent.fence.FenceWatchdogProcess}) before it re-attaches to or starts any VM and restarts it if
 * it dies; a watchdog outlives the agent, which is its point.
 */
package io.vigil.agent.fence;
