package io.vigil.memory.keeper;

import io.vigil.memory.RemoteMemoryException;

/** The status of an OPEN or READ reply, and what a client makes of it. */
public enum KeeperStatus {
    OK(0, null),
    /** The grant does not verify, is for another keeper, has expired, or does not cover the region. */
    REFUSED(1, RemoteMemoryException.Kind.REFUSED),
    NO_SUCH_REGION(2, RemoteMemoryException.Kind.NO_SUCH_REGION),
    /** A READ past the region's size as of OPEN. */
    OUT_OF_RANGE(3, RemoteMemoryException.Kind.OUT_OF_RANGE),
    /** Unsupported version or op, a length over a limit: the client broke the protocol. */
    BAD_REQUEST(4, RemoteMemoryException.Kind.PROTOCOL),
    /**
     * The grant is valid but every serving slot is taken; or, before the OPEN is read, the line of connections waiting
     * for a handshake slot is full.
     */
    BUSY(5, RemoteMemoryException.Kind.UNREACHABLE),
    /** OP_OPEN_VERBS at a keeper without an RDMA device: the region is not reachable over verbs. */
    NO_VERBS(6, RemoteMemoryException.Kind.UNREACHABLE),
    /** The keeper failed to read the arena or to export it. */
    KEEPER_ERROR(7, RemoteMemoryException.Kind.PROTOCOL);

    private final int code;
    private final RemoteMemoryException.Kind kind;

    KeeperStatus(int code, RemoteMemoryException.Kind kind) {
        this.code = code;
        this.kind = kind;
    }

    public int code() {
        return code;
    }

    /** The kind of failure a client reports for this status (null for OK). */
    public RemoteMemoryException.Kind kind() {
        return kind;
    }

    /** The status with {@code code}; an unknown code is a protocol error on the keeper's part. */
    public static KeeperStatus of(int code) {
        for (KeeperStatus s : values()) if (s.code == code) return s;
        return null;
    }
}
