package io.vigil.agent.lease;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vigil.protocol.storage.HostHeartbeat;
import io.vigil.protocol.storage.RecordFiles;
import io.vigil.protocol.storage.SharedStorage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LeaseRecoveryTest {
    static final long MS = 1_000_000L;
    static final long LAST = 500_000 * MS;

    final LocalState previous = new LocalState("h1", "boot-A", 4, 17, LAST, 4000, List.of("vm1"), List.of("vm1"));
    final Optional<HostHeartbeat> onStorage = Optional.of(new HostHeartbeat("h1", 4, 17, 4000, 0));

    @Test
    void restartWithinTheDeadlineResumesTheGeneration() {
        var d = LeaseRecovery.decide(Optional.of(previous), "boot-A", LAST + 2000 * MS, onStorage);
        assertTrue(d.resumed());
        assertEquals(4, d.generation());
        assertEquals(17, d.counter());
        assertEquals(LAST, d.lastRenewalStartNanos(), "the predecessor's deadline keeps running");
    }

    @Test
    void restartAfterTheDeadlineTakesTheNextGeneration() {
        var d = LeaseRecovery.decide(Optional.of(previous), "boot-A", LAST + 2500 * MS + 1, onStorage);
        assertFalse(d.resumed());
        assertEquals(5, d.generation());
    }

    @Test
    void anotherBootNeverResumes() {
        var d = LeaseRecovery.decide(Optional.of(previous), "boot-B", LAST + 10 * MS, onStorage);
        assertFalse(d.resumed());
        assertEquals(5, d.generation());
    }

    @Test
    void newGenerationIsAboveAnythingOnStorage() {
        var d = LeaseRecovery.decide(Optional.empty(), "boot-A", LAST, Optional.of(new HostHeartbeat("h1", 9, 1, 4000, 0)));
        assertEquals(10, d.generation());
        assertEquals(1, LeaseRecovery.decide(Optional.empty(), "boot-A", LAST, Optional.empty()).generation());
    }

    @Test
    void localStateSurvivesTheProcess(@TempDir Path dir) throws Exception {
        SharedStorage storage = new SharedStorage(dir.resolve("shared"));
        Files.createDirectories(storage.hostsDir());
        LocalStateStore first = LocalStateStore.open(dir.resolve("state"), "h1", "boot-A");
        HostLease lease = new HostLease("h1", storage, () -> LAST, first, 3, 0, LAST, 4000);
        first.setHa("vm1", true);
        assertTrue(lease.renew());
        first.setHa("vm2", true);
        first.setHa("vm1", false);
        first.setLeased("vm2", true);
        first.setLeased("vm3", true); // not HA, but started under a lease: fenced like the others
        LocalStateStore second = LocalStateStore.open(dir.resolve("state"), "h1", "boot-A");
        LocalState s = second.previous().orElseThrow();
        assertEquals(new LocalState("h1", "boot-A", 3, 1, LAST, 4000, List.of("vm2"), List.of("vm2", "vm3")), s);
        assertEquals(java.util.Set.of("vm2"), second.haVms());
        assertEquals(java.util.Set.of("vm2", "vm3"), second.leasedVms());
        assertTrue(LocalStateStore.open(dir.resolve("state"), "h2", "boot-A").previous().isEmpty(), "another host's state is not ours");
    }

    @Test
    void aSecondWriterUnderOurNameIsRefused(@TempDir Path dir) throws Exception {
        SharedStorage storage = new SharedStorage(dir);
        Files.createDirectories(storage.hostsDir());
        RecordFiles.replace(storage.hostHeartbeat("h1"), new HostHeartbeat("h1", 2, 5, 100, 0));
        var e = assertThrows(IllegalStateException.class, () -> LeaseRecovery.checkNoOtherWriter(storage, "h1",
                ms -> {
                    try {
                        RecordFiles.replace(storage.hostHeartbeat("h1"), new HostHeartbeat("h1", 2, 6, 100, 0));
                    } catch (java.io.IOException io) {
                        throw new java.io.UncheckedIOException(io);
                    }
                }));
        assertTrue(e.getMessage().contains("another agent"), e.getMessage());
        var quiet = LeaseRecovery.checkNoOtherWriter(storage, "h1", ms -> {});
        assertEquals(6, quiet.orElseThrow().counter());
    }
}
