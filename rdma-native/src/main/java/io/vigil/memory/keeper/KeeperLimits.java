package io.vigil.memory.keeper;

import java.time.Duration;

/**
 * What the keeper allows, so that no peer (hostile or stuck) can take the keeper's memory, threads or connection slots
 * from the others. A connection goes through two stages, each with its own limits (rdma-native/README.md, "Memory keeper"):
 *
 * <p><b>Handshake</b>, from accept until {@link RegionAccess} has accepted its grant. At most {@code maxHandshakes}
 * are read at once, at most {@code maxHandshakesPerAddress} of them from one remote address, each within
 * {@code handshakeTimeout} of its start (absolute: a trickle of bytes does not extend it). Further connections wait
 * for a handshake slot, at most {@code maxWaiting} of them ({@link HandshakeStage} says who goes next and who is
 * turned away). A connection in this stage holds no serving slot.
 *
 * <p><b>Serving</b>, once its grant is accepted: at most {@code maxConnections} at once; a granted peer that finds
 * none free gets BUSY. {@code idleTimeout}: longest wait for the next READ; {@code stallTimeout}: longest a reply may
 * wait for the peer to take its bytes.
 */
public record KeeperLimits(int maxConnections, int maxReadBytes, Duration handshakeTimeout, Duration idleTimeout,
        Duration stallTimeout, int maxHandshakes, int maxHandshakesPerAddress, int maxWaiting) {
    public KeeperLimits {
        if (maxConnections < 1) throw new IllegalArgumentException("maxConnections must be positive");
        if (maxReadBytes < 4096) throw new IllegalArgumentException("maxReadBytes must be at least 4096");
        for (Duration d : new Duration[] {handshakeTimeout, idleTimeout, stallTimeout}) {
            if (d == null || d.isNegative() || d.isZero()) throw new IllegalArgumentException("timeouts must be positive");
        }
        if (maxHandshakes < 1) throw new IllegalArgumentException("maxHandshakes must be positive");
        if (maxHandshakesPerAddress < 1 || maxHandshakesPerAddress > maxHandshakes)
            throw new IllegalArgumentException("maxHandshakesPerAddress must be between 1 and maxHandshakes");
        if (maxWaiting < 0) throw new IllegalArgumentException("maxWaiting must not be negative");
    }

    /**
     * 64 serving connections; handshakes: 8 at once, 2 per address, 1 s each, 64 waiting. A client sends its whole
     * OPEN (at most 2.3 KB) in one write right after connecting, so a real handshake lasts well under a millisecond and
     * 8 slots absorb any burst; 1 s still allows a few retransmissions on a LAN, and is shorter than the 1.5 s a
     * recovering host gives the keeper (controller {@code Recoveries.KEEPER_DEADLINE_MILLIS}), so a host whose
     * handshake had to wait for a flooder's slot to time out is still answered in time. 2 per address, like
     * OpenSSH's PerSourceMaxStartups below MaxStartups, keeps one address from holding every handshake slot; 64
     * waiting holds a recovering host's whole burst (its agent opens up to 16 regions at once) for a few file
     * descriptors.
     */
    public static KeeperLimits defaults() {
        return new KeeperLimits(64, KeeperProtocol.DEFAULT_MAX_READ_BYTES, Duration.ofSeconds(1), Duration.ofMinutes(2),
                Duration.ofSeconds(30), 8, 2, 64);
    }
}
