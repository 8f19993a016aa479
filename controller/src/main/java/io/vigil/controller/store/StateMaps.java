package io.vigil.controller.store;

import com.hazelcast.core.HazelcastInstance;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The registry of the cluster's state maps: every map of cluster state has its name, its Hazelcast map and its
 * durability here, and is opened through {@link #map}. Nothing else in the controller calls {@code getMap}.
 */
public final class StateMaps {
    private static final Logger log = LoggerFactory.getLogger(StateMaps.class);

    public enum Durability {
        /** Written to shared storage before a change returns; the storage copy is the truth. */
        DURABLE,
        /** Hazelcast memory only: rebuilt from the agents, or of no consequence when lost. */
        MEMORY,
        /** An append-only log: queried in Hazelcast, kept in segments on storage by a {@link DurableLog}. */
        LOG,
        /** Kept in each controller's own state directory and adopted through Hazelcast, never on shared storage. */
        LOCAL
    }

    /** Every map of cluster state. The collection name is also its directory under {@code control-plane/state/}. */
    public enum Name {
        VM_SPECS("vm-specs", Durability.DURABLE),
        /** The core's last decision per VM (host, generation, state): kept so a cold start resumes protecting it. */
        VM_PLACEMENTS("vm-placements", Durability.DURABLE),
        POLICY("policy", Durability.DURABLE),
        RULES("rules", Durability.DURABLE),
        MAINTENANCE("maintenance", Durability.DURABLE),
        /** The operator's migrate and relocate requests not yet taken by the leader. */
        MOVE_REQUESTS("move-requests", Durability.DURABLE),
        /** Hosts as the core last decided them (state, generation, maintenance), without per-heartbeat figures. */
        HOST_RECORDS("host-records", Durability.DURABLE),
        API_TOKENS("api-tokens", Durability.DURABLE),
        REVOKED_TOKENS("revoked-tokens", Durability.DURABLE),
        USERS("users", Durability.DURABLE),
        JOIN_TOKENS("join-tokens", Durability.DURABLE),
        AGENT_CERTIFICATES("agent-certificates", Durability.DURABLE),
        VM_STATUSES("vm-statuses", Durability.MEMORY),
        HOST_STATUSES("host-statuses", Durability.MEMORY),
        LOGIN_FAILURES("login-failures", Durability.MEMORY),
        EVENTS("events", Durability.LOG),
        AUDIT("audit", Durability.LOG),
        /**
         * The cluster CA: its key must not be readable by the hosts, which mount the shared storage, so it lives in
         * each controller's state directory (see CertificateAuthority).
         */
        CA("ca", Durability.LOCAL);

        private final String collection;
        private final Durability durability;

        Name(String collection, Durability durability) {
            this.collection = collection;
            this.durability = durability;
        }

        public String collection() {
            return collection;
        }

        public Durability durability() {
            return durability;
        }

        public String mapName() {
            return "vigil." + collection;
        }
    }

    private final HazelcastInstance hz;
    private final StateDirectory disk;
    private final Map<Name, StateMap<?>> open = new EnumMap<>(Name.class);

    public StateMaps(HazelcastInstance hz, StateDirectory disk) {
        this.hz = hz;
        this.disk = disk;
    }

    /** The map {@code name}, holding {@code type}s; one instance per name. Only for DURABLE and MEMORY maps. */
    @SuppressWarnings("unchecked")
    public synchronized <T> StateMap<T> map(Name name, Class<T> type) {
        if (name.durability() != Durability.DURABLE && name.durability() != Durability.MEMORY)
            throw new IllegalArgumentException(name + " is not a state map");
        return (StateMap<T>) open.computeIfAbsent(name, n -> {
            StateMap<T> m = new StateMap<>(n, type, hz, disk);
            // The first member of a cold cluster loads storage into memory; a joining member finds it loaded already
            // and only catches up. Corrupt records are reported by name and left out; nothing else stops.
            m.resync();
            return m;
        });
    }

    public StateDirectory directory() {
        return disk;
    }

    public HazelcastInstance hazelcast() {
        return hz;
    }

    /** Makes every open durable map's cache equal to storage; returns the corrupt records found. */
    public synchronized List<StateDirectory.Corrupt> resyncAll() {
        List<StateDirectory.Corrupt> corrupt = new ArrayList<>();
        for (StateMap<?> m : open.values()) {
            try {
                corrupt.addAll(m.resync());
            } catch (RuntimeException e) {
                log.warn("could not resync {} from storage: {}", m.name().collection(), e.toString());
            }
        }
        return corrupt;
    }
}
