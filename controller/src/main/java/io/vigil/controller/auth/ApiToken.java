package io.vigil.controller.auth;

/**
 * A stored API token: everything but the secret, of which only the SHA-256 ({@code secretSha256}, hex) is kept.
 * {@code expiresAtMillis} null: it does not expire. {@code kind}: {@code api} (created through the API or the bootstrap
 * file) or {@code session} (a dashboard login). A session's {@code role} is its user's at login; it acts with the user's
 * role as it is at each request ({@link ApiTokens#grant}).
 */
public record ApiToken(String id, String name, Role role, String kind, String secretSha256, long createdAtMillis,
        String createdBy, Long expiresAtMillis) {

    public static final String API = "api";
    public static final String SESSION = "session";

    public boolean expiredAt(long nowMillis) {
        return expiresAtMillis != null && nowMillis >= expiresAtMillis;
    }

    public Principal principal() {
        return new Principal(name, role, id, kind);
    }
}
