package io.vigil.controller.auth;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.HazelcastJsonValue;
import com.hazelcast.map.IMap;
import io.vigil.protocol.Json;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * The dashboard's users, in a Hazelcast map shared by every controller member ({@code vigil.users}, by name). Passwords
 * are kept only as {@link PasswordHash}es. Changes are compare-and-set, so two admins editing one user at once do not
 * lose each other's change.
 */
public final class Users {
    public static final String MAP = "vigil.users";

    private final IMap<String, HazelcastJsonValue> users;

    public Users(HazelcastInstance hz) {
        this.users = hz.getMap(MAP);
    }

    /** Stores {@code user} unless one of that name exists; false then. */
    public boolean create(User user) {
        return users.putIfAbsent(user.name(), json(user)) == null;
    }

    public Optional<User> get(String name) {
        HazelcastJsonValue v = users.get(name);
        return v == null ? Optional.empty() : Optional.of(read(v));
    }

    /** Every user, by name. */
    public List<User> list() {
        List<User> out = new ArrayList<>();
        for (HazelcastJsonValue v : users.values()) out.add(read(v));
        out.sort(Comparator.comparing(User::name));
        return out;
    }

    /** Replaces the user {@code name} with {@code change} of it; empty if there is none. */
    public Optional<User> update(String name, UnaryOperator<User> change) {
        while (true) {
            HazelcastJsonValue before = users.get(name);
            if (before == null) return Optional.empty();
            User next = change.apply(read(before));
            if (users.replace(name, before, json(next))) return Optional.of(next);
        }
    }

    /** Removes the user {@code name}; false if there is none. */
    public boolean delete(String name) {
        return users.remove(name) != null;
    }

    /**
     * The user {@code name} if {@code password} is theirs. An unknown name costs as much time as a wrong password, so
     * the answer's timing does not tell which names exist.
     */
    public Optional<User> authenticate(String name, String password) {
        Optional<User> user = name == null ? Optional.empty() : get(name);
        if (user.isEmpty()) {
            PasswordHash.spendAsMuchTimeAsACheck(password);
            return Optional.empty();
        }
        return user.get().password().matches(password) ? user : Optional.empty();
    }

    private static HazelcastJsonValue json(User user) {
        return new HazelcastJsonValue(Json.write(user));
    }

    private static User read(HazelcastJsonValue v) {
        return Json.read(v.getValue(), User.class);
    }
}
