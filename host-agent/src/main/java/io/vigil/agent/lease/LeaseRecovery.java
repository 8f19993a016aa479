package io.vigil.agent.lease;

import io.vigil.protocol.storage.LeaseTiming;

import io.vigil.protocol.storage.HostHeartbeat;
import io.vigil.protocol.storage.RecordFiles;
import io.vigil.protocol.storage.SharedStorage;
import java.io.IOException;
import java.util.Optional;

/** What an agent does with its host lease when it starts: resume its predecessor's generation, or take a new one. */
public final class LeaseRecovery {
    private LeaseRecovery() {}

    /**
     * @param resumed               true: same generation, the VM leases and running VMs are still ours
     * @param lastRenewalStartNanos for a resumed lease, the predecessor's last renewal start (its deadline runs on)
     */
    public record Decision(boolean resumed, long generation, long counter, long lastRenewalStartNanos, String reason) {}

    /**
     * Resume only when the predecessor ran in this boot (so its {@code nanoTime} is comparable with ours) and its
     * last renewal started less than F ago: then its leases are still valid everywhere. Otherwise they may have
     * lapsed and been taken over: take generation + 1, above anything on storage.
     */
    public static Decision decide(Optional<LocalState> previous, String bootId, long nowNanos, Optional<HostHeartbeat> onStorage) {
        if (previous.isPresent()) {
            LocalState p = previous.get();
            long sinceMillis = (nowNanos - p.lastRenewalStartNanos()) / 1_000_000;
            long deadline = LeaseTiming.fenceDeadlineMillis(p.leaseTimeoutMillis());
            if (p.generation() > 0 && bootId.equals(p.bootId()) && sinceMillis >= 0 && sinceMillis < deadline) {
                long counter = Math.max(p.counter(),
                        onStorage.filter(h -> h.generation() == p.generation()).map(HostHeartbeat::counter).orElse(0L));
                return new Decision(true, p.generation(), counter, p.lastRenewalStartNanos(),
                        "resuming generation " + p.generation() + " (last renewal " + sinceMillis + " ms ago, deadline " + deadline + " ms)");
            }
        }
        long highest = Math.max(previous.map(LocalState::generation).orElse(0L),
                onStorage.map(HostHeartbeat::generation).orElse(0L));
        String why = previous.isEmpty() ? "no local state"
                : !bootId.equals(previous.get().bootId()) ? "the host rebooted"
                : "the last renewal is older than the fence deadline";
        return new Decision(false, highest + 1, 0, nowNanos, "new generation " + (highest + 1) + " (" + why + ")");
    }

    /**
     * With no local state but a heartbeat under our name on storage, makes sure nobody is still writing it (a second
     * agent configured with the same host name) by watching it for one lease timeout.
     */
    public static Optional<HostHeartbeat> checkNoOtherWriter(SharedStorage storage, String host, VmLeases.Sleeper sleeper)
            throws IOException, InterruptedException {
        Optional<HostHeartbeat> first = RecordFiles.read(storage.hostHeartbeat(host), HostHeartbeat.class);
        if (first.isEmpty()) return first;
        sleeper.sleep(first.get().leaseTimeoutMillis() + 250);
        Optional<HostHeartbeat> second = RecordFiles.read(storage.hostHeartbeat(host), HostHeartbeat.class);
        if (second.isPresent() && !second.get().sameWriteAs(first.get()))
            throw new IllegalStateException("another agent is renewing host " + host + "'s heartbeat on shared storage "
                    + "(generation " + second.get().generation() + "); is the host name configured twice?");
        return second;
    }
}
