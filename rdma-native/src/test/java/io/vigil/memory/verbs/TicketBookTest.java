package io.vigil.memory.verbs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vigil.memory.VerbsTicket;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import java.util.ArrayList;
import org.junit.jupiter.api.Test;

class TicketBookTest {
    private final AtomicLong now = new AtomicLong(1_000_000);
    private final TicketBook<String> book = new TicketBook<>(Duration.ofSeconds(30), now::get, new SecureRandom());

    @Test
    void aTicketAdmitsOneConnectionOnly() {
        byte[] ticket = book.issue("web-1/vda");
        assertEquals(VerbsTicket.TICKET_BYTES, ticket.length);
        TicketBook.Redemption<String> first = book.redeem(ticket);
        assertTrue(first.admitted());
        assertEquals(Optional.of("web-1/vda"), first.item());
        TicketBook.Redemption<String> again = book.redeem(ticket);
        assertFalse(again.admitted());
        assertEquals(Optional.of(TicketRefusal.UNKNOWN), again.refusal());
        assertEquals(Optional.empty(), again.item(), "nothing to release twice");
    }

    @Test
    void theTicketMayBeFollowedByTransportPadding() {
        byte[] ticket = book.issue("web-1/vda");
        assertTrue(book.redeem(Arrays.copyOf(ticket, 56)).admitted(), "IB pads connect private data with zeros");
    }

    @Test
    void aTicketNobodyIssuedOrTooShortIsRefused() {
        book.issue("web-1/vda");
        assertEquals(Optional.of(TicketRefusal.UNKNOWN), book.redeem(new byte[16]).refusal());
        assertEquals(Optional.of(TicketRefusal.MALFORMED), book.redeem(new byte[15]).refusal());
        assertEquals(Optional.of(TicketRefusal.MALFORMED), book.redeem(new byte[0]).refusal());
        assertEquals(1, book.outstanding());
    }

    @Test
    void anExpiredTicketIsRefusedAndHandsBackWhatItHeld() {
        byte[] ticket = book.issue("web-1/vda");
        now.addAndGet(30_001);
        TicketBook.Redemption<String> late = book.redeem(ticket);
        assertEquals(Optional.of(TicketRefusal.EXPIRED), late.refusal());
        assertEquals(Optional.of("web-1/vda"), late.item(), "the caller releases the registration");
        assertEquals(0, book.outstanding());
    }

    @Test
    void expiryTakesOutOnlyExpiredTickets() {
        book.issue("old");
        now.addAndGet(20_000);
        byte[] young = book.issue("young");
        now.addAndGet(10_001);
        assertEquals(List.of("old"), book.expire());
        assertEquals(List.of(), book.expire());
        assertTrue(book.redeem(young).admitted());
    }

    @Test
    void drainTakesOutEverything() {
        book.issue("a");
        book.issue("b");
        assertEquals(Set.of("a", "b"), new HashSet<>(book.drain()));
        assertEquals(0, book.outstanding());
    }

    @Test
    void ticketsAreRandom() {
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 1000; i++) assertTrue(seen.add(Arrays.toString(book.issue("r" + i))));
    }

    @Test
    void racingRedemptionsAdmitExactlyOne() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            for (int round = 0; round < 50; round++) {
                byte[] ticket = book.issue("web-1/vda");
                List<Future<Boolean>> attempts = new ArrayList<>();
                for (int i = 0; i < 8; i++) attempts.add(pool.submit(() -> book.redeem(ticket).admitted()));
                int admitted = 0;
                for (Future<Boolean> attempt : attempts) if (attempt.get()) admitted++;
                assertEquals(1, admitted);
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
