package io.vigil.agent.leader;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vigil.protocol.storage.LeaderEpoch;
import io.vigil.protocol.storage.LeaderHeartbeat;
import io.vigil.protocol.storage.LeaderLeaseFiles;
import io.vigil.protocol.storage.SharedStorage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The leader lease as an agent reads it: the epoch floor, and whether the control plane is alive on our clock. */
class LeaderLeaseWatchTest {
    static final long LEASE_TIMEOUT_MILLIS = 4000;

    @TempDir Path dir;
    final AtomicLong clock = new AtomicLong(5_000_000_000_000L);
    LeaderLeaseFiles files;
    LeaderEpochs epochs;
    LeaderLeaseWatch watch;

    @BeforeEach
    void setUp() throws Exception {
        SharedStorage storage = new SharedStorage(dir.resolve("shared"));
        Files.createDirectories(storage.root());
        files = new LeaderLeaseFiles(storage);
        epochs = LeaderEpochs.open(dir.resolve("state"));
        watch = new LeaderLeaseWatch(files, epochs, clock::get, LEASE_TIMEOUT_MILLIS);
    }

    void advanceMillis(long ms) {
        clock.addAndGet(ms * 1_000_000L);
    }

    static LeaderHeartbeat heartbeat(long epoch, long counter, boolean released) {
        return new LeaderHeartbeat(epoch, "c1", "i1", counter, released, LEASE_TIMEOUT_MILLIS, 0);
    }

    void claim(long epoch) throws Exception {
        assertTrue(files.claim(new LeaderEpoch(epoch, "c1", "i1", LEASE_TIMEOUT_MILLIS, 0), heartbeat(epoch, 1, false)));
    }

    @Test
    void theEpochOnSharedStorageRaisesTheFloor() throws Exception {
        watch.read();
        assertEquals(0, epochs.highest(), "no leader lease yet");
        claim(4);
        watch.read();
        assertEquals(4, epochs.highest());
        assertEquals(4, watch.epochOnStorage());
        CommandFence fence = new CommandFence("h1", epochs, Runnable::run,
                c -> { throw new AssertionError("a stale command ran"); });
        assertFalse(CommandFenceTest.run(fence, new io.vigil.protocol.AgentCommand.DestroyVm("c-1", "vm1"), 3).ok());
        assertEquals(4, LeaderEpochs.open(dir.resolve("state")).highest(), "recorded in the state directory");

        files.removeOldEpochs(100); // a floor once raised stays, whatever storage shows later
        watch.read();
        assertEquals(4, epochs.highest());
    }

    @Test
    void theControlPlaneIsAliveWhileTheLeaderRenewsItsLease() throws Exception {
        watch.read();
        assertFalse(watch.controlPlaneAlive(), "no leader lease: no control plane");
        claim(1);
        watch.read();
        assertTrue(watch.controlPlaneAlive());
        for (long counter = 2; counter < 10; counter++) {
            advanceMillis(1000);
            files.renew(heartbeat(1, counter, false));
            watch.read();
            assertTrue(watch.controlPlaneAlive(), "renewed every second");
        }
        advanceMillis(LEASE_TIMEOUT_MILLIS - 1);
        watch.read();
        assertTrue(watch.controlPlaneAlive(), "unchanged, but for less than its lease timeout");
        advanceMillis(1);
        assertFalse(watch.controlPlaneAlive(), "unchanged for its lease timeout: frozen or dead");
        files.renew(heartbeat(1, 10, false));
        watch.read();
        assertTrue(watch.controlPlaneAlive(), "it came back");
        files.renew(heartbeat(1, 11, true));
        watch.read();
        assertFalse(watch.controlPlaneAlive(), "released by a leader that stopped");
        advanceMillis(500);
        claim(2);
        watch.read();
        assertTrue(watch.controlPlaneAlive(), "the next leader");
        assertEquals(2, epochs.highest());
    }
}
