package io.vigil.memory.keeper;

/**
 * The memory keeper's wire protocol (rdma-native/README.md, "Memory keeper protocol"): constants shared by the keeper
 * and its TCP clients. All integers are big-endian (network order).
 */
public final class KeeperProtocol {
    /** ASCII {@code VGMK}, first in every OPEN request and OPEN reply. */
    public static final int MAGIC = 0x56474D4B;
    public static final int VERSION = 1;

    /** OPEN for pipelined READs on this connection. */
    public static final int OP_OPEN_TCP = 1;
    /** OPEN for RDMA: the reply carries a {@link io.vigil.memory.VerbsTicket}, then the keeper closes. */
    public static final int OP_OPEN_VERBS = 2;

    /** magic u32, version u16, op u16, region length u16, grant length u16; then region and grant bytes. */
    public static final int OPEN_REQUEST_BYTES = 12;
    /** magic u32, version u16, status u16, body length u32; then the body. */
    public static final int OPEN_REPLY_BYTES = 12;
    /** Body of an OK reply to OP_OPEN_TCP: region size u64, max read length u32. */
    public static final int OPEN_TCP_BODY_BYTES = 12;
    /** Body of an OK reply to OP_OPEN_VERBS: address u64, rkey u32, size u64, ticket (16 bytes). */
    public static final int OPEN_VERBS_BODY_BYTES = 8 + 4 + 8 + 16;
    /** id u64, offset u64, length u32. */
    public static final int READ_REQUEST_BYTES = 20;
    /** id u64, status u16, reserved u16, length u32; then length bytes of data (or of an error message). */
    public static final int READ_REPLY_BYTES = 16;

    /** Longer names are refused before they are read: a valid region name is at most 81 bytes. */
    public static final int MAX_REGION_BYTES = 256;
    public static final int MAX_GRANT_BYTES = 2048;
    /** Error messages are cut to this many bytes. */
    public static final int MAX_MESSAGE_BYTES = 1024;
    /** The keeper's default largest READ; the OPEN reply tells the client the actual one. */
    public static final int DEFAULT_MAX_READ_BYTES = 16 << 20;

    private KeeperProtocol() {}
}
