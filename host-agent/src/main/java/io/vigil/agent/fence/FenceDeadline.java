package io.vigil.agent.fence;

import java.util.List;

/**
 * What the agent tells the fence watchdog after each successful lease renewal ({@code <stateDir>/fence-deadline.json}).
 *
 * @param host          the host, for log lines
 * @param bootId        the kernel's boot id: {@code deadlineNanos} means nothing in another boot
 * @param deadlineNanos {@link System#nanoTime()} past which the listed VMs must be dead (last renewal start + F)
 * @param vms           the VMs running here under disk leases and their QEMU pids
 * @param agentPid      the agent's pid, for log lines
 */
public record FenceDeadline(String host, String bootId, long deadlineNanos, List<GuardedVm> vms, long agentPid) {
    public FenceDeadline {
        vms = vms == null ? List.of() : List.copyOf(vms);
    }

    /** One VM and the pid of the QEMU process running it. */
    public record GuardedVm(String name, long pid) {}
}
