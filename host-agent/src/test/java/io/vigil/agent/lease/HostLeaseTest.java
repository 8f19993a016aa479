package io.vigil.agent.lease;

import io.vigil.protocol.storage.LeaseTiming;

import static io.vigil.agent.lease.LeaseTestHosts.T;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vigil.protocol.storage.HostHeartbeat;
import io.vigil.protocol.storage.RecordFiles;
import io.vigil.protocol.storage.SharedStorage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HostLeaseTest {
    @TempDir Path dir;

    @Test
    void renewalWritesAChangingHeartbeatAndTheLocalState() throws Exception {
        var hosts = new LeaseTestHosts(dir);
        var h1 = hosts.host("h1");
        HostHeartbeat first = RecordFiles.read(hosts.storage.hostHeartbeat("h1"), HostHeartbeat.class).orElseThrow();
        hosts.advanceMillis(1000);
        h1.renew();
        HostHeartbeat second = RecordFiles.read(hosts.storage.hostHeartbeat("h1"), HostHeartbeat.class).orElseThrow();
        assertEquals(1, second.generation());
        assertEquals(first.counter() + 1, second.counter());
        assertEquals(T, second.leaseTimeoutMillis());
        LocalState state = h1.state.previous().orElseThrow();
        assertEquals(hosts.clock.get(), state.lastRenewalStartNanos());
        assertEquals(second.counter(), state.counter());
    }

    @Test
    void fencesOnlyOnceTheDeadlinePassedSinceTheLastSuccessfulRenewalStarted() throws Exception {
        var hosts = new LeaseTestHosts(dir);
        var h1 = hosts.host("h1");
        List<Long> fenced = new CopyOnWriteArrayList<>();
        h1.lease.addListener(fenced::add);
        long f = LeaseTiming.fenceDeadlineMillis(T);
        hosts.advanceMillis(f);
        assertFalse(h1.lease.checkDeadline(), "at exactly F the lease is still ours");
        assertTrue(h1.lease.isLive());
        hosts.advanceMillis(1);
        assertFalse(h1.lease.renew(), "a renewal past F would extend a lease others may already count as expired");
        assertTrue(h1.lease.checkDeadline());
        assertEquals(List.of(1L), fenced);
        assertFalse(h1.lease.isLive());
        assertEquals(HostLease.Phase.FENCED, h1.lease.phase());
        assertFalse(h1.lease.checkDeadline(), "fences once");
        assertTrue(h1.lease.renew(), "the next write is the rejoin");
        assertEquals(2, h1.lease.generation());
        assertEquals(2, RecordFiles.read(hosts.storage.hostHeartbeat("h1"), HostHeartbeat.class).orElseThrow().generation());
        assertTrue(h1.lease.isLive());
    }

    @Test
    void shorterLeaseTimeoutTightensTheDeadlineAtOnce() throws Exception {
        var hosts = new LeaseTestHosts(dir);
        var h1 = hosts.host("h1");
        h1.lease.setLeaseTimeoutMillis(3000);
        hosts.advanceMillis(LeaseTiming.fenceDeadlineMillis(3000) + 1);
        assertTrue(h1.lease.checkDeadline());
    }

    /**
     * Real threads, real clock: the agent reaches shared storage through a symlink; removing it makes writes fail;
     * the watchdog destroys the HA VMs within F of the last renewal; re-creating it rejoins at generation + 1.
     */
    @Test
    void selfFencesWhenSharedStorageDisappearsAndRejoinsWithTheNextGeneration() throws Exception {
        Path shared = Files.createDirectories(dir.resolve("shared"));
        Files.createDirectories(shared.resolve("hosts"));
        Path mount = Files.createSymbolicLink(dir.resolve("mnt"), shared);
        SharedStorage storage = new SharedStorage(mount);
        long timeout = 2000; // F = 1000 ms
        LocalStateStore state = LocalStateStore.open(dir.resolve("state"), "h1", "boot");
        HostLease lease = new HostLease("h1", storage, System::nanoTime, state, 7, 0, System.nanoTime(), timeout);
        CountDownLatch fenced = new CountDownLatch(1);
        CountDownLatch rejoined = new CountDownLatch(1);
        long[] fencedAt = new long[1];
        lease.addListener(new HostLease.Listener() {
            @Override
            public void fence(long lostGeneration) {
                fencedAt[0] = System.nanoTime();
                fenced.countDown();
            }

            @Override
            public void rejoined(long newGeneration) {
                rejoined.countDown();
            }
        });
        try (SelfFenceWatchdog watchdog = new SelfFenceWatchdog(lease)) {
            watchdog.start(200);
            Thread.sleep(500);
            assertTrue(lease.isLive());
            Files.delete(mount);
            long removedAt = System.nanoTime();
            assertTrue(fenced.await(5, TimeUnit.SECONDS), "self-fenced");
            long afterRemoval = (fencedAt[0] - removedAt) / 1_000_000;
            assertTrue(afterRemoval <= LeaseTiming.fenceDeadlineMillis(timeout) + 100,
                    "fenced " + afterRemoval + " ms after storage vanished: later than F");
            assertFalse(lease.isLive());
            assertFalse(Files.exists(mount, java.nio.file.LinkOption.NOFOLLOW_LINKS), "the writer must not recreate the mount");
            Thread.sleep(300);
            Files.createSymbolicLink(mount, shared);
            assertTrue(rejoined.await(5, TimeUnit.SECONDS), "rejoined");
            assertEquals(8, lease.generation());
            assertTrue(lease.isLive());
            assertEquals(8, RecordFiles.read(storage.hostHeartbeat("h1"), HostHeartbeat.class).orElseThrow().generation());
        }
    }
}
