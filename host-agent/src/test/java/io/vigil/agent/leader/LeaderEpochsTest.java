package io.vigil.agent.leader;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vigil.protocol.storage.RecordFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The highest leader epoch seen: admission, and what survives a restart of the agent. */
class LeaderEpochsTest {
    @TempDir Path dir;

    @Test
    void admitsTheCurrentAndNewerEpochsAndRefusesOlderOnes() throws Exception {
        LeaderEpochs epochs = LeaderEpochs.open(dir);
        assertTrue(epochs.admit(0).admitted(), "no epoch known yet: a controller without the leader lease may act");
        assertTrue(epochs.admit(3).admitted());
        assertTrue(epochs.admit(3).admitted(), "the current leader, again");
        assertTrue(epochs.admit(5).admitted());
        assertEquals(5, epochs.highest());

        LeaderEpochs.Admission stale = epochs.admit(3);
        assertFalse(stale.admitted());
        assertEquals("refused: command from leader epoch 3, but epoch 5 is current (a replaced leader)", stale.refusal());
        LeaderEpochs.Admission none = epochs.admit(0);
        assertFalse(none.admitted(), "epoch 0 once any epoch is known");
        assertEquals("refused: command from leader epoch 0, but epoch 5 is current (a controller without the leader lease)",
                none.refusal());
        assertEquals(5, epochs.highest(), "a refusal lowers nothing");
    }

    @Test
    void theHighestEpochSurvivesAReopenOfTheStateDirectory() throws Exception {
        LeaderEpochs first = LeaderEpochs.open(dir);
        assertTrue(first.admit(5).admitted());
        assertEquals(new LeaderEpochs.Stored(5),
                RecordFiles.read(dir.resolve(LeaderEpochs.FILE), LeaderEpochs.Stored.class).orElseThrow(),
                "on disk when admit returns");

        LeaderEpochs again = LeaderEpochs.open(dir);
        assertEquals(5, again.highest());
        assertFalse(again.admit(4).admitted());
        assertTrue(again.raise(7), "the leader lease on storage raises it");
        assertFalse(again.raise(6), "and never lowers it");
        assertEquals(7, LeaderEpochs.open(dir).highest(), "a raise from storage is kept too");
    }

    @Test
    void aRisingEpochThatCannotBeRecordedIsRefused() throws Exception {
        // a directory where the record belongs: the atomic replace fails, as on a broken local disk
        Files.createDirectories(dir.resolve(LeaderEpochs.FILE).resolve("in-the-way"));
        LeaderEpochs epochs = LeaderEpochs.open(dir);
        assertEquals(0, epochs.highest(), "an unreadable record counts as none");
        LeaderEpochs.Admission a = epochs.admit(2);
        assertFalse(a.admitted());
        assertTrue(a.refusal().startsWith("refused: cannot record leader epoch 2 in "), a.refusal());
        assertTrue(epochs.admit(0).admitted(), "what needs no write still runs");
    }

    @Test
    void aCorruptRecordCountsAsNone() throws Exception {
        Files.writeString(dir.resolve(LeaderEpochs.FILE), "00000000 {\"highestEpoch\":9}\n");
        assertEquals(0, LeaderEpochs.open(dir).highest());
    }
}
