package io.vigil.controller.pki;

import io.vigil.controller.store.StateMap;
import io.vigil.controller.store.StateMaps;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.HazelcastJsonValue;
import com.hazelcast.map.IMap;
import io.vigil.protocol.Json;
import io.vigil.protocol.tls.Fingerprints;
import io.vigil.protocol.tls.JoinToken;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * One-time, short-lived join tokens (map {@value #MAP}): an operator creates one, optionally bound to a host name, and
 * hands its text to a new host's agent, which trades it for a certificate. The map keeps only the SHA-256 of each
 * secret, compared in constant time. A token is consumed atomically with {@code IMap.remove(id, storedValue)}, so of
 * two enrollments presenting the same token exactly one wins. Entries expire from the map an hour after the token
 * does (an expired token is refused before that anyway).
 */
public final class JoinTokens {
    public static final long DEFAULT_TTL_SECONDS = 3600;
    public static final long MIN_TTL_SECONDS = 60;
    public static final long MAX_TTL_SECONDS = 7 * 24 * 3600;

    private final StateMap<JoinTokenRecord> map;
    private final CertificateAuthority authority;
    private final LongSupplier clock;

    /** @param clock epoch milliseconds */
    public JoinTokens(StateMaps maps, CertificateAuthority authority, LongSupplier clock) {
        this.map = maps.map(StateMaps.Name.JOIN_TOKENS, JoinTokenRecord.class);
        this.authority = authority;
        this.clock = clock;
    }

    /** A new token and its text, which is shown this once. */
    public record Created(JoinToken token, JoinTokenRecord record) {}

    /** Creates a token valid for {@code ttlSeconds} (null: an hour), for {@code host} only unless null. */
    public Created create(String host, Long ttlSeconds) {
        long ttl = ttlSeconds == null ? DEFAULT_TTL_SECONDS : ttlSeconds;
        if (ttl < MIN_TTL_SECONDS || ttl > MAX_TTL_SECONDS)
            throw new IllegalArgumentException("ttlSeconds must be between " + MIN_TTL_SECONDS + " and " + MAX_TTL_SECONDS);
        if (host != null && !Hosts.isValid(host)) throw new IllegalArgumentException(Hosts.RULE + ", not '" + host + "'");
        long now = clock.getAsLong();
        while (true) {
            JoinToken token = JoinToken.generate(authority.fingerprint());
            JoinTokenRecord record = new JoinTokenRecord(token.id(), hash(token.secret()), host, now, now + ttl * 1000);
            if (map.create(token.id(), record)) {
                return new Created(token, record);
            }
        }
    }

    /** Unexpired tokens, soonest to expire first. */
    public List<JoinTokenRecord> list() {
        long now = clock.getAsLong();
        return map.values().stream().filter(t -> !t.expired(now))
                .sorted(Comparator.comparingLong(JoinTokenRecord::expiresAt).thenComparing(JoinTokenRecord::id)).toList();
    }

    /** Deletes a token; false if there was none. */
    public boolean delete(String id) {
        return map.remove(id);
    }

    /** Why a token is not accepted; said to the agent as it is. */
    public static final class Refused extends Exception {
        Refused(String reason) {
            super(reason, null, false, false);
        }
    }

    /**
     * The stored token {@code token} proves, if it is known, its secret matches and it has not expired. Consumes
     * nothing: see {@link #consume}.
     */
    public JoinTokenRecord check(JoinToken token) throws Refused {
        if (!token.caFingerprint().equals(authority.fingerprint()))
            throw new Refused("the join token was made for another controller cluster (its CA fingerprint differs)");
        JoinTokenRecord record = map.get(token.id()).orElse(null);
        // Same answer for an unknown id and a wrong secret: the caller learns nothing about which ids exist.
        if (record == null || !MessageDigest.isEqual(hash(token.secret()).getBytes(StandardCharsets.US_ASCII),
                record.secretSha256().getBytes(StandardCharsets.US_ASCII))) {
            throw new Refused("unknown or already used join token " + token.id() + "; ask the operator for a new one");
        }
        if (record.expired(clock.getAsLong()))
            throw new Refused("join token " + token.id() + " expired; ask the operator for a new one");
        return record;
    }

    /** Uses the token up, if nobody else has: true for exactly one of several callers holding the same record. */
    public boolean consume(JoinTokenRecord record) {
        return map.removeIf(record.id(), record::equals);
    }

    public Optional<JoinTokenRecord> get(String id) {
        return map.get(id);
    }

    static String hash(String secret) {
        return Fingerprints.sha256Hex(secret.getBytes(StandardCharsets.US_ASCII));
    }
}
