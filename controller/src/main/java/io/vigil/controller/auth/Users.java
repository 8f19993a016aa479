package io.vigil.controller.auth;

import io.vigil.controller.store.StateMap;
import io.vigil.controller.store.StateMaps;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * The dashboard's users, by name, in the durable state map {@code users}. Passwords are kept only as
 * {@link PasswordHash}es. Changes are compare-and-set, so two admins editing one user at once do not lose each
 * other's change.
 */
public final class Users {
    private final StateMap<User> users;

    public Users(StateMaps maps) {
        this.users = maps.map(StateMaps.Name.USERS, User.class);
    }

    /** Stores {@code user} unless one of that name exists; false then. */
    public boolean create(User user) {
        return users.create(user.name(), user);
    }

    public Optional<User> get(String name) {
        return users.get(name);
    }

    /** Every user, by name. */
    public List<User> list() {
        List<User> out = new ArrayList<>(users.values());
        out.sort(Comparator.comparing(User::name));
        return out;
    }

    /** Replaces the user {@code name} with {@code change} of it; empty if there is none. */
    public Optional<User> update(String name, UnaryOperator<User> change) {
        return users.update(name, change);
    }

    /** Removes the user {@code name}; false if there is none. */
    public boolean delete(String name) {
        return users.remove(name);
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
}
