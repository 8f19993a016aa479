package io.vigil.controller.leader;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vigil.protocol.storage.LeaderLeaseFiles;
import io.vigil.protocol.storage.LeaseTiming;
import io.vigil.protocol.storage.SharedStorage;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The leader lease on a virtual clock: two controllers on one shared directory, driven tick by tick. */
class LeaderLeaseTest {
    private static final long T = 5000;
    @TempDir
    Path dir;
    private final AtomicLong clock = new AtomicLong(1_000_000_000L);

    private LeaderLease lease(String name) {
        return new LeaderLease(new LeaderLeaseFiles(new SharedStorage(dir)), name, name + "-uuid", T, clock::get, () -> 0);
    }

    private void advance(long millis) {
        clock.addAndGet(millis * 1_000_000L);
    }

    @Test
    void theFirstControllerClaimsEpochOneAndTheSecondWaits() throws Exception {
        LeaderLease a = lease("c1"), b = lease("c2");
        a.tick();
        b.tick();
        assertTrue(a.isLeader());
        assertEquals(1, a.epoch());
        assertFalse(b.isLeader());
        for (int i = 0; i < 20; i++) { // a renews every second: b never takes over
            advance(1000);
            a.tick();
            b.tick();
            assertTrue(a.isLeader());
            assertFalse(b.isLeader());
        }
    }

    @Test
    void aSilentLeaderStopsDecidingBeforeAnyoneMayClaimAndTheNextTakesEpochTwo() throws Exception {
        LeaderLease a = lease("c1"), b = lease("c2");
        a.tick();
        b.tick();
        // a freezes now. It counts itself leader only until F after its last renewal...
        advance(LeaseTiming.fenceDeadlineMillis(T) - 1);
        assertTrue(a.isLeader());
        advance(2);
        assertFalse(a.isLeader(), "past F without a renewal a leader must not decide");
        assertEquals(0, a.epoch());
        b.tick();
        assertFalse(b.isLeader(), "b has not seen the lease unchanged for a whole T yet");
        advance(T - LeaseTiming.fenceDeadlineMillis(T));
        b.tick();
        assertTrue(b.isLeader());
        assertEquals(2, b.epoch());
        // a thaws: its next look finds epoch 2 and it stays out.
        a.tick();
        assertFalse(a.isLeader());
        assertEquals(0, a.epoch());
        assertEquals(2, a.currentEpoch());
    }

    @Test
    void aReleasedLeaseIsTakenAtOnce() throws Exception {
        LeaderLease a = lease("c1"), b = lease("c2");
        a.tick();
        b.tick();
        a.close();
        advance(10);
        b.tick();
        assertTrue(b.isLeader());
        assertEquals(2, b.epoch());
    }

    @Test
    void aControllerRestartedAfterItsLeaseExpiredNeverReusesAnEpoch() throws Exception {
        LeaderLease a = lease("c1");
        a.tick();
        assertEquals(1, a.epoch());
        LeaderLease again = lease("c1"); // the same controller after kill -9: waits out its own old lease
        again.tick();
        assertFalse(again.isLeader());
        advance(T);
        again.tick();
        assertEquals(2, again.epoch());
    }
}
