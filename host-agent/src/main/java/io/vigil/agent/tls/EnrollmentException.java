package io.vigil.agent.tls;

/**
 * Enrollment cannot succeed by trying again: no join token, a token the controller refused (unknown, used, expired,
 * for another host), or a controller whose CA is not the one the token names. The message says what to do.
 */
public final class EnrollmentException extends Exception {
    public EnrollmentException(String message) {
        super(message);
    }

    public EnrollmentException(String message, Throwable cause) {
        super(message, cause);
    }
}
