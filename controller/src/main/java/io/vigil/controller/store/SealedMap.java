package io.vigil.controller.store;

import com.hazelcast.map.IMap;
import io.vigil.protocol.Json;
import java.util.Optional;

/**
 * A Hazelcast map whose values are sealed ({@link SealingKey}), for state each controller keeps on its own disk and
 * adopts through the cluster ({@link StateMaps.Durability#LOCAL}: the CA). A member admitted without the cluster
 * secret reads only ciphertext here, and cannot put a value that opens: a value that does not open is refused with
 * {@link SealingKey.UnsealableException}, never adopted.
 *
 * @param <T> the value type, mapped to JSON with the protocol's mapper
 */
public final class SealedMap<T> {
    private final StateMaps.Name name;
    private final Class<T> type;
    private final IMap<String, String> map;
    private final SealingKey sealing;

    SealedMap(StateMaps.Name name, Class<T> type, IMap<String, String> map, SealingKey sealing) {
        this.name = name;
        this.type = type;
        this.map = map;
        this.sealing = sealing;
    }

    public Optional<T> get(String key) {
        return Optional.ofNullable(map.get(key)).map(v -> open(key, v));
    }

    /** Puts {@code value} unless {@code key} has one; returns the value the map holds afterwards (the first one put). */
    public T putIfAbsent(String key, T value) {
        String before = map.putIfAbsent(key, sealing.seal(context(key), Json.write(value)));
        return before == null ? value : open(key, before);
    }

    private T open(String key, String sealed) {
        return Json.read(sealing.openString(context(key), sealed), type);
    }

    private String context(String key) {
        return StoredRecord.sealingContext(name.collection(), key);
    }
}
