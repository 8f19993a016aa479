package io.vigil.controller.auth;

import java.util.regex.Pattern;

/**
 * A person who logs in to the dashboard (or with POST /api/v1/login): a name, a role, and the password as a
 * {@link PasswordHash}. {@code updatedAtMillis}: the last change of role or password.
 */
public record User(String name, Role role, PasswordHash password, long createdAtMillis, String createdBy,
        long updatedAtMillis) {
    /** Letters, digits, '.', '_', '@' or '-', starting with a letter or digit; at most 64 (openapi.yaml says the same). */
    public static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._@-]{0,63}");
    public static final int MIN_PASSWORD = 12;
    /** PBKDF2 reads the whole password at every iteration: a bound keeps a login cheap to refuse. */
    public static final int MAX_PASSWORD = 1024;

    public User {
        if (name == null || !NAME.matcher(name).matches())
            throw new IllegalArgumentException("field name: letters, digits, '.', '_', '@' or '-', at most 64, starting with a letter or digit");
        if (role == null) throw new IllegalArgumentException("field role: required (viewer, operator or admin)");
        if (password == null) throw new IllegalArgumentException("field password: required");
    }

    /** Refuses a password too short or too long to be set, naming the field. */
    public static void checkNewPassword(String password) {
        if (password == null || password.codePointCount(0, password.length()) < MIN_PASSWORD)
            throw new IllegalArgumentException("field password: at least " + MIN_PASSWORD + " characters");
        if (password.length() > MAX_PASSWORD)
            throw new IllegalArgumentException("field password: at most " + MAX_PASSWORD + " characters");
    }
}
