package io.vigil.controller.auth;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.HazelcastJsonValue;
import com.hazelcast.map.EntryProcessor;
import com.hazelcast.map.ExtendedMapEntry;
import com.hazelcast.map.IMap;
import io.vigil.protocol.Json;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Slows password guessing at POST /api/v1/login. Every failed login counts against the user name tried and against the
 * caller's address; a count is forgotten {@code window} after its last failure. Once a name has {@code userLimit}
 * failures (or an address {@code addressLimit}), logins for that name (from that address) are refused, even with the
 * right password, until {@code lockout} after the last failure; each failure after that locks it again. So a guesser
 * gets {@code userLimit} tries, then one per {@code lockout}. A successful login clears its name's count (not its
 * address's, so one good account does not reset a guesser's address).
 *
 * <p>The counts live in a Hazelcast map ({@code vigil.login-failures}, entries expiring with the window) updated by
 * entry processors, so they hold across every controller member and concurrent failures are all counted.
 */
public final class LoginThrottle {
    public static final String MAP = io.vigil.controller.store.StateMaps.Name.LOGIN_FAILURES.mapName();

    /** The limits; {@link #DEFAULT}: 5 per name, 20 per address, locked for 60 s, counted over 15 min. */
    public record Rules(int userLimit, int addressLimit, Duration lockout, Duration window) {
        public static final Rules DEFAULT = new Rules(5, 20, Duration.ofSeconds(60), Duration.ofMinutes(15));
    }

    /** Failures counted under one key, the last one at {@code lastFailureMillis}. */
    record Failures(int count, long lastFailureMillis) {}

    private final IMap<String, HazelcastJsonValue> failures;
    private final Rules rules;

    public LoginThrottle(HazelcastInstance hz, Rules rules) {
        this.failures = hz.getMap(MAP);
        this.rules = rules;
    }

    public Rules rules() {
        return rules;
    }

    /** How long until a login for {@code user} from {@code address} may be tried; 0: now. */
    public long waitMillis(String user, String address, long nowMillis) {
        return Math.max(waitMillis(userKey(user), rules.userLimit(), nowMillis),
                waitMillis(addressKey(address), rules.addressLimit(), nowMillis));
    }

    /** Counts a failed login for {@code user} from {@code address}. */
    public void failed(String user, String address, long nowMillis) {
        RecordFailure count = new RecordFailure(nowMillis, rules.window().toMillis());
        failures.executeOnKeys(java.util.Set.of(userKey(user), addressKey(address)), count);
    }

    /** A successful login: the name's failures are forgotten. */
    public void succeeded(String user) {
        failures.delete(userKey(user));
    }

    private long waitMillis(String key, int limit, long nowMillis) {
        HazelcastJsonValue v = failures.get(key);
        if (v == null) return 0;
        Failures f = Json.read(v.getValue(), Failures.class);
        if (f.count() < limit) return 0;
        return Math.max(0, f.lastFailureMillis() + rules.lockout().toMillis() - nowMillis);
    }

    private static String userKey(String user) {
        return "user:" + user;
    }

    private static String addressKey(String address) {
        return "address:" + address;
    }

    /** Adds one failure to an entry and keeps it for the window from now; runs on the entry's partition, atomically. */
    static final class RecordFailure implements EntryProcessor<String, HazelcastJsonValue, Void> {
        private static final long serialVersionUID = 1L;
        private final long nowMillis;
        private final long windowMillis;

        RecordFailure(long nowMillis, long windowMillis) {
            this.nowMillis = nowMillis;
            this.windowMillis = windowMillis;
        }

        @Override
        public Void process(Map.Entry<String, HazelcastJsonValue> entry) {
            int before = entry.getValue() == null ? 0 : Json.read(entry.getValue().getValue(), Failures.class).count();
            HazelcastJsonValue next = new HazelcastJsonValue(Json.write(new Failures(before + 1, nowMillis)));
            ((ExtendedMapEntry<String, HazelcastJsonValue>) entry).setValue(next, windowMillis, TimeUnit.MILLISECONDS);
            return null;
        }
    }
}
