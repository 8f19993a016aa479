package io.vigil.controller.pki;

/**
 * A join token as the cluster keeps it (map {@value JoinTokens#MAP}, by id): the SHA-256 of its secret, never the
 * secret itself; {@code host} is null for a token any host may use. Times are epoch milliseconds.
 */
public record JoinTokenRecord(String id, String secretSha256, String host, long createdAt, long expiresAt) {

    boolean expired(long nowMillis) {
        return nowMillis >= expiresAt;
    }
}
