package io.vigil.controller.ha;

import java.util.List;
import java.util.function.Consumer;

/**
 * The core's bookkeeping for one VM: its public {@link VmStatus} plus what the rules need to stay bounded.
 * <ul>
 *   <li>{@code commandId}: the command it waits for; {@code issuedGeneration}: the highest lease generation ever
 *       asked for, so no generation is requested twice.</li>
 *   <li>The current start attempt: {@code triedHosts} (hosts it failed on), {@code restartsHere} (attempts on
 *       {@code attemptHost} after the first), {@code relocations} (moves to another host after failures).</li>
 *   <li>{@code failoverId}: the host failover it belongs to.</li>
 *   <li>A planned move: {@code moveTarget}, {@code moveKind}, and {@code restoreFrom} (its saved state).</li>
 *   <li>{@code homeHost}: the host it was moved away from by a failure, maintenance or shutdown, for failback and
 *       the rejoin grace; {@code holdUntilNanos}: its restart is held until then (rejoin grace).</li>
 *   <li>{@code waitingSinceNanos}: when it started waiting to be placed (for {@code startAfterTimeoutSeconds});
 *       {@code waitReason}: why it waits, announced once.</li>
 * </ul>
 */
record VmRecord(String name, String host, VmState state, long generation, String lastError, long stateSinceMillis,
        long stateSinceNanos, long issuedGeneration, String commandId, List<String> triedHosts, String attemptHost,
        int restartsHere, int relocations, String failoverId, String moveTarget, MoveKind moveKind, String restoreFrom,
        String homeHost, long holdUntilNanos, long waitingSinceNanos, String waitReason) {

    VmRecord {
        triedHosts = List.copyOf(triedHosts);
    }

    static VmRecord created(String name, Now now) {
        return new VmRecord(name, null, VmState.STOPPED, 0, null, now.epochMillis(), now.monotonicNanos(), 0, null,
                List.of(), null, 0, 0, null, null, null, null, null, 0, 0, null);
    }

    static VmRecord restored(VmStatus s) {
        return new VmRecord(s.name(), s.host(), s.state(), s.generation(), s.lastError(), s.stateSinceMillis(), 0,
                s.generation(), null, List.of(), null, 0, 0, null, null, null, null, null, 0, 0, null);
    }

    VmStatus status() {
        return new VmStatus(name, host, state, generation, lastError, stateSinceMillis);
    }

    /** The generation the next start asks for: never one that was asked for before. */
    long nextGeneration() {
        return Math.max(generation, issuedGeneration) + 1;
    }

    private VmRecord with(Consumer<Builder> change) {
        Builder b = new Builder(this);
        change.accept(b);
        return b.build();
    }

    /** Starts the monotonic clock of a restored VM's state (the store keeps wall-clock time only). */
    VmRecord clockedAt(Now now) {
        return with(b -> b.stateSinceNanos = now.monotonicNanos());
    }

    VmRecord to(VmState newState, String newHost, Now now) {
        boolean changed = newState != state;
        return with(b -> {
            b.state = newState;
            b.host = newHost;
            if (changed) {
                b.stateSinceMillis = now.epochMillis();
                b.stateSinceNanos = now.monotonicNanos();
            }
        });
    }

    VmRecord withGeneration(long g) {
        return with(b -> {
            b.generation = g;
            b.issuedGeneration = Math.max(issuedGeneration, g);
        });
    }

    VmRecord withIssued(long g) {
        return with(b -> b.issuedGeneration = g);
    }

    VmRecord withError(String error) {
        return with(b -> b.lastError = error);
    }

    VmRecord withCommand(String id) {
        return with(b -> b.commandId = id);
    }

    VmRecord withAttempt(List<String> tried, String onHost, int restarts, int relocated) {
        return with(b -> {
            b.triedHosts = tried;
            b.attemptHost = onHost;
            b.restartsHere = restarts;
            b.relocations = relocated;
        });
    }

    VmRecord withFailover(String id) {
        return with(b -> b.failoverId = id);
    }

    VmRecord withMove(String target, MoveKind kind) {
        return with(b -> {
            b.moveTarget = target;
            b.moveKind = kind;
        });
    }

    VmRecord withRestoreFrom(String path) {
        return with(b -> b.restoreFrom = path);
    }

    VmRecord withHome(String home) {
        return with(b -> b.homeHost = home);
    }

    VmRecord withHold(long untilNanos) {
        return with(b -> b.holdUntilNanos = untilNanos);
    }

    VmRecord waiting(long sinceNanos, String reason) {
        return with(b -> {
            b.waitingSinceNanos = sinceNanos;
            b.waitReason = reason;
        });
    }

    /** A fresh start attempt: forget the hosts tried and the restarts and relocations counted. */
    VmRecord newAttempt() {
        return withAttempt(List.of(), null, 0, 0);
    }

    boolean attemptStarted() {
        return attemptHost != null || !triedHosts.isEmpty() || relocations > 0;
    }

    private static final class Builder {
        String name, host, lastError, commandId, attemptHost, failoverId, moveTarget, restoreFrom, homeHost, waitReason;
        VmState state;
        long generation, stateSinceMillis, stateSinceNanos, issuedGeneration, holdUntilNanos, waitingSinceNanos;
        List<String> triedHosts;
        int restartsHere, relocations;
        MoveKind moveKind;

        Builder(VmRecord v) {
            name = v.name; host = v.host; state = v.state; generation = v.generation; lastError = v.lastError;
            stateSinceMillis = v.stateSinceMillis; stateSinceNanos = v.stateSinceNanos;
            issuedGeneration = v.issuedGeneration; commandId = v.commandId; triedHosts = v.triedHosts;
            attemptHost = v.attemptHost; restartsHere = v.restartsHere; relocations = v.relocations;
            failoverId = v.failoverId; moveTarget = v.moveTarget; moveKind = v.moveKind; restoreFrom = v.restoreFrom;
            homeHost = v.homeHost; holdUntilNanos = v.holdUntilNanos; waitingSinceNanos = v.waitingSinceNanos;
            waitReason = v.waitReason;
        }

        VmRecord build() {
            return new VmRecord(name, host, state, generation, lastError, stateSinceMillis, stateSinceNanos,
                    issuedGeneration, commandId, triedHosts, attemptHost, restartsHere, relocations, failoverId,
                    moveTarget, moveKind, restoreFrom, homeHost, holdUntilNanos, waitingSinceNanos, waitReason);
        }
    }
}
