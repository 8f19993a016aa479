package io.vigil.memory.keeper;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Who may be in a handshake with the keeper: connections accepted and not yet granted anything. At most
 * {@code maxHandshakes} are in their handshake at once (each has a thread reading its OPEN), at most
 * {@code maxPerAddress} of them from one remote address, so that one address never holds every slot. The others wait
 * their turn, holding a file descriptor each and nothing else:
 *
 * <ul>
 *   <li>a freed slot goes to the waiting connection whose address has the fewest handshakes in progress (the longest
 *       waiting among equals). A newcomer from an address with none in progress thus goes ahead of every address
 *       that has some: when the stage is full of a flood from fewer addresses than there are slots, it waits at most
 *       until the first handshake in progress ends, which is within the handshake deadline;
 *   <li>at most {@code maxWaiting} wait; a newcomer to a full line displaces the newest waiting connection of the
 *       address with the most of them, or is turned away itself when its own address has as many waiting as any.
 * </ul>
 *
 * <p>Bookkeeping only, no I/O: the caller starts the handshakes it is told to and closes what is turned away. Every
 * started handshake must be ended once with {@link #handshakeEnded}. Thread-safe.
 *
 * @param <C> the caller's connection
 */
final class HandshakeStage<C> {
    /** What became of an arrival: whether its handshake starts now, and which connection (itself, one it displaced, or none) is turned away. */
    record Arrival<C>(boolean started, C turnedAway) {}

    private record Waiting<C>(C connection, InetAddress from) {}

    private final int maxHandshakes;
    private final int maxPerAddress;
    private final int maxWaiting;
    private final Map<InetAddress, Integer> handshakingFrom = new HashMap<>();
    private final Map<InetAddress, Integer> waitingFrom = new HashMap<>();
    /** Oldest first. */
    private final List<Waiting<C>> waiting = new ArrayList<>();
    private int handshakes;
    private boolean closed;

    HandshakeStage(int maxHandshakes, int maxPerAddress, int maxWaiting) {
        this.maxHandshakes = maxHandshakes;
        this.maxPerAddress = maxPerAddress;
        this.maxWaiting = maxWaiting;
    }

    HandshakeStage(KeeperLimits limits) {
        this(limits.maxHandshakes(), limits.maxHandshakesPerAddress(), limits.maxWaiting());
    }

    /** A connection from {@code from} was accepted. */
    synchronized Arrival<C> arrive(C connection, InetAddress from) {
        if (closed) return new Arrival<>(false, connection);
        if (handshakes < maxHandshakes && count(handshakingFrom, from) < maxPerAddress) {
            begin(from);
            return new Arrival<>(true, null);
        }
        C displaced = null;
        if (waiting.size() >= maxWaiting) {
            InetAddress heaviest = mostWaiting();
            if (heaviest == null || count(waitingFrom, from) >= count(waitingFrom, heaviest))
                return new Arrival<>(false, connection);
            displaced = removeNewestFrom(heaviest);
        }
        waiting.add(new Waiting<>(connection, from));
        add(waitingFrom, from, 1);
        return new Arrival<>(false, displaced);
    }

    /**
     * A handshake from {@code from} ended, its grant accepted or not. Returns the waiting connection whose handshake
     * starts in its place, or null.
     */
    synchronized C handshakeEnded(InetAddress from) {
        if (count(handshakingFrom, from) == 0) throw new IllegalStateException("no handshake in progress from " + from);
        add(handshakingFrom, from, -1);
        handshakes--;
        if (closed) return null;
        int next = -1;
        int fewest = maxPerAddress;
        for (int i = 0; i < waiting.size(); i++) {
            int n = count(handshakingFrom, waiting.get(i).from());
            if (n < fewest) { // strictly fewer: the oldest wins among equals
                next = i;
                fewest = n;
            }
        }
        if (next < 0) return null;
        Waiting<C> w = waiting.remove(next);
        add(waitingFrom, w.from(), -1);
        begin(w.from());
        return w.connection();
    }

    /** Starts nothing more; returns the waiting connections, for the caller to close. */
    synchronized List<C> close() {
        closed = true;
        List<C> left = new ArrayList<>();
        for (Waiting<C> w : waiting) left.add(w.connection());
        waiting.clear();
        waitingFrom.clear();
        return left;
    }

    synchronized int handshakes() {
        return handshakes;
    }

    synchronized int waiting() {
        return waiting.size();
    }

    private void begin(InetAddress from) {
        add(handshakingFrom, from, 1);
        handshakes++;
    }

    private InetAddress mostWaiting() {
        InetAddress most = null;
        int n = 0;
        for (Map.Entry<InetAddress, Integer> e : waitingFrom.entrySet()) {
            if (e.getValue() > n) {
                most = e.getKey();
                n = e.getValue();
            }
        }
        return most;
    }

    private C removeNewestFrom(InetAddress from) {
        for (int i = waiting.size() - 1; i >= 0; i--) {
            if (waiting.get(i).from().equals(from)) {
                add(waitingFrom, from, -1);
                return waiting.remove(i).connection();
            }
        }
        throw new IllegalStateException("nothing waiting from " + from);
    }

    private static int count(Map<InetAddress, Integer> counts, InetAddress from) {
        return counts.getOrDefault(from, 0);
    }

    /** Keeps only addresses with a count, so that the maps stay as small as the stage. */
    private static void add(Map<InetAddress, Integer> counts, InetAddress from, int delta) {
        int n = count(counts, from) + delta;
        if (n == 0) counts.remove(from);
        else counts.put(from, n);
    }
}
