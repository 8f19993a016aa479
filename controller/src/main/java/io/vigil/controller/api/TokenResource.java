package io.vigil.controller.api;

import com.fasterxml.jackson.databind.JsonNode;
import io.vigil.controller.auth.ApiToken;
import io.vigil.controller.auth.ApiTokens;
import io.vigil.controller.auth.Principal;
import io.vigil.controller.auth.Role;
import java.util.List;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code /api/v1/tokens}: API tokens for automation, issued and revoked by admins, and the dashboard's sessions (listed
 * and revocable here too). A token's text is shown once, in the answer that issues it; listings show neither it nor
 * its hash. Revoking removes the stored record, so the token is refused at once by every controller member. The last
 * admin API token cannot be revoked (409): without one, automation, and an admin whose users are gone, would be locked
 * out.
 */
final class TokenResource {
    private static final Logger log = LoggerFactory.getLogger(TokenResource.class);
    static final String INVALID = "Invalid Token Request";
    /** Printable ASCII, not starting or ending with a space, 1 to 64 (openapi.yaml says the same). */
    static final Pattern NAME = Pattern.compile("[!-~]([ -~]{0,62}[!-~])?");
    static final long MIN_TTL_SECONDS = 60;
    static final long MAX_TTL_SECONDS = 10L * 365 * 24 * 3600;

    /** A stored token as the API shows it: no secret, no hash; {@code role} is what it grants now (a session's user's). */
    record TokenView(String id, String name, Role role, String kind, long createdAtMillis, String createdBy,
            Long expiresAtMillis) {
        static TokenView of(ApiToken t, Principal grant) {
            return new TokenView(t.id(), t.name(), grant.role(), t.kind(), t.createdAtMillis(), t.createdBy(),
                    t.expiresAtMillis());
        }
    }

    /** A token just issued: its text (shown this once) and its record. */
    record IssuedTokenView(String token, String id, String name, Role role, String kind, long createdAtMillis,
            String createdBy, Long expiresAtMillis) {}

    private final ApiTokens tokens;

    TokenResource(ApiTokens tokens) {
        this.tokens = tokens;
    }

    IssuedTokenView create(JsonNode body, Principal by) {
        String name = body.path("name").asText(null);
        if (name == null || !NAME.matcher(name).matches())
            throw ApiException.badRequest(INVALID, "field name: 1 to 64 printable ASCII characters, not starting or ending with a space");
        Role role;
        try {
            role = Role.fromWire(body.path("role").asText(null));
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest(INVALID, "field role: viewer, operator or admin");
        }
        Long ttlMillis = null;
        if (body.hasNonNull("ttlSeconds")) {
            long ttl = body.get("ttlSeconds").asLong();
            if (!body.get("ttlSeconds").canConvertToLong() || ttl < MIN_TTL_SECONDS || ttl > MAX_TTL_SECONDS)
                throw ApiException.badRequest(INVALID, "field ttlSeconds: from " + MIN_TTL_SECONDS + " to " + MAX_TTL_SECONDS
                        + " (10 years); leave it out for a token that does not expire");
            ttlMillis = ttl * 1000;
        }
        ApiTokens.Issued issued = tokens.issue(name, role, ApiToken.API, ttlMillis, by.name(), System.currentTimeMillis());
        ApiToken t = issued.record();
        log.info("API token {} ('{}', {}) issued by {}", t.id(), t.name(), t.role().wireName(), by.name());
        return new IssuedTokenView(issued.token(), t.id(), t.name(), t.role(), t.kind(), t.createdAtMillis(), t.createdBy(),
                t.expiresAtMillis());
    }

    /**
     * The tokens that grant anything now (of {@code kind}, if given), oldest first: not expired, and no session of a
     * user who is gone. Expired ones are dropped on the way.
     */
    List<TokenView> list(String kind) {
        long now = System.currentTimeMillis();
        tokens.removeExpired(now);
        return tokens.list().stream().filter(t -> kind == null || kind.equals(t.kind()))
                .flatMap(t -> tokens.grant(t, now).map(g -> TokenView.of(t, g)).stream()).toList();
    }

    TokenView get(String id) {
        long now = System.currentTimeMillis();
        return tokens.get(id).flatMap(t -> tokens.grant(t, now).map(g -> TokenView.of(t, g)))
                .orElseThrow(() -> unknown(id));
    }

    void revoke(String id, Principal by) {
        long now = System.currentTimeMillis();
        ApiToken t = tokens.get(id).orElseThrow(() -> unknown(id));
        if (ApiToken.API.equals(t.kind()) && t.role() == Role.ADMIN && !t.expiredAt(now)) {
            boolean another = tokens.list().stream().anyMatch(o -> !o.id().equals(id) && ApiToken.API.equals(o.kind())
                    && o.role() == Role.ADMIN && !o.expiredAt(now));
            if (!another)
                throw ApiException.conflict("token " + id + " ('" + t.name() + "') is the last admin API token; issue another"
                        + " one first (POST /api/v1/tokens with role admin), then revoke this one");
        }
        if (!tokens.revoke(id)) throw unknown(id);
        log.info("token {} ('{}', {} {}) revoked by {}", id, t.name(), t.kind(), t.role().wireName(), by.name());
    }

    private static ApiException unknown(String id) {
        return ApiException.notFound("no token with id '" + id + "' (it may have expired or been revoked); GET /api/v1/tokens lists them");
    }
}
