package io.vigil.controller.pki;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.vigil.controller.ha.ClusterEvent;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Refusal events are rate-limited per host (or per address), and say how many were left out. */
class AgentEventsTest {
    private final List<ClusterEvent> log = new ArrayList<>();
    private final AtomicLong now = new AtomicLong(1_000_000);
    private final AgentEvents events = new AgentEvents(log::add, now::get);

    @Test
    void aHostRetryingEverySecondIsRecordedOncePerMinute() {
        for (int i = 0; i < 90; i++) {
            events.refused("h1", "10.0.0.1:4000" + i % 10, "certificate 1f was revoked");
            now.addAndGet(1000);
        }
        assertEquals(2, log.size());
        assertEquals("agent-refused", log.get(0).type());
        assertEquals("h1", log.get(0).host());
        assertEquals("certificate 1f was revoked", log.get(0).cause());
        assertNull(log.get(0).details().get("refusedSinceLastEvent"));
        assertEquals(59, log.get(1).details().get("refusedSinceLastEvent"));
    }

    @Test
    void hostsAndAddressesAreCountedApart() {
        events.refused("h1", "10.0.0.1:1", "revoked");
        events.refused("h2", "10.0.0.1:2", "revoked");
        events.refused(null, "10.0.0.9:1", "no client certificate");
        events.refused(null, "10.0.0.9:2", "no client certificate"); // same address, another source port
        events.refused(null, "10.0.0.8:1", "no client certificate");
        assertEquals(4, log.size());
    }
}
