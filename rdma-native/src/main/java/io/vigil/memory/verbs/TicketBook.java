package io.vigil.memory.verbs;

import io.vigil.memory.VerbsTicket;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * The keeper's outstanding verbs tickets: random 16-byte bearer tokens, each for one item (a registered arena), each
 * good for one connection within its lifetime. Whoever takes an entry out (a redemption, an expiry sweep, a drain)
 * owns its item and must release it; the map's atomic remove makes that exactly one party. Thread-safe.
 */
final class TicketBook<T> {
    /** What presenting a ticket got: the item (to use, or to release if refused) and whether it was refused. */
    record Redemption<T>(Optional<T> item, Optional<TicketRefusal> refusal) {
        boolean admitted() {
            return refusal.isEmpty();
        }
    }

    private record Entry<T>(T item, long expiresAtMillis) {}

    private final Map<String, Entry<T>> entries = new ConcurrentHashMap<>();
    private final long lifetimeMillis;
    private final LongSupplier clock;
    private final SecureRandom random;

    TicketBook(Duration lifetime, LongSupplier clockMillis, SecureRandom random) {
        if (lifetime.isNegative() || lifetime.isZero()) throw new IllegalArgumentException("lifetime must be positive");
        this.lifetimeMillis = lifetime.toMillis();
        this.clock = clockMillis;
        this.random = random;
    }

    /** A new ticket for {@code item}. */
    byte[] issue(T item) {
        byte[] ticket = new byte[VerbsTicket.TICKET_BYTES];
        Entry<T> entry = new Entry<>(item, clock.getAsLong() + lifetimeMillis);
        do {
            random.nextBytes(ticket);
        } while (entries.putIfAbsent(key(ticket), entry) != null);
        return ticket;
    }

    /**
     * Takes the ticket at the start of a connect request's private data (transports may pad it) out of the book.
     */
    Redemption<T> redeem(byte[] privateData) {
        if (privateData.length < VerbsTicket.TICKET_BYTES)
            return new Redemption<>(Optional.empty(), Optional.of(TicketRefusal.MALFORMED));
        Entry<T> entry = entries.remove(key(Arrays.copyOf(privateData, VerbsTicket.TICKET_BYTES)));
        if (entry == null) return new Redemption<>(Optional.empty(), Optional.of(TicketRefusal.UNKNOWN));
        if (clock.getAsLong() > entry.expiresAtMillis())
            return new Redemption<>(Optional.of(entry.item()), Optional.of(TicketRefusal.EXPIRED));
        return new Redemption<>(Optional.of(entry.item()), Optional.empty());
    }

    /** Takes out and returns the items whose tickets expired unused. */
    List<T> expire() {
        long now = clock.getAsLong();
        List<T> expired = new ArrayList<>();
        for (Map.Entry<String, Entry<T>> e : entries.entrySet())
            if (now > e.getValue().expiresAtMillis() && entries.remove(e.getKey(), e.getValue()))
                expired.add(e.getValue().item());
        return expired;
    }

    /** Takes out and returns every item still waiting for its connection. */
    List<T> drain() {
        List<T> all = new ArrayList<>();
        for (String key : List.copyOf(entries.keySet())) {
            Entry<T> entry = entries.remove(key);
            if (entry != null) all.add(entry.item());
        }
        return all;
    }

    int outstanding() {
        return entries.size();
    }

    private static String key(byte[] ticket) {
        return HexFormat.of().formatHex(ticket);
    }
}
