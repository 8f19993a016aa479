package io.vigil.memory.keeper;

import static org.junit.jupiter.api.Assertions.*;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Who gets a handshake slot, who waits and who is turned away: the policy alone, without sockets. */
class HandshakeStageTest {
    private static final InetAddress FLOODER = address("10.0.0.66");
    private static final InetAddress OTHER_FLOODER = address("10.0.0.67");
    private static final InetAddress HOST = address("10.0.0.11");

    private static InetAddress address(String literal) {
        try {
            return InetAddress.getByName(literal); // a literal: no lookup
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    private static void assertStarted(HandshakeStage.Arrival<String> arrival) {
        assertEquals(new HandshakeStage.Arrival<String>(true, null), arrival);
    }

    private static void assertWaits(HandshakeStage.Arrival<String> arrival) {
        assertEquals(new HandshakeStage.Arrival<String>(false, null), arrival);
    }

    @Test
    void oneAddressHoldsNoMoreThanItsShareOfTheSlots() {
        HandshakeStage<String> stage = new HandshakeStage<>(4, 2, 10);
        assertStarted(stage.arrive("f1", FLOODER));
        assertStarted(stage.arrive("f2", FLOODER));
        assertWaits(stage.arrive("f3", FLOODER));
        assertStarted(stage.arrive("h1", HOST)); // two slots are still the others'
        assertEquals(3, stage.handshakes());
        assertEquals(1, stage.waiting());
        assertEquals("f3", stage.handshakeEnded(FLOODER), "the flooder's next starts when one of its own ends");
    }

    @Test
    void aFreedSlotGoesToTheAddressWithTheFewestHandshakesBeforeOlderWaiters() {
        HandshakeStage<String> stage = new HandshakeStage<>(4, 2, 10);
        for (String f : List.of("f1", "f2")) assertStarted(stage.arrive(f, FLOODER));
        for (String g : List.of("g1", "g2")) assertStarted(stage.arrive(g, OTHER_FLOODER));
        for (String f : List.of("f3", "f4")) assertWaits(stage.arrive(f, FLOODER));
        for (String g : List.of("g3", "g4")) assertWaits(stage.arrive(g, OTHER_FLOODER));
        assertWaits(stage.arrive("h1", HOST)); // the stage is full: the host's handshake waits
        // The first handshake to end (a flooder's, at its deadline at the latest) makes room for the host, which has
        // none in progress, though four flooder connections have waited longer.
        assertEquals("h1", stage.handshakeEnded(FLOODER));
        assertEquals("f3", stage.handshakeEnded(OTHER_FLOODER), "among equals the longest waiting goes first");
        assertEquals("g3", stage.handshakeEnded(OTHER_FLOODER), "f4 waited longer, but its address is at its limit again");
    }

    @Test
    void aFullWaitingLineDisplacesTheNewestOfTheAddressWithTheMostWaiting() {
        HandshakeStage<String> stage = new HandshakeStage<>(2, 2, 3);
        assertStarted(stage.arrive("f1", FLOODER));
        assertStarted(stage.arrive("f2", FLOODER));
        for (String f : List.of("f3", "f4", "f5")) assertWaits(stage.arrive(f, FLOODER));
        assertEquals(new HandshakeStage.Arrival<>(false, "f5"), stage.arrive("h1", HOST));
        assertEquals(new HandshakeStage.Arrival<>(false, "f6"), stage.arrive("f6", FLOODER),
                "a newcomer from the address with the most waiting is turned away itself");
        assertEquals(new HandshakeStage.Arrival<>(false, "f4"), stage.arrive("g1", OTHER_FLOODER));
        assertEquals(new HandshakeStage.Arrival<>(false, "h2"), stage.arrive("h2", HOST),
                "with every address at one waiting, a newcomer from any of them is turned away");
        assertEquals(3, stage.waiting());
        // h1 and g1 have no handshake in progress from their addresses; h1 has waited longer.
        assertEquals("h1", stage.handshakeEnded(FLOODER));
    }

    @Test
    void withoutAWaitingLineAConnectionBeyondTheSlotsIsTurnedAway() {
        HandshakeStage<String> stage = new HandshakeStage<>(1, 1, 0);
        assertStarted(stage.arrive("h1", HOST));
        assertEquals(new HandshakeStage.Arrival<>(false, "h2"), stage.arrive("h2", HOST));
        assertEquals(new HandshakeStage.Arrival<>(false, "f1"), stage.arrive("f1", FLOODER));
        assertNull(stage.handshakeEnded(HOST));
        assertEquals(0, stage.handshakes());
        assertStarted(stage.arrive("h3", HOST));
    }

    @Test
    void aClosedStageHandsBackItsWaitingAndStartsNothingMore() {
        HandshakeStage<String> stage = new HandshakeStage<>(1, 1, 5);
        assertStarted(stage.arrive("h1", HOST));
        assertWaits(stage.arrive("h2", HOST));
        assertWaits(stage.arrive("f1", FLOODER));
        assertEquals(List.of("h2", "f1"), stage.close());
        assertNull(stage.handshakeEnded(HOST));
        assertEquals(new HandshakeStage.Arrival<>(false, "h3"), stage.arrive("h3", HOST));
        assertEquals(0, stage.waiting());
    }

    @Test
    void endingAHandshakeThatNeverStartedIsABug() {
        HandshakeStage<String> stage = new HandshakeStage<>(2, 1, 5);
        assertStarted(stage.arrive("h1", HOST));
        assertThrows(IllegalStateException.class, () -> stage.handshakeEnded(FLOODER));
        assertNull(stage.handshakeEnded(HOST));
        assertThrows(IllegalStateException.class, () -> stage.handshakeEnded(HOST));
    }
}
