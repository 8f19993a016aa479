package io.vigil.agent.lease;

import java.util.List;

/**
 * What a restarted agent needs to know about its predecessor in this boot, kept in the agent's local state
 * directory (never on shared storage: it must be readable when shared storage is not).
 *
 * @param bootId                 the kernel's boot id: {@code lastRenewalStartNanos} is only comparable within one boot
 * @param generation             the host generation last renewed
 * @param counter                the last heartbeat counter written at that generation
 * @param lastRenewalStartNanos  {@link System#nanoTime()} at the start of the last successful renewal
 * @param leaseTimeoutMillis     the lease timeout written with that renewal (what observers use)
 * @param haVms                  the VMs started with haEnabled (the isolation response applies to them)
 * @param leasedVms              every VM started here under a disk lease: the VMs this host must fence when its
 *                               lease lapses, HA or not (a lapsed lease protects none of them)
 */
public record LocalState(String host, String bootId, long generation, long counter, long lastRenewalStartNanos,
                         long leaseTimeoutMillis, List<String> haVms, List<String> leasedVms) {
    public LocalState {
        haVms = haVms == null ? List.of() : List.copyOf(haVms);
        leasedVms = leasedVms == null ? List.of() : List.copyOf(leasedVms);
    }
}
