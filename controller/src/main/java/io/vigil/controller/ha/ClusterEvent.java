package io.vigil.controller.ha;

import java.util.Map;

/**
 * One entry of the event log: what happened, when, to which host or VM, and why. Failover steps share a
 * {@code failover} id in {@code details} and carry {@code elapsedMillis} since the failure was detected, so a person
 * can read how long each step took.
 *
 * <p>Types: host-connected, host-disconnected, host-suspect, host-recovered, host-isolated, host-failed,
 * host-leases-expired, host-storage-lost, host-rejoined, host-lost-vms, vm-created, vm-placed, vm-start-requested,
 * vm-started, vm-start-failed, vm-stopped, vm-stop-requested, vm-delete-requested, vm-deleted, vm-destroy-requested
 * (a copy running where it must not), vm-command-resent (after a controller restart), vm-pending-capacity, vm-error,
 * vm-lifecycle (a libvirt event; {@code details.repeated}: identical ones folded before it), vm-paused and vm-resumed
 * (a running VM's host reports it paused, or no longer), failover-completed, policy-changed, cache-reclaimed (a host gave back disk cache before starting a
 * VM: {@code details.reclaimedMiB} and {@code details.reclaimMillis}, or {@code details.detail} with the agent's words
 * when they do not parse).
 *
 * <p>Failover steps ({@code details.step}): detected (host-suspect), isolated, declaredFailed (host-failed),
 * leasesExpired (host-leases-expired or host-storage-lost), placed, pendingCapacity, cacheReclaimed, startFailed,
 * gaveUp, started, completed (failover-completed, whose {@code details.steps} maps each step to its first time,
 * "started" to the time the last VM started, in milliseconds since detection).
 *
 * <p>{@code sequence} is assigned by the shell when the event is stored (0 inside the core).
 */
public record ClusterEvent(long sequence, long timeMillis, String type, String host, String vm, String cause,
        String message, Map<String, Object> details) {

    public ClusterEvent withSequence(long newSequence) {
        return new ClusterEvent(newSequence, timeMillis, type, host, vm, cause, message, details);
    }
}
