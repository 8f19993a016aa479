package io.vigil.protocol.config;

/** Bad configuration; the message names the field and says what is wrong, for a person to fix. */
public final class ConfigException extends RuntimeException {
    public ConfigException(String message) {
        super(message);
    }

    public ConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}
