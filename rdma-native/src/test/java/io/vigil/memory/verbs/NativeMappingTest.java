package io.vigil.memory.verbs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NativeMappingTest {
    @TempDir
    Path dir;

    @Test
    void anArenaFileIsMappedReadOnlyAndSharedWithItsWriters() throws IOException {
        Path arena = dir.resolve("web-1.vda.arena");
        Files.write(arena, "VIGILARN and some frames".getBytes(StandardCharsets.US_ASCII));
        try (NativeMapping mapping = NativeMapping.readOnly(arena)) {
            assertEquals(24, mapping.length());
            assertEquals(0, mapping.addressValue() % 4096, "page aligned");
            assertArrayEquals("VIGILARN".getBytes(StandardCharsets.US_ASCII), mapping.address().getByteArray(0, 8));
            try (var channel = java.nio.channels.FileChannel.open(arena, java.nio.file.StandardOpenOption.WRITE)) {
                channel.write(ByteBuffer.wrap("X".getBytes(StandardCharsets.US_ASCII)), 0);
            }
            assertEquals('X', mapping.address().getByte(0), "a later write by the agent shows through");
        }
    }

    @Test
    void anEmptyOrMissingFileIsRefused() throws IOException {
        Path empty = Files.createFile(dir.resolve("empty.arena"));
        assertTrue(assertThrows(IOException.class, () -> NativeMapping.readOnly(empty)).getMessage().contains("empty"));
        assertThrows(IOException.class, () -> NativeMapping.readOnly(dir.resolve("missing.arena")));
    }

    @Test
    void aBounceBufferIsZeroedWritableMemory() throws IOException {
        NativeMapping bounce = NativeMapping.anonymous(1 << 20);
        ByteBuffer view = bounce.buffer();
        assertEquals(1 << 20, view.capacity());
        assertEquals(0, view.get(12345));
        view.put(12345, (byte) 7);
        assertEquals(7, bounce.address().getByte(12345));
        bounce.close();
        bounce.close(); // idempotent: a double munmap could unmap someone else's memory
    }
}
