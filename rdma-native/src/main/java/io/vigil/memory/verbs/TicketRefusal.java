package io.vigil.memory.verbs;

import java.util.Arrays;
import java.util.Optional;

/**
 * Why a keeper turned a verbs connection away. Sent as the reject's private data ({@code "VGL"} and a code), so that
 * the reader can say more than "rejected"; transports pad private data, so only the prefix counts.
 */
enum TicketRefusal {
    MALFORMED(1, "the connect request carried no ticket"),
    UNKNOWN(2, "the keeper issued no such ticket, or it was used already"),
    EXPIRED(3, "the ticket expired before the connection was made"),
    FAILED(4, "the keeper could not set up the connection");

    private static final byte[] MAGIC = {'V', 'G', 'L'};

    private final byte code;
    private final String reason;

    TicketRefusal(int code, String reason) {
        this.code = (byte) code;
        this.reason = reason;
    }

    String reason() {
        return reason;
    }

    byte[] privateData() {
        byte[] data = Arrays.copyOf(MAGIC, MAGIC.length + 1);
        data[MAGIC.length] = code;
        return data;
    }

    /** The refusal a reject's private data carries, if it came from a keeper. */
    static Optional<TicketRefusal> fromPrivateData(byte[] data) {
        if (data.length < MAGIC.length + 1 || !Arrays.equals(data, 0, MAGIC.length, MAGIC, 0, MAGIC.length))
            return Optional.empty();
        for (TicketRefusal refusal : values())
            if (refusal.code == data[MAGIC.length]) return Optional.of(refusal);
        return Optional.empty();
    }
}
