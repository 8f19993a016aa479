package io.vigil.controller.api;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonValue;
import com.fasterxml.jackson.databind.JsonNode;
import io.vigil.controller.auth.ApiToken;
import io.vigil.controller.auth.ApiTokens;
import io.vigil.controller.auth.LoginThrottle;
import io.vigil.controller.auth.Principal;
import io.vigil.controller.auth.Role;
import io.vigil.controller.auth.User;
import io.vigil.controller.auth.Users;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code /api/v1/login} and {@code /api/v1/logout}: the dashboard's sessions. A login with a user's name and password
 * gets a session token: an API token of kind {@code session}, named after the user, valid for {@link #SESSION} (12 h),
 * acting with the user's role as it is at each request (a role change holds at once; deleting the user ends it). A
 * wrong password and an unknown user get the same 401, in about the same time; the {@link LoginThrottle} slows
 * guessing (429 with Retry-After). Logout revokes the calling session.
 */
final class SessionResource {
    private static final Logger log = LoggerFactory.getLogger(SessionResource.class);
    static final Duration SESSION = Duration.ofHours(12);
    static final String LOGIN_FAILED = "unknown user or wrong password";

    /** What a login answers: the session token (shown this once), who it is for, and when it expires. */
    record SessionView(String token, String name, Role role, String kind, long expiresAtMillis) {}

    private final Users users;
    private final ApiTokens tokens;
    private final LoginThrottle throttle;

    SessionResource(Users users, ApiTokens tokens, LoginThrottle throttle) {
        this.users = users;
        this.tokens = tokens;
        this.throttle = throttle;
    }

    /** A new session for the user named in {@code body} if the password is right; {@code address}: the caller's. */
    Login login(JsonNode body, String address) {
        String name = body.path("user").asText("");
        String password = body.path("password").asText("");
        long now = System.currentTimeMillis();
        long waitMillis = throttle.waitMillis(name, address, now);
        if (waitMillis > 0) {
            long seconds = (waitMillis + 999) / 1000;
            log.warn("login refused for {} from {}: too many failed logins, locked for {} s more",
                    users.get(name).isPresent() ? "user " + name : "an unknown user", address, seconds);
            throw new ApiException(429, "Too Many Login Attempts", "too many failed logins for this user or from this"
                    + " address; try again in " + seconds + " s", Map.of("retryAfterSeconds", seconds));
        }
        Optional<User> user = password.length() > User.MAX_PASSWORD ? Optional.empty() : users.authenticate(name, password);
        if (user.isEmpty()) {
            throttle.failed(name, address, now);
            // A name that is no user may be a password typed into the wrong field: it is not logged.
            log.info("failed login for {} from {}", users.get(name).isPresent() ? "user " + name : "an unknown user", address);
            throw new ApiException(401, "Login Failed", LOGIN_FAILED);
        }
        throttle.succeeded(name);
        tokens.removeExpired(now);
        User u = user.get();
        ApiTokens.Issued issued = tokens.issue(u.name(), u.role(), ApiToken.SESSION, SESSION.toMillis(), u.name(), now);
        log.info("user {} logged in from {} (session {})", u.name(), address, issued.record().id());
        return new Login(new SessionView(issued.token(), u.name(), u.role(), ApiToken.SESSION,
                issued.record().expiresAtMillis()), issued.record().principal());
    }

    /** A login's answer (the session, as JSON) and the principal of its new session (for the audit log). */
    record Login(@JsonValue SessionView session, @JsonIgnore Principal principal) {}

    /** Ends the caller's session; an API token is not a session (409: DELETE /api/v1/tokens/{id} revokes it). */
    void logout(Principal who) {
        if (!ApiToken.SESSION.equals(who.kind()))
            throw ApiException.conflict("logout ends a dashboard session, and this request carries an API token (kind "
                    + who.kind() + "); DELETE /api/v1/tokens/" + who.tokenId() + " revokes it");
        tokens.revoke(who.tokenId());
        log.info("user {} logged out (session {})", who.name(), who.tokenId());
    }
}
