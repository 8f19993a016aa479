package io.vigil.controller.store;

import com.hazelcast.core.EntryEvent;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.HazelcastJsonValue;
import com.hazelcast.map.IMap;
import com.hazelcast.map.listener.EntryAddedListener;
import com.hazelcast.map.listener.EntryUpdatedListener;
import com.fasterxml.jackson.databind.JsonNode;
import io.vigil.protocol.Json;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;

/**
 * One typed map of cluster state: the one way controller code reads and writes desired and security state.
 *
 * <p>Durable maps ({@link StateMaps.Durability#DURABLE}) write through to the {@link StateDirectory} on shared storage
 * before a change returns, as a compare-and-set on the record's revision there (so two controllers, even on two
 * sides of a partition, serialize their writes of one key), and then update a Hazelcast map that serves as every
 * member's cache and change feed: reads and listeners never touch the disk. The cache holds each key's newest
 * {@link StoredRecord} (tombstones too) and only ever moves forward by revision, so a late cache update cannot undo a
 * newer one; {@link #resync} makes it equal to storage again (at start, after a Hazelcast merge, and periodically on
 * the leader). Memory-only maps ({@link StateMaps.Durability#MEMORY}) skip the disk: what they hold is rebuilt or may
 * be lost (observed state, login throttling).
 *
 * <p>A secret map ({@link StateMaps.Name#secret}) seals each value ({@link StoredRecord#sealed}) before it goes to
 * storage or Hazelcast and opens it on reading; a value that does not open (altered, moved from another record,
 * sealed under another secret, or plaintext) is never served: in the cache it reads as absent (and is logged), on
 * storage it is a corrupt record (reported by a resync, and a write to it fails with the reason).
 *
 * @param <T> the record type, mapped to JSON with the protocol's mapper
 */
public final class StateMap<T> {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(StateMap.class);
    /** A change seen on this map: {@code value} is null when {@code key} was removed. */
    public interface Listener<T> {
        void changed(String key, T value);
    }

    private final StateMaps.Name name;
    private final Class<T> type;
    private final IMap<String, HazelcastJsonValue> cache;
    private final StateDirectory disk; // null: memory only
    private final SealingKey sealing; // null: values in plaintext

    StateMap(StateMaps.Name name, Class<T> type, HazelcastInstance hz, StateDirectory disk, SealingKey sealing) {
        this.name = name;
        this.type = type;
        this.cache = hz.getMap(name.mapName());
        this.disk = name.durability() == StateMaps.Durability.DURABLE ? Objects.requireNonNull(disk) : null;
        this.sealing = sealing;
    }

    public StateMaps.Name name() {
        return name;
    }

    public Optional<T> get(String key) {
        return value(key, cache.get(key));
    }

    public CompletionStage<Optional<T>> getAsync(String key) {
        return cache.getAsync(key).thenApply(v -> value(key, v));
    }

    public boolean containsKey(String key) {
        return get(key).isPresent();
    }

    /** Every value (in no particular order). */
    public List<T> values() {
        List<T> out = new ArrayList<>();
        for (var e : cache.entrySet()) value(e.getKey(), e.getValue()).ifPresent(out::add);
        return out;
    }

    /** Stores {@code value} under a key that has none; false (and nothing written) when one exists. */
    public boolean create(String key, T value) {
        Objects.requireNonNull(value);
        boolean[] created = {false};
        change(key, current -> {
            if (current != null) return current;
            created[0] = true;
            return value;
        });
        return created[0];
    }

    /** Stores {@code value}, whatever was there. */
    public void put(String key, T value) {
        Objects.requireNonNull(value);
        change(key, current -> value);
    }

    /**
     * Applies {@code change} to the stored value with compare-and-set, retrying when another writer got there first;
     * a change that changes nothing writes nothing. Returns the new value, or empty (nothing written) if there is none.
     */
    public Optional<T> update(String key, UnaryOperator<T> change) {
        return Optional.ofNullable(change(key, current -> current == null ? null : change.apply(current)));
    }

    /** Removes {@code key}; false if it had no value. */
    public boolean remove(String key) {
        return removeIf(key, v -> true);
    }

    /** Removes {@code key} if its current value passes {@code test} (atomically with the test); false otherwise. */
    public boolean removeIf(String key, Predicate<T> test) {
        boolean[] removed = {false};
        change(key, current -> {
            if (current == null || !test.test(current)) return current;
            removed[0] = true;
            return null;
        });
        return removed[0];
    }

    /**
     * The compare-and-set loop every change goes through: read the newest record, compute the next value (null:
     * absent), write the next revision if it differs. Returns the value after the change.
     */
    private T change(String key, UnaryOperator<T> next) {
        for (int attempt = 0; attempt < 100; attempt++) {
            HazelcastJsonValue raw = disk != null ? null : cache.get(key);
            StoredRecord current = disk != null ? disk.read(name.collection(), key).orElse(null)
                    : raw == null ? null : Json.read(raw.getValue(), StoredRecord.class);
            T before = current == null ? null : decode(key, current).orElse(null);
            T after = next.apply(before);
            if (Objects.equals(before, after)) return after;
            long revision = current == null ? 0 : current.revision();
            JsonNode valueNode = after == null ? null : Json.mapper().valueToTree(after);
            String sealed = sealing == null || valueNode == null ? null
                    : sealing.seal(StoredRecord.sealingContext(name.collection(), key), Json.write(valueNode));
            if (sealed != null) valueNode = null;
            if (disk != null) {
                boolean written = sealed != null ? disk.writeSealed(name.collection(), key, revision, sealed)
                        : disk.write(name.collection(), key, revision, valueNode);
                if (!written) continue; // another writer: read again
                cacheIfNewer(key, new StoredRecord(StoredRecord.FORMAT, name.collection(), key, revision + 1,
                        after == null, valueNode, sealed, null, System.currentTimeMillis()));
                return after;
            }
            StoredRecord record = new StoredRecord(StoredRecord.FORMAT, name.collection(), key, revision + 1,
                    after == null, valueNode, sealed, null, System.currentTimeMillis());
            boolean stored = raw == null ? cache.putIfAbsent(key, json(record)) == null
                    : cache.replace(key, raw, json(record));
            if (stored) return after;
        }
        throw new IllegalStateException(name.collection() + "/" + key + " changed concurrently 100 times in a row");
    }

    /** Puts {@code record} in the cache unless the cache holds that revision or a newer one. */
    private void cacheIfNewer(String key, StoredRecord record) {
        HazelcastJsonValue fresh = json(record);
        for (int attempt = 0; attempt < 100; attempt++) {
            HazelcastJsonValue old = cache.get(key);
            if (old == null) {
                if (cache.putIfAbsent(key, fresh) == null) return;
            } else {
                if (Json.read(old.getValue(), StoredRecord.class).revision() >= record.revision()) return;
                if (cache.replace(key, old, fresh)) return;
            }
        }
    }

    /**
     * Makes the cache equal to storage: every key at its stored revision (newer ones only), keys storage does not
     * have removed. Returns the corrupt records found (they are left out and reported by name).
     */
    public List<StateDirectory.Corrupt> resync() {
        if (disk == null) return List.of();
        StateDirectory.Snapshot snapshot = disk.readAll(name.collection());
        List<StateDirectory.Corrupt> corrupt = new ArrayList<>(snapshot.corrupt());
        Map<String, StoredRecord> believed = new HashMap<>();
        snapshot.records().forEach((key, record) -> {
            try {
                decode(key, record); // a record that does not open is corrupt, like one with a bad checksum
                believed.put(key, record);
            } catch (SealingKey.UnsealableException e) {
                corrupt.add(disk.reportCorrupt(name.collection(), key, record.revision(), e.getMessage()));
            }
        });
        believed.forEach(this::cacheIfNewer);
        for (String key : new ArrayList<>(cache.keySet())) {
            if (believed.containsKey(key)) continue;
            // Not in the snapshot: gone from storage, or written after the snapshot was read. Ask storage again, and
            // remove only the very value seen before asking (a writer that updates the cache meanwhile wins).
            HazelcastJsonValue seen = cache.get(key);
            if (seen == null) continue;
            try {
                var now = disk.read(name.collection(), key);
                if (now.isPresent()) {
                    decode(key, now.get());
                    cacheIfNewer(key, now.get());
                } else {
                    cache.remove(key, seen);
                }
            } catch (StateDirectory.CorruptRecordException | SealingKey.UnsealableException e) {
                cache.remove(key, seen); // reported by the store; a record that cannot be believed is not served
            }
        }
        return corrupt;
    }

    /**
     * {@code listener} sees every value added or changed, and every removal, by any member (it runs on a Hazelcast
     * event thread: it must not block).
     */
    public void onChange(Listener<T> listener) {
        cache.addEntryListener(new Feed(listener), true);
    }

    private final class Feed implements EntryAddedListener<String, HazelcastJsonValue>,
            EntryUpdatedListener<String, HazelcastJsonValue>, com.hazelcast.map.listener.EntryRemovedListener<String, HazelcastJsonValue> {
        private final Listener<T> listener;

        Feed(Listener<T> listener) {
            this.listener = listener;
        }

        @Override
        public void entryAdded(EntryEvent<String, HazelcastJsonValue> e) {
            listener.changed(e.getKey(), value(e.getKey(), e.getValue()).orElse(null));
        }

        @Override
        public void entryUpdated(EntryEvent<String, HazelcastJsonValue> e) {
            T before = value(e.getKey(), e.getOldValue()).orElse(null);
            T after = value(e.getKey(), e.getValue()).orElse(null);
            if (before != null && after == null || after != null) listener.changed(e.getKey(), after);
        }

        @Override
        public void entryRemoved(EntryEvent<String, HazelcastJsonValue> e) {
            if (value(e.getKey(), e.getOldValue()).isPresent()) listener.changed(e.getKey(), null);
        }
    }

    /**
     * The value the cache holds for {@code key}; one that does not open is not served (it can only have been put by a
     * member without the cluster's key) and is logged: the next resync replaces it with storage's.
     */
    private Optional<T> value(String key, HazelcastJsonValue v) {
        if (v == null) return Optional.empty();
        try {
            return decode(key, Json.read(v.getValue(), StoredRecord.class));
        } catch (SealingKey.UnsealableException e) {
            log.error("ignored the cached value of {}: {}", StoredRecord.sealingContext(name.collection(), key), e.getMessage());
            return Optional.empty();
        }
    }

    /**
     * The value {@code r}, found under {@code key}, holds (empty: a tombstone), opened when this map is secret: a
     * sealed value opens under the key it was sealed for only.
     */
    private Optional<T> decode(String key, StoredRecord r) {
        if (r.deleted()) return Optional.empty();
        if (sealing == null) return Optional.of(Json.mapper().convertValue(r.value(), type));
        String context = StoredRecord.sealingContext(name.collection(), key);
        if (r.sealed() == null)
            throw new SealingKey.UnsealableException(context + " holds a plaintext value where a sealed one belongs");
        return Optional.of(Json.read(sealing.openString(context, r.sealed()), type));
    }

    private static HazelcastJsonValue json(StoredRecord r) {
        return new HazelcastJsonValue(Json.write(r));
    }
}
