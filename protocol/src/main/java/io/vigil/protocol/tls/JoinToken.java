package io.vigil.protocol.tls;

import java.security.SecureRandom;
import java.util.Locale;

/**
 * A join token as the operator copies it from the controller to a new host: {@code vj1.<id>.<secret>.<caFingerprint>}.
 * The id (8 lowercase hex digits) names the token, the secret (32 hex digits, 128 bits) proves it, and the CA
 * fingerprint (SHA-256 of the controller CA's certificate) lets the agent pin the controller's CA while it enrolls,
 * before it trusts anything (as kubeadm's discovery token CA cert hash does).
 */
public record JoinToken(String id, String secret, String caFingerprint) {
    public static final String PREFIX = "vj1";
    private static final SecureRandom RANDOM = new SecureRandom();

    public JoinToken {
        if (id == null || !id.matches("[0-9a-f]{8}")) throw new IllegalArgumentException("the token id must be 8 lowercase hex digits");
        if (secret == null || !secret.matches("[0-9a-f]{32,128}"))
            throw new IllegalArgumentException("the token secret must be 32 to 128 lowercase hex digits");
        if (!Fingerprints.isFingerprint(caFingerprint))
            throw new IllegalArgumentException("the token's CA fingerprint must be 64 hex digits");
        caFingerprint = caFingerprint.toLowerCase(Locale.ROOT);
    }

    /** A new token with a random id and a random 128-bit secret, pinning the CA of {@code caFingerprint}. */
    public static JoinToken generate(String caFingerprint) {
        return new JoinToken(randomHex(4), randomHex(16), caFingerprint);
    }

    /** Parses the text form; the message of the {@link IllegalArgumentException} says what is wrong, never the secret. */
    public static JoinToken parse(String text) {
        if (text == null || text.isBlank()) throw new IllegalArgumentException("no join token given");
        String[] parts = text.strip().split("\\.", -1);
        if (parts.length != 4 || !PREFIX.equals(parts[0]))
            throw new IllegalArgumentException("a join token looks like vj1.<id>.<secret>.<ca fingerprint>");
        return new JoinToken(parts[1], parts[2], parts[3]);
    }

    public String text() {
        return PREFIX + "." + id + "." + secret + "." + caFingerprint;
    }

    /** Never the secret: tokens end up in logs through records' toString. */
    @Override
    public String toString() {
        return "JoinToken[" + id + "]";
    }

    private static String randomHex(int bytes) {
        byte[] b = new byte[bytes];
        RANDOM.nextBytes(b);
        return java.util.HexFormat.of().formatHex(b);
    }
}
