package io.vigil.memory.keeper;

import static org.junit.jupiter.api.Assertions.*;

import io.vigil.protocol.memory.MemoryKeeperEndpoint;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MemoryKeeperFilesTest {
    @TempDir
    Path dir;

    @Test
    void theGrantKeyIsMadeOnceOwnerOnlyAndKept() throws Exception {
        Path state = dir.resolve("state");
        String key = MemoryKeeperFiles.loadOrCreateGrantKey(state);
        assertEquals(32, Base64.getDecoder().decode(key).length);
        assertEquals("rw-------", mode(state.resolve(MemoryKeeperFiles.GRANT_KEY_FILE)));
        assertEquals("rwx------", mode(state));
        assertEquals(key, MemoryKeeperFiles.loadOrCreateGrantKey(state));
        try (var files = Files.list(state)) {
            assertEquals(1, files.count(), "no temporary file left behind");
        }
    }

    @Test
    void aDamagedGrantKeyIsAnErrorNotSilentlyReplaced() throws Exception {
        Files.writeString(dir.resolve(MemoryKeeperFiles.GRANT_KEY_FILE), "c2hvcnQ=\n");
        IOException e = assertThrows(IOException.class, () -> MemoryKeeperFiles.loadOrCreateGrantKey(dir));
        assertTrue(e.getMessage().contains("not a grant key"), e.getMessage());
        assertEquals("c2hvcnQ=\n", Files.readString(dir.resolve(MemoryKeeperFiles.GRANT_KEY_FILE)));
    }

    @Test
    void theEndpointRoundTripsOwnerOnlyAndIsReplacedWhole() throws Exception {
        assertEquals(Optional.empty(), MemoryKeeperFiles.readEndpoint(dir));
        MemoryKeeperEndpoint first = new MemoryKeeperEndpoint("h1", "10.0.0.1", 7470, 0, KeeperFixture.newKey());
        MemoryKeeperFiles.writeEndpoint(dir, first);
        assertEquals(Optional.of(first), MemoryKeeperFiles.readEndpoint(dir));
        assertEquals("rw-------", mode(dir.resolve(MemoryKeeperFiles.ENDPOINT_FILE)));
        MemoryKeeperEndpoint second = new MemoryKeeperEndpoint("h1", "10.0.0.1", 7471, 4791, first.grantKey());
        MemoryKeeperFiles.writeEndpoint(dir, second);
        assertEquals(Optional.of(second), MemoryKeeperFiles.readEndpoint(dir));

        MemoryKeeperFiles.removeEndpoint(dir, first); // not the current one: kept
        assertEquals(Optional.of(second), MemoryKeeperFiles.readEndpoint(dir));
        MemoryKeeperFiles.removeEndpoint(dir, second);
        assertEquals(Optional.empty(), MemoryKeeperFiles.readEndpoint(dir));
    }

    @Test
    void anUnreadableEndpointIsAnErrorNamingTheFile() throws Exception {
        Files.writeString(dir.resolve(MemoryKeeperFiles.ENDPOINT_FILE), "{\"host\":\"h1\",\"tcpPort\":0}");
        IOException e = assertThrows(IOException.class, () -> MemoryKeeperFiles.readEndpoint(dir));
        assertTrue(e.getMessage().contains(MemoryKeeperFiles.ENDPOINT_FILE), e.getMessage());
    }

    private static String mode(Path p) throws IOException {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
    }
}
