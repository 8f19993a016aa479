package io.vigil.controller.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vigil.controller.ha.HaInput;
import io.vigil.protocol.storage.HostHeartbeat;
import io.vigil.protocol.storage.RecordFiles;
import io.vigil.protocol.storage.SharedStorage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The storage watcher on real heartbeat files, with the observer clock driven explicitly. */
class StorageWatcherTest {
    @TempDir Path dir;

    private static final long MS = 1_000_000L;

    @Test
    void reportsGenerationUnchangedTimeAndLeaseExpiryPerHost() throws Exception {
        SharedStorage storage = new SharedStorage(dir);
        StorageWatcher watcher = new StorageWatcher(storage, in -> {}, () -> 4000);
        RecordFiles.replace(storage.hostHeartbeat("h1"), new HostHeartbeat("h1", 3, 1, 2000, 0));
        RecordFiles.replace(storage.hostHeartbeat("h2"), new HostHeartbeat("h2", 7, 1, 2000, 0));

        long t0 = 1_000_000 * MS;
        HaInput.StorageObserved first = watcher.poll(t0);
        assertEquals(3, first.hosts().get("h1").generation());
        assertEquals(7, first.hosts().get("h2").generation());
        assertEquals(0, first.hosts().get("h1").unchangedForMillis());
        assertFalse(first.hosts().get("h1").leaseExpired());

        // h1 renews, h2 does not.
        RecordFiles.replace(storage.hostHeartbeat("h1"), new HostHeartbeat("h1", 3, 2, 2000, 0));
        HaInput.StorageObserved later = watcher.poll(t0 + 1500 * MS);
        assertEquals(0, later.hosts().get("h1").unchangedForMillis());
        assertEquals(1500, later.hosts().get("h2").unchangedForMillis());
        assertFalse(later.hosts().get("h2").leaseExpired());

        HaInput.StorageObserved expired = watcher.poll(t0 + 2000 * MS);
        assertTrue(expired.hosts().get("h2").leaseExpired(), "unchanged for its own 2000 ms lease timeout");
        assertFalse(expired.hosts().get("h1").leaseExpired());
    }

    @Test
    void vanishedOrCorruptHeartbeatCountsAsNoRenewalAndTempFilesAreSkipped() throws Exception {
        SharedStorage storage = new SharedStorage(dir);
        StorageWatcher watcher = new StorageWatcher(storage, in -> {}, () -> 4000);
        RecordFiles.replace(storage.hostHeartbeat("h1"), new HostHeartbeat("h1", 1, 1, 2000, 0));
        Files.writeString(storage.hostsDir().resolve(".h9.heartbeat.tmp"), "junk");
        long t0 = 5_000 * MS;
        watcher.poll(t0);
        Files.writeString(storage.hostHeartbeat("h1"), "00000000 {corrupt}\n");
        HaInput.StorageObserved r = watcher.poll(t0 + 1000 * MS);
        assertEquals(1, r.hosts().get("h1").generation(), "keeps the last good reading");
        assertEquals(1000, r.hosts().get("h1").unchangedForMillis());
        Files.delete(storage.hostHeartbeat("h1"));
        HaInput.StorageObserved gone = watcher.poll(t0 + 2000 * MS);
        assertTrue(gone.hosts().get("h1").leaseExpired());
        assertEquals(1, gone.hosts().size(), "temporary files are not hosts: " + gone.hosts());
    }

    @Test
    void noHeartbeatDirectoryYetMeansNoHosts() {
        StorageWatcher watcher = new StorageWatcher(new SharedStorage(dir.resolve("absent")), in -> {}, () -> 4000);
        assertTrue(watcher.poll(System.nanoTime()).hosts().isEmpty());
    }

    @Test
    void runningWatcherDeliversReadingsEvery250Millis() throws Exception {
        SharedStorage storage = new SharedStorage(dir);
        RecordFiles.replace(storage.hostHeartbeat("h1"), new HostHeartbeat("h1", 2, 1, 4000, 0));
        LinkedBlockingQueue<HaInput> sink = new LinkedBlockingQueue<>();
        try (StorageWatcher watcher = new StorageWatcher(storage, sink::add, () -> 4000)) {
            watcher.start(250);
            long start = System.nanoTime();
            for (int i = 0; i < 4; i++) {
                var in = (HaInput.StorageObserved) sink.poll(2, TimeUnit.SECONDS);
                assertEquals(2, in.hosts().get("h1").generation());
            }
            long elapsedMs = (System.nanoTime() - start) / MS;
            assertTrue(elapsedMs >= 700 && elapsedMs < 2000, "4 readings took " + elapsedMs + " ms");
        }
    }
}
