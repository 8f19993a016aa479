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
 *
 * <p>The values of the {@linkplain Name#secret secret} maps (users, API tokens, join tokens, the CA) are sealed with
 * the cluster's {@link SealingKey} before they enter Hazelcast or shared storage, and opened on reading: a member
 * admitted to the Hazelcast cluster without the cluster secret, or a host reading the shared storage, sees their keys
 * (user names, token ids) and ciphertext, and cannot write a value that a controller would accept.
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

    /**
     * Every map of cluster state. The collection name is also its directory under {@code control-plane/state/}.
     * Secret maps hold password hashes, token hashes or a private key: their values are sealed.
     */
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
        API_TOKENS("api-tokens", Durability.DURABLE, true),
        REVOKED_TOKENS("revoked-tokens", Durability.DURABLE),
        USERS("users", Durability.DURABLE, true),
        JOIN_TOKENS("join-tokens", Durability.DURABLE, true),
        AGENT_CERTIFICATES("agent-certificates", Durability.DURABLE),
        VM_STATUSES("vm-statuses", Durability.MEMORY),
        HOST_STATUSES("host-statuses", Durability.MEMORY),
        LOGIN_FAILURES("login-failures", Durability.MEMORY),
        EVENTS("events", Durability.LOG),
        AUDIT("audit", Durability.LOG),
        /**
         * The cluster CA: its key must not be readable by the hosts, which mount the shared storage, so it lives in
         * each controller's state directory (see CertificateAuthority); in Hazelcast it is sealed ({@link #localMap}).
         */
        CA("ca", Durability.LOCAL, true);

        private final String collection;
        private final Durability durability;
        private final boolean secret;

        Name(String collection, Durability durability) {
            this(collection, durability, false);
        }

        Name(String collection, Durability durability, boolean secret) {
            this.collection = collection;
            this.durability = durability;
            this.secret = secret;
        }

        /** Whether values are sealed with the cluster's key in Hazelcast and on storage. */
        public boolean secret() {
            return secret;
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
    private final SealingKey sealing;
    private final Map<Name, StateMap<?>> open = new EnumMap<>(Name.class);

    /** {@code disk} must have been {@linkplain StorageSealing#bind bound} to {@code sealing} when it holds state already. */
    public StateMaps(HazelcastInstance hz, StateDirectory disk, SealingKey sealing) {
        this.hz = hz;
        this.disk = disk;
        this.sealing = java.util.Objects.requireNonNull(sealing);
    }

    /** The map {@code name}, holding {@code type}s; one instance per name. Only for DURABLE and MEMORY maps. */
    @SuppressWarnings("unchecked")
    public synchronized <T> StateMap<T> map(Name name, Class<T> type) {
        if (name.durability() != Durability.DURABLE && name.durability() != Durability.MEMORY)
            throw new IllegalArgumentException(name + " is not a state map");
        return (StateMap<T>) open.computeIfAbsent(name, n -> {
            StateMap<T> m = new StateMap<>(n, type, hz, disk, n.secret() ? sealing : null);
            // The first member of a cold cluster loads storage into memory; a joining member finds it loaded already
            // and only catches up. Corrupt records are reported by name and left out; nothing else stops.
            m.resync();
            return m;
        });
    }

    /** The sealed map {@code name} of a {@link Durability#LOCAL} collection (the CA), holding {@code type}s. */
    public <T> SealedMap<T> localMap(Name name, Class<T> type) {
        if (name.durability() != Durability.LOCAL || !name.secret())
            throw new IllegalArgumentException(name + " is not a local secret map");
        return new SealedMap<>(name, type, hz.getMap(name.mapName()), sealing);
    }

    /** The cluster's sealing key, for what else carries secrets through Hazelcast (the agent relay's topics). */
    public SealingKey sealing() {
        return sealing;
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
