package io.vigil.controller.api;

import com.fasterxml.jackson.databind.JsonNode;
import io.vigil.controller.auth.ApiTokens;
import io.vigil.controller.auth.PasswordHash;
import io.vigil.controller.auth.Principal;
import io.vigil.controller.auth.Role;
import io.vigil.controller.auth.User;
import io.vigil.controller.auth.Users;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code /api/v1/users}: the people who log in to the dashboard, managed by admins. A user is shown as name, role and
 * times; the password's hash and salt never leave the store. A session acts with its user's current role, so a role
 * change holds at once for the user's open sessions (their event streams stay open: streaming needs only viewer); a
 * new password, or the user's deletion, ends the user's sessions and with them their event streams.
 */
final class UserResource {
    private static final Logger log = LoggerFactory.getLogger(UserResource.class);
    static final String INVALID = "Invalid User";

    /** A user as the API shows it. */
    record UserView(String name, Role role, long createdAtMillis, String createdBy, long updatedAtMillis) {
        static UserView of(User u) {
            return new UserView(u.name(), u.role(), u.createdAtMillis(), u.createdBy(), u.updatedAtMillis());
        }
    }

    private final Users users;
    private final ApiTokens tokens;

    UserResource(Users users, ApiTokens tokens) {
        this.users = users;
        this.tokens = tokens;
    }

    List<UserView> list() {
        return users.list().stream().map(UserView::of).toList();
    }

    boolean exists(String name) {
        return users.get(name).isPresent();
    }

    UserView get(String name) {
        return users.get(name).map(UserView::of).orElseThrow(() -> unknown(name));
    }

    UserView create(JsonNode body, Principal by) {
        String name = body.path("name").asText(null);
        Role role = role(body);
        String password = password(body);
        long now = System.currentTimeMillis();
        User user;
        try {
            user = new User(name, role, PasswordHash.of(password), now, by.name(), now);
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest(INVALID, e.getMessage());
        }
        if (!users.create(user))
            throw ApiException.conflict("a user named '" + name + "' already exists; PATCH /api/v1/users/" + name + " changes it");
        log.info("user {} ({}) created by {}", name, role.wireName(), by.name());
        return UserView.of(user);
    }

    /**
     * Changes the role and/or the password. A new password revokes the user's sessions; a new role needs nothing more
     * (sessions act with the user's current role, see {@link ApiTokens#grant}).
     */
    UserView patch(String name, JsonNode body, Principal by) {
        Role role = body.hasNonNull("role") ? role(body) : null;
        PasswordHash password = body.hasNonNull("password") ? PasswordHash.of(password(body)) : null;
        if (role == null && password == null)
            throw ApiException.badRequest(INVALID, "send role, password or both");
        Role[] before = new Role[1];
        User after = users.update(name, u -> {
            before[0] = u.role();
            return new User(u.name(), role == null ? u.role() : role, password == null ? u.password() : password,
                    u.createdAtMillis(), u.createdBy(), System.currentTimeMillis());
        }).orElseThrow(() -> unknown(name));
        boolean roleChanged = after.role() != before[0];
        int revoked = password != null ? tokens.revokeSessionsOf(name) : 0;
        log.info("user {} changed by {}:{}{} ({} session(s) revoked)", name, by.name(),
                roleChanged ? " role " + before[0].wireName() + " -> " + after.role().wireName() : "",
                password != null ? " password set" : "", revoked);
        return UserView.of(after);
    }

    void delete(String name, Principal by) {
        if (!users.delete(name)) throw unknown(name);
        int revoked = tokens.revokeSessionsOf(name);
        log.info("user {} deleted by {} ({} session(s) revoked)", name, by.name(), revoked);
    }

    private static Role role(JsonNode body) {
        try {
            return Role.fromWire(body.path("role").asText(null));
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest(INVALID, "field role: viewer, operator or admin");
        }
    }

    private static String password(JsonNode body) {
        String password = body.path("password").isTextual() ? body.get("password").asText() : null;
        try {
            User.checkNewPassword(password);
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest(INVALID, e.getMessage());
        }
        return password;
    }

    private static ApiException unknown(String name) {
        return ApiException.notFound("no user named '" + name + "'; GET /api/v1/users lists them");
    }
}
