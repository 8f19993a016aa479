package io.vigil.memory.keeper;

import java.time.Duration;

/**
 * What the keeper allows one peer, so that no peer (hostile or stuck) can take the keeper's memory or threads from
 * the others. {@code handshakeTimeout}: from accept to a complete OPEN (absolute, so a peer without a grant holds a
 * slot no longer than this); {@code idleTimeout}: longest wait for the next READ; {@code stallTimeout}: longest a
 * reply may wait for the peer to take its bytes.
 */
public record KeeperLimits(int maxConnections, int maxReadBytes, Duration handshakeTimeout, Duration idleTimeout,
        Duration stallTimeout) {
    public KeeperLimits {
        if (maxConnections < 1) throw new IllegalArgumentException("maxConnections must be positive");
        if (maxReadBytes < 4096) throw new IllegalArgumentException("maxReadBytes must be at least 4096");
        for (Duration d : new Duration[] {handshakeTimeout, idleTimeout, stallTimeout}) {
            if (d == null || d.isNegative() || d.isZero()) throw new IllegalArgumentException("timeouts must be positive");
        }
    }

    public static KeeperLimits defaults() {
        return new KeeperLimits(64, KeeperProtocol.DEFAULT_MAX_READ_BYTES, Duration.ofSeconds(5), Duration.ofMinutes(2),
                Duration.ofSeconds(30));
    }
}
