package io.vigil.controller.auth;

import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;

/**
 * A password as it is stored: PBKDF2-HMAC-SHA256 (the JDK's {@link SecretKeyFactory}) over a random 16-byte salt, with
 * its parameters beside it, so that a later, stronger setting still verifies the passwords stored before it (OWASP's
 * 2023 advice for PBKDF2-HMAC-SHA256 is at least 210,000 iterations). Never leaves the controller: the API's user views
 * have no field for it.
 */
public record PasswordHash(String algorithm, int iterations, String salt, String hash) {
    public static final String PBKDF2_SHA256 = "PBKDF2WithHmacSHA256";
    public static final int ITERATIONS = 210_000;
    private static final int SALT_BYTES = 16;
    private static final int HASH_BITS = 256;
    private static final SecureRandom RANDOM = new SecureRandom();

    public PasswordHash {
        if (!PBKDF2_SHA256.equals(algorithm)) throw new IllegalArgumentException("unsupported password hash " + algorithm);
        if (iterations < 1) throw new IllegalArgumentException("iterations must be positive");
    }

    /** {@code password} hashed with a new salt and the current parameters. */
    public static PasswordHash of(String password) {
        byte[] salt = new byte[SALT_BYTES];
        RANDOM.nextBytes(salt);
        return new PasswordHash(PBKDF2_SHA256, ITERATIONS, b64(salt), b64(derive(password, salt, ITERATIONS)));
    }

    /** Whether {@code password} is the one hashed here (compared in constant time). */
    public boolean matches(String password) {
        byte[] expected = Base64.getDecoder().decode(hash);
        return MessageDigest.isEqual(expected, derive(password, Base64.getDecoder().decode(salt), iterations));
    }

    /**
     * Spends the time a real check takes, for an unknown user: a login for a name that does not exist must not answer
     * faster than one with a wrong password.
     */
    static void spendAsMuchTimeAsACheck(String password) {
        derive(password, new byte[SALT_BYTES], ITERATIONS);
    }

    private static byte[] derive(String password, byte[] salt, int iterations) {
        PBEKeySpec spec = new PBEKeySpec(password.toCharArray(), salt, iterations, HASH_BITS);
        try {
            return SecretKeyFactory.getInstance(PBKDF2_SHA256).generateSecret(spec).getEncoded();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK has no " + PBKDF2_SHA256, e);
        } finally {
            spec.clearPassword();
        }
    }

    private static String b64(byte[] bytes) {
        return Base64.getEncoder().encodeToString(bytes);
    }
}
