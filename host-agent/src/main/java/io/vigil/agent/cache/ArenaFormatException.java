package io.vigil.agent.cache;

import java.io.IOException;

/** The bytes are not an arena this code can read: wrong magic, an unknown layout version, inconsistent sizes. */
public final class ArenaFormatException extends IOException {
    public ArenaFormatException(String message) {
        super(message);
    }
}
