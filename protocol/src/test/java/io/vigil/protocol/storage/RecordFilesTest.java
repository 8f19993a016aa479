package io.vigil.protocol.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RecordFilesTest {
    @TempDir Path dir;

    @Test
    void replaceThenReadRoundTrips() throws IOException {
        Path f = dir.resolve("hosts/h1.heartbeat");
        HostHeartbeat hb = new HostHeartbeat("h1", 3, 7, 4000, 123);
        RecordFiles.replace(f, hb);
        assertEquals(Optional.of(hb), RecordFiles.read(f, HostHeartbeat.class));
        RecordFiles.replace(f, new HostHeartbeat("h1", 3, 8, 4000, 124));
        assertEquals(8, RecordFiles.read(f, HostHeartbeat.class).orElseThrow().counter());
    }

    @Test
    void aMissingFileReadsAsEmpty() throws IOException {
        assertEquals(Optional.empty(), RecordFiles.read(dir.resolve("nope"), HostHeartbeat.class));
    }

    @Test
    void aCorruptedRecordIsRefusedNotBelieved() throws IOException {
        Path f = dir.resolve("h1.heartbeat");
        RecordFiles.replace(f, new HostHeartbeat("h1", 3, 7, 4000, 123));
        String text = Files.readString(f);
        Files.writeString(f, text.replace("\"counter\":7", "\"counter\":9"));
        IOException e = assertThrows(IOException.class, () -> RecordFiles.read(f, HostHeartbeat.class));
        assertTrue(e.getMessage().contains("checksum"), e.getMessage());
        Files.writeString(f, "garbage");
        assertThrows(IOException.class, () -> RecordFiles.read(f, HostHeartbeat.class));
    }

    @Test
    void exclusiveCreationHasOneWinner() throws IOException {
        Path f = dir.resolve("leases/vm1/gen-2");
        assertTrue(RecordFiles.createExclusively(f, new HostHeartbeat("h1", 1, 1, 4000, 0)));
        assertFalse(RecordFiles.createExclusively(f, new HostHeartbeat("h2", 1, 1, 4000, 0)));
        assertEquals("h1", RecordFiles.read(f, HostHeartbeat.class).orElseThrow().host());
    }

    @Test
    void writersOnSharedStorageFailWhenTheDirectoryIsGone() {
        Path f = dir.resolve("vanished/h1.heartbeat");
        assertThrows(IOException.class, () -> RecordFiles.replaceInExistingDir(f, new HostHeartbeat("h1", 1, 1, 4000, 0)));
        assertFalse(Files.exists(dir.resolve("vanished")), "no local directory was created in place of the mount");
    }
}
