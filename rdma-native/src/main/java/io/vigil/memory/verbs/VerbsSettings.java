package io.vigil.memory.verbs;

import java.time.Duration;

/**
 * How a verbs reader pipelines: at most {@code window} RDMA READs in flight (further bounded by the send queue depth
 * the device grants), each at most {@code maxMessageBytes} (longer reads are split), into a registered bounce buffer
 * of {@code window * maxMessageBytes}; a read in which no completion arrives for {@code stallTimeout} fails
 * UNREACHABLE. The stall timeout should exceed the transport's own retry time (retry count 7 at the connection
 * manager's ack timeout: some seconds), so that a dead peer is normally reported by the device itself.
 */
public record VerbsSettings(int window, int maxMessageBytes, Duration stallTimeout) {
    public static final VerbsSettings DEFAULTS = new VerbsSettings(32, 256 * 1024, Duration.ofSeconds(15));

    public VerbsSettings {
        if (window < 1) throw new IllegalArgumentException("window must be positive: " + window);
        if (maxMessageBytes < 1)
            throw new IllegalArgumentException("maxMessageBytes must be positive: " + maxMessageBytes);
        if ((long) window * maxMessageBytes > Integer.MAX_VALUE)
            throw new IllegalArgumentException("window * maxMessageBytes must stay under 2 GiB");
        if (stallTimeout == null || stallTimeout.isNegative() || stallTimeout.isZero())
            throw new IllegalArgumentException("stallTimeout must be positive");
    }

    int bounceBytes() {
        return window * maxMessageBytes;
    }
}
