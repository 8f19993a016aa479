package io.vigil.memory;

import java.io.IOException;

/** A remote read or open that did not happen, and why. */
public class RemoteMemoryException extends IOException {
    public enum Kind {
        /** No connection to the keeper (down, wrong address, timed out). */
        UNREACHABLE,
        /** The keeper refused the grant (bad signature, other keeper, expired, region not covered). */
        REFUSED,
        /** The keeper holds no such region. */
        NO_SUCH_REGION,
        /** A read outside the region. */
        OUT_OF_RANGE,
        /** The peer broke the protocol or the transport failed mid-way. */
        PROTOCOL
    }

    private final Kind kind;

    public RemoteMemoryException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public RemoteMemoryException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}
