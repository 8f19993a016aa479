package io.vigil.controller.auth;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/**
 * What a caller may do. Each role includes the ones before it: a {@code viewer} reads, an {@code operator} also starts,
 * stops and moves VMs and puts hosts into maintenance, an {@code admin} also changes VM settings, the policy, rules,
 * users, tokens and agent enrollment, and reads the audit log.
 */
public enum Role {
    VIEWER, OPERATOR, ADMIN;

    /** Whether a caller with this role may do what needs {@code required}. */
    public boolean includes(Role required) {
        return compareTo(required) >= 0;
    }

    @JsonValue
    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    @JsonCreator
    public static Role fromWire(String value) {
        for (Role r : values()) {
            if (r.wireName().equals(value)) return r;
        }
        throw new IllegalArgumentException("role must be viewer, operator or admin, not '" + value + "'");
    }
}
