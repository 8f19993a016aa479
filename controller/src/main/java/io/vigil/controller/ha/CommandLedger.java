package io.vigil.controller.ha;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Commands in flight, by id, and the sequence that names the next one. Ids are derived from the state
 * ({@code prefix + seq}), so the same inputs always give the same ids; after a restore the prefix carries the time
 * of the first input so that ids never repeat across controller restarts (agents treat a repeated id as a repeat).
 */
record CommandLedger(String prefix, long nextSeq, Map<String, PendingCommand> pending) {

    static final long START_TIMEOUT_MILLIS = 60_000;
    static final int STOP_GUEST_TIMEOUT_SECONDS = 30;
    /** The guest gets 30 s to shut down, then the agent destroys it; its result may take a little longer. */
    static final long STOP_TIMEOUT_MILLIS = 45_000;
    static final long DESTROY_TIMEOUT_MILLIS = 30_000;
    /** Saving a VM's memory writes it all to shared storage. */
    static final long SAVE_TIMEOUT_MILLIS = 120_000;

    CommandLedger {
        pending = Collections.unmodifiableMap(new LinkedHashMap<>(pending));
    }

    static CommandLedger empty() {
        return new CommandLedger("c-", 1, Map.of());
    }

    String nextId() {
        return prefix + nextSeq;
    }

    CommandLedger withIssued(PendingCommand command) {
        Map<String, PendingCommand> next = new LinkedHashMap<>(pending);
        next.put(command.id(), command);
        return new CommandLedger(prefix, nextSeq + 1, next);
    }

    CommandLedger without(String id) {
        if (!pending.containsKey(id)) return this;
        Map<String, PendingCommand> next = new LinkedHashMap<>(pending);
        next.remove(id);
        return new CommandLedger(prefix, nextSeq, next);
    }

    CommandLedger withPrefix(String newPrefix) {
        return new CommandLedger(newPrefix, nextSeq, pending);
    }

    Optional<PendingCommand> get(String id) {
        return Optional.ofNullable(pending.get(id));
    }

    List<PendingCommand> expired(Now now) {
        List<PendingCommand> out = new ArrayList<>();
        for (PendingCommand p : pending.values()) if (p.expired(now)) out.add(p);
        return out;
    }

    boolean hasPending(String host, String vm, PendingCommand.Kind kind) {
        for (PendingCommand p : pending.values())
            if (p.host().equals(host) && p.vm().equals(vm) && p.kind() == kind) return true;
        return false;
    }

    /** The placeholder left by a restore for this VM on this host, if any. */
    Optional<PendingCommand> placeholderFor(String host, String vm) {
        for (PendingCommand p : pending.values())
            if (p.placeholder() && p.host().equals(host) && p.vm().equals(vm)) return Optional.of(p);
        return Optional.empty();
    }
}
