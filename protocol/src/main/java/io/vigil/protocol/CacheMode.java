package io.vigil.protocol;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/**
 * How the host agent caches a VM's disk writes (a VM policy field, carried to the agent in StartVm):
 * WRITE_BACK acknowledges once a write is in the cache and FLUSH writes everything back before it returns;
 * WRITE_BACK_RECOVERABLE lets FLUSH return once every write is recorded in the cache's dirty table, relying on
 * remote recovery of the cache after a host failure; WRITE_THROUGH acknowledges after the image write.
 */
public enum CacheMode {
    WRITE_BACK, WRITE_BACK_RECOVERABLE, WRITE_THROUGH;

    @JsonValue
    public String wireName() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    @JsonCreator
    public static CacheMode fromWire(String value) {
        for (CacheMode c : values()) if (c.wireName().equals(value)) return c;
        throw new IllegalArgumentException("cacheMode must be one of write-back, write-back-recoverable, write-through, "
                + "not '" + value + "'");
    }
}
