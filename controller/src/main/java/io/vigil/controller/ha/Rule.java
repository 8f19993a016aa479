package io.vigil.controller.ha;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * A placement rule over a group of VMs: affinity (run them on one host) or anti-affinity (never two on one host).
 * A strict rule is never broken: a VM waits rather than break it. A non-strict rule is a preference, weighed after
 * the VM's preferred hosts.
 */
public record Rule(String name, Type type, List<String> vms, boolean strict) {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,62}");

    public enum Type {
        AFFINITY, ANTI_AFFINITY;

        @JsonValue
        public String wireName() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }

        @JsonCreator
        public static Type fromWire(String value) {
            for (Type t : values()) if (t.wireName().equals(value)) return t;
            throw new IllegalArgumentException("type must be affinity or anti-affinity, not '" + value + "'");
        }
    }

    /** Throws {@link IllegalArgumentException} naming the field when the rule is malformed. */
    public Rule {
        if (name == null || !NAME.matcher(name).matches())
            throw new IllegalArgumentException("name must be letters, digits, '.', '_' or '-' (at most 63), not '"
                    + name + "'");
        if (type == null) throw new IllegalArgumentException("type is required (affinity or anti-affinity)");
        if (vms == null || vms.size() < 2) throw new IllegalArgumentException("vms must name at least two VMs");
        if (new LinkedHashSet<>(vms).size() != vms.size())
            throw new IllegalArgumentException("vms names a VM twice");
        vms = List.copyOf(vms);
    }

    public boolean covers(String vm) {
        return vms.contains(vm);
    }
}
