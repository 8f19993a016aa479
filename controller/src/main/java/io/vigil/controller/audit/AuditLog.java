package io.vigil.controller.audit;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.HazelcastJsonValue;
import com.hazelcast.query.Predicate;
import com.hazelcast.query.Predicates;
import io.vigil.controller.store.SequencedLog;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The audit log: every mutating API request, in a Hazelcast map shared by the controller members ({@code vigil.audit},
 * keyed by a flake id like the event log) and, before {@link #append} returns, in a {@link
 * io.vigil.controller.store.DurableLog} on shared storage; bounded to the newest {@code maxEntries}. The bound is kept loosely: each
 * member trims after every {@link #TRIM_EVERY} of its appends, so the log may briefly hold a few more.
 */
public final class AuditLog {
    public static final String MAP = io.vigil.controller.store.StateMaps.Name.AUDIT.mapName();
    public static final int DEFAULT_MAX_ENTRIES = 10_000;
    static final int TRIM_EVERY = 50;

    private final SequencedLog<AuditEntry> entries;
    private final AtomicLong appended = new AtomicLong();

    /** An audit log in memory only (tests of the bound). */
    public AuditLog(HazelcastInstance hz, int maxEntries) {
        this(hz, null, maxEntries);
    }

    /** An audit log whose every entry is durable in {@code durable} before {@link #append} returns. */
    public AuditLog(HazelcastInstance hz, io.vigil.controller.store.DurableLog<AuditEntry> durable, int maxEntries) {
        this.entries = new SequencedLog<>(hz, MAP, "vigil.audit-ids", AuditEntry.class, AuditEntry::sequence, maxEntries,
                durable, true);
    }

    /** Stores {@code entry} under a new sequence and returns it stamped. */
    public AuditEntry append(AuditEntry entry) {
        AuditEntry stamped = entries.append(entry::withSequence);
        if (appended.incrementAndGet() % TRIM_EVERY == 0) trim();
        return stamped;
    }

    /** Drops the oldest entries beyond the bound. */
    public void trim() {
        entries.trim();
    }

    /** Filters for {@link #entries}; null fields match everything. */
    public record Query(Long sinceSequence, Long sinceMillis, String principal, Integer status, int limit) {}

    /** Entries matching {@code q}, oldest first, at most {@code q.limit()} of the newest. */
    public List<AuditEntry> entries(Query q) {
        List<Predicate<Long, HazelcastJsonValue>> ps = new ArrayList<>();
        if (q.sinceSequence() != null) ps.add(Predicates.greaterThan("sequence", q.sinceSequence()));
        if (q.sinceMillis() != null) ps.add(Predicates.greaterEqual("timeMillis", q.sinceMillis()));
        if (q.principal() != null) ps.add(Predicates.equal("principal", q.principal()));
        if (q.status() != null) ps.add(Predicates.equal("status", q.status()));
        return entries.newest(ps, q.limit());
    }
}
