package io.vigil.controller.ha;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/**
 * What a host's clean shutdown does to its VMs: MIGRATE moves them away first (saved and restored, the guests
 * carry on); FAILOVER stops them and restarts them elsewhere; FREEZE stops them and leaves them on the host, to start
 * there again when it returns.
 */
public enum ShutdownPolicy {
    MIGRATE, FAILOVER, FREEZE;

    @JsonValue
    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    @JsonCreator
    public static ShutdownPolicy fromWire(String value) {
        for (ShutdownPolicy s : values()) if (s.wireName().equals(value)) return s;
        throw new IllegalArgumentException("shutdownPolicy must be one of migrate, failover, freeze, not '" + value + "'");
    }
}
