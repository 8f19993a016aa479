package io.vigil.memory.verbs;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class TicketRefusalTest {
    @Test
    void everyRefusalSurvivesTheRejectsPrivateData() {
        for (TicketRefusal refusal : TicketRefusal.values()) {
            assertEquals(Optional.of(refusal), TicketRefusal.fromPrivateData(refusal.privateData()));
            assertEquals(Optional.of(refusal), TicketRefusal.fromPrivateData(Arrays.copyOf(refusal.privateData(), 148)),
                    "IB pads reject private data to 148 bytes");
        }
    }

    @Test
    void privateDataFromAnythingButAKeeperMeansNoReason() {
        assertEquals(Optional.empty(), TicketRefusal.fromPrivateData(new byte[0]));
        assertEquals(Optional.empty(), TicketRefusal.fromPrivateData(new byte[148]));
        assertEquals(Optional.empty(), TicketRefusal.fromPrivateData(new byte[] {'V', 'G', 'L'}));
        assertEquals(Optional.empty(), TicketRefusal.fromPrivateData(new byte[] {'V', 'G', 'L', 99}));
        assertEquals(Optional.empty(), TicketRefusal.fromPrivateData(new byte[] {'X', 'G', 'L', 1}));
    }
}
