package io.vigil.controller.ha;

import java.util.List;

/**
 * The core's bookkeeping for one VM: its public {@link VmStatus} plus what the rules need to stay bounded (the
 * command it waits for, the hosts tried in this start attempt, how often it was restarted in place, the failover it
 * belongs to, and the highest lease generation ever asked for, so no generation is requested twice).
 */
record VmRecord(String name, String host, VmState state, long generation, String lastError, long stateSinceMillis,
        long stateSinceNanos, long issuedGeneration, String commandId, List<String> triedHosts, int placements,
        int localRestarts, String failoverId) {

    VmRecord {
        triedHosts = List.copyOf(triedHosts);
    }

    static VmRecord created(String name, Now now) {
        return new VmRecord(name, null, VmState.STOPPED, 0, null, now.epochMillis(), now.monotonicNanos(), 0, null,
                List.of(), 0, 0, null);
    }

    static VmRecord restored(VmStatus s) {
        return new VmRecord(s.name(), s.host(), s.state(), s.generation(), s.lastError(), s.stateSinceMillis(),
                0, s.generation(), null, List.of(), 0, 0, null);
    }

    /** Starts the monotonic clock of a restored VM's state (the store keeps wall-clock time only). */
    VmRecord clockedAt(Now now) {
        return new VmRecord(name, host, state, generation, lastError, stateSinceMillis, now.monotonicNanos(),
                issuedGeneration, commandId, triedHosts, placements, localRestarts, failoverId);
    }

    VmStatus status() {
        return new VmStatus(name, host, state, generation, lastError, stateSinceMillis);
    }

    /** The generation the next start asks for: never one that was asked for before. */
    long nextGeneration() {
        return Math.max(generation, issuedGeneration) + 1;
    }

    VmRecord to(VmState newState, String newHost, Now now) {
        boolean changed = newState != state;
        return new VmRecord(name, newHost, newState, generation, lastError,
                changed ? now.epochMillis() : stateSinceMillis, changed ? now.monotonicNanos() : stateSinceNanos,
                issuedGeneration, commandId, triedHosts, placements, localRestarts, failoverId);
    }

    VmRecord withGeneration(long g) {
        return new VmRecord(name, host, state, g, lastError, stateSinceMillis, stateSinceNanos,
                Math.max(issuedGeneration, g), commandId, triedHosts, placements, localRestarts, failoverId);
    }

    VmRecord withIssued(long g) {
        return new VmRecord(name, host, state, generation, lastError, stateSinceMillis, stateSinceNanos, g, commandId,
                triedHosts, placements, localRestarts, failoverId);
    }

    VmRecord withError(String error) {
        return new VmRecord(name, host, state, generation, error, stateSinceMillis, stateSinceNanos, issuedGeneration,
                commandId, triedHosts, placements, localRestarts, failoverId);
    }

    VmRecord withCommand(String id) {
        return new VmRecord(name, host, state, generation, lastError, stateSinceMillis, stateSinceNanos,
                issuedGeneration, id, triedHosts, placements, localRestarts, failoverId);
    }

    VmRecord withAttempt(List<String> tried, int placementCount) {
        return new VmRecord(name, host, state, generation, lastError, stateSinceMillis, stateSinceNanos,
                issuedGeneration, commandId, tried, placementCount, localRestarts, failoverId);
    }

    VmRecord withLocalRestarts(int n) {
        return new VmRecord(name, host, state, generation, lastError, stateSinceMillis, stateSinceNanos,
                issuedGeneration, commandId, triedHosts, placements, n, failoverId);
    }

    VmRecord withFailover(String id) {
        return new VmRecord(name, host, state, generation, lastError, stateSinceMillis, stateSinceNanos,
                issuedGeneration, commandId, triedHosts, placements, localRestarts, id);
    }

    /** A fresh start attempt: forget the hosts tried and the placements counted for the previous one. */
    VmRecord newAttempt() {
        return withAttempt(List.of(), 0);
    }
}
