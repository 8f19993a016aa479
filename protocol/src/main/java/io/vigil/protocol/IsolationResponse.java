package io.vigil.protocol;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Arrays;
import java.util.Locale;

/**
 * What a host does with its VMs when it loses the controller while its storage heartbeat is fine (it is isolated,
 * not failed, so nobody else will start its VMs): leave them running, shut them down cleanly, or power them off.
 */
public enum IsolationResponse {
    NONE, SHUTDOWN, POWEROFF;

    @JsonValue
    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    @JsonCreator
    public static IsolationResponse fromWire(String value) {
        return Arrays.stream(values()).filter(v -> v.wireName().equals(value)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException(
                        "isolationResponse must be one of none, shutdown, poweroff, not '" + value + "'"));
    }
}
