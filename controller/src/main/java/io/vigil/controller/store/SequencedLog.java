package io.vigil.controller.store;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.HazelcastJsonValue;
import com.hazelcast.flakeidgen.FlakeIdGenerator;
import com.hazelcast.map.IMap;
import com.hazelcast.query.Predicate;
import com.hazelcast.query.Predicates;
import io.vigil.protocol.Json;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.List;
import java.util.function.LongFunction;
import java.util.function.ToLongFunction;

/**
 * An append-only, bounded log of JSON records in a Hazelcast map shared by the controller members, keyed by sequences
 * from a flake id generator: unique cluster-wide without coordination, and increasing on one member, so one member's
 * records sort in the order they were appended. The event log and the audit log are two of these.
 *
 * <p>With a {@link DurableLog} every record also goes to shared storage: before {@link #append} returns when the log
 * is synchronous (the audit log: an entry is durable with the change it records), within the durable log's flush
 * interval otherwise (the event log). A member that starts a cluster with an empty map loads the newest records
 * back from storage, so a restart of every controller loses no acknowledged entry.
 *
 * @param <T> the record; {@code sequenceOf} reads its sequence, and {@link #append} stamps it with a new one
 */
public final class SequencedLog<T> {
    private final IMap<Long, HazelcastJsonValue> records;
    private final FlakeIdGenerator ids;
    private final Class<T> type;
    private final ToLongFunction<T> sequenceOf;
    private final int maxRecords;
    private final DurableLog<T> durable; // null: memory only
    private final boolean synchronous;

    public SequencedLog(HazelcastInstance hz, String map, String idGenerator, Class<T> type, ToLongFunction<T> sequenceOf,
            int maxRecords) {
        this(hz, map, idGenerator, type, sequenceOf, maxRecords, null, false);
    }

    public SequencedLog(HazelcastInstance hz, String map, String idGenerator, Class<T> type, ToLongFunction<T> sequenceOf,
            int maxRecords, DurableLog<T> durable, boolean synchronous) {
        this.durable = durable;
        this.synchronous = synchronous;
        this.records = hz.getMap(map);
        this.ids = hz.getFlakeIdGenerator(idGenerator);
        this.type = type;
        this.sequenceOf = sequenceOf;
        this.maxRecords = maxRecords;
        if (durable != null && records.isEmpty()) {
            Map<Long, HazelcastJsonValue> loaded = new HashMap<>();
            for (T r : durable.newest(maxRecords)) loaded.put(sequenceOf.applyAsLong(r), new HazelcastJsonValue(Json.write(r)));
            records.putAll(loaded);
        }
    }

    /** Stores the record {@code stamp} makes of a new sequence, and returns it. */
    public T append(LongFunction<T> stamp) {
        T stamped = stamp.apply(ids.newId());
        if (durable != null) {
            if (synchronous) durable.append(stamped);
            else durable.appendSoon(stamped);
        }
        records.set(sequenceOf.applyAsLong(stamped), new HazelcastJsonValue(Json.write(stamped)));
        return stamped;
    }

    /** Drops the oldest records beyond the bound; returns how many. */
    public int trim() {
        if (records.size() <= maxRecords) return 0;
        List<Long> keys = new ArrayList<>(records.keySet());
        keys.sort(Comparator.naturalOrder());
        List<Long> oldest = keys.subList(0, Math.max(0, keys.size() - maxRecords));
        for (Long k : oldest) records.delete(k);
        return oldest.size();
    }

    /** The records matching every one of {@code filters}, oldest first, at most {@code limit} of the newest. */
    public List<T> newest(List<Predicate<Long, HazelcastJsonValue>> filters, int limit) {
        Collection<HazelcastJsonValue> found = filters.isEmpty() ? records.values()
                : records.values(filters.size() == 1 ? filters.get(0) : Predicates.and(filters.toArray(Predicate[]::new)));
        List<T> sorted = new ArrayList<>(found.stream().map(v -> Json.read(v.getValue(), type)).toList());
        sorted.sort(Comparator.comparingLong(sequenceOf));
        return sorted.size() <= limit ? sorted : sorted.subList(sorted.size() - limit, sorted.size());
    }

    /** The map itself, for entry listeners. */
    IMap<Long, HazelcastJsonValue> map() {
        return records;
    }
}
