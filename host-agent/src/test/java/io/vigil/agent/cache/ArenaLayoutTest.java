package io.vigil.agent.cache;

import static org.junit.jupiter.api.Assertions.*;

import io.vigil.protocol.CacheMode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The arena's bytes follow host-agent/ARENA.md, read here with plain ByteBuffer code, and ArenaReader validates them. */
class ArenaLayoutTest {
    @TempDir
    Path dir;

    private static final ArenaIdentity ID = new ArenaIdentity("vm-7", "disk-a", 42);

    @Test
    void headerAndSlotFieldsAreAtTheDocumentedOffsets() throws IOException {
        Path arena = dir.resolve("arena");
        MemoryImage image = new MemoryImage(1 << 20).unavailable(true); // write-back stays behind: blocks stay dirty
        BlockCache cache = BlockCache.open(arena, ID, image, CacheSettings.of(64 * 4096, 256 * 4096, CacheMode.WRITE_BACK_RECOVERABLE));
        byte[] block = new byte[4096];
        Arrays.fill(block, (byte) 0x5A);
        cache.write(3 * 4096, ByteBuffer.wrap(block), false);
        cache.flush(); // recoverable: a new epoch, no waiting
        cache.write(5 * 4096, ByteBuffer.wrap(block), false);

        ByteBuffer f = ByteBuffer.wrap(Files.readAllBytes(arena)).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals("VIGILARN", new String(f.array(), 0, 8, StandardCharsets.US_ASCII));
        assertEquals(1, f.getInt(8), "layout version");
        assertEquals(4096, f.getInt(12), "header size");
        assertEquals(4096, f.getInt(16), "block size");
        assertEquals(64, f.getInt(20), "slot size");
        assertEquals(42, f.getLong(24), "generation");
        assertEquals(256, f.getLong(32), "max frames");
        assertEquals(64, f.getLong(40), "frames");
        assertEquals(4096, f.getLong(48), "table offset");
        long framesOffset = f.getLong(56);
        assertEquals(4096 + 256 * 64, framesOffset, "frames offset: after the table, 4096-aligned");
        assertEquals(1 << 20, f.getLong(64), "disk size");
        assertEquals(1, f.getLong(72), "current epoch after one flush");
        assertEquals(1, f.getInt(96), "mode: write-back-recoverable");
        assertEquals(1, f.getInt(100), "agent attached");
        assertEquals("vm-7", new String(f.array(), 128, 4, StandardCharsets.UTF_8));
        assertEquals(0, f.get(128 + 4), "ids are zero-padded");
        assertEquals("disk-a", new String(f.array(), 192, 6, StandardCharsets.UTF_8));
        assertEquals(framesOffset + 64 * 4096, Files.size(arena), "file ends after the last frame");

        int dirty = 0;
        for (int i = 0; i < 64; i++) {
            int s = 4096 + i * 64;
            if (f.getInt(s + 8) != 2) continue;
            dirty++;
            long seq = f.getLong(s);
            assertEquals(seq, f.getLong(s + 56), "closing sequence copy");
            long offset = f.getLong(s + 16);
            assertTrue(offset == 3 * 4096 || offset == 5 * 4096, "disk offset " + offset);
            assertEquals(offset == 3 * 4096 ? 0 : 1, f.getLong(s + 24), "epoch");
            CRC32C crc = new CRC32C();
            crc.update(f.array(), (int) (framesOffset + (long) i * 4096), 4096);
            assertEquals((int) crc.getValue(), f.getInt(s + 12), "CRC32C of the frame");
            assertEquals(0x5A, f.get((int) (framesOffset + (long) i * 4096)));
        }
        assertEquals(2, dirty);
        cache.detach();
    }

    @Test
    void readerRejectsBadMagicAndVersionAndFlagsTornAndCorruptSlots() throws IOException {
        Path arena = dir.resolve("arena");
        MemoryImage image = new MemoryImage(1 << 20).unavailable(true);
        BlockCache cache = BlockCache.open(arena, ID, image, CacheSettings.of(64 * 4096, 64 * 4096, CacheMode.WRITE_BACK));
        for (int b = 0; b < 3; b++) {
            byte[] block = new byte[4096];
            Arrays.fill(block, (byte) (b + 1));
            cache.write(b * 4096L, ByteBuffer.wrap(block), false);
        }
        cache.detach();
        byte[] bytes = Files.readAllBytes(arena);
        ByteBuffer f = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);

        List<ArenaSlot> dirty = ArenaReader.of(f).dirtyBlocks();
        assertEquals(3, dirty.size());
        assertTrue(dirty.stream().allMatch(ArenaSlot::valid));
        assertTrue(dirty.get(0).sequence() < dirty.get(1).sequence(), "in sequence order");
        ArenaHeader h = ArenaReader.of(f).header();
        assertEquals("vm-7", h.vmId());
        assertEquals("disk-a", h.diskId());

        int torn = dirty.get(0).frame();
        int corrupt = dirty.get(1).frame();
        f.putLong(4096 + torn * 64 + 56, dirty.get(0).sequence() - 1); // the closing copy of an older write
        f.put((int) (h.framesOffset() + (long) corrupt * 4096 + 100), (byte) 0x77);
        List<ArenaSlot> again = ArenaReader.of(f).dirtyBlocks();
        assertEquals(ArenaSlot.Validity.TORN, again.get(0).validity());
        assertEquals(ArenaSlot.Validity.BAD_CHECKSUM, again.get(1).validity());
        assertEquals(ArenaSlot.Validity.VALID, again.get(2).validity());

        ByteBuffer badVersion = ByteBuffer.wrap(bytes.clone()).order(ByteOrder.LITTLE_ENDIAN).putInt(8, 99);
        assertTrue(assertThrows(ArenaFormatException.class, () -> ArenaReader.of(badVersion)).getMessage().contains("version 99"));
        byte[] badMagic = bytes.clone();
        badMagic[0] = 'X';
        assertThrows(ArenaFormatException.class, () -> ArenaReader.of(ByteBuffer.wrap(badMagic)));

        // re-attach: the valid block is written, the torn and corrupt ones are reported
        Files.write(arena, bytes);
        MemoryImage fresh = new MemoryImage(1 << 20);
        BlockCache reopened = BlockCache.open(arena, ID, fresh, CacheSettings.of(64 * 4096, 64 * 4096, CacheMode.WRITE_BACK));
        AttachReport r = reopened.attachReport();
        assertFalse(r.created());
        assertEquals(1, r.dirtyBlocksWrittenBack());
        assertEquals(1, r.tornSkipped());
        assertEquals(1, r.corruptSkipped());
        assertEquals(3, fresh.snapshot()[2 * 4096]);
        reopened.close();
        assertFalse(Files.exists(arena), "a clean close deletes the arena");
    }

    @Test
    void refusesAnotherDisksArenaAndDiscardsAnOlderGeneration() throws IOException {
        Path arena = dir.resolve("arena");
        BlockCache cache = BlockCache.open(arena, ID, new MemoryImage(1 << 20).unavailable(true),
                CacheSettings.of(16 * 4096, 16 * 4096, CacheMode.WRITE_BACK));
        cache.write(0, ByteBuffer.wrap(new byte[4096]), false);
        cache.detach();
        IOException e = assertThrows(IOException.class, () -> BlockCache.open(arena, new ArenaIdentity("vm-7", "disk-b", 42),
                new MemoryImage(1 << 20), CacheSettings.of(16 * 4096, 16 * 4096, CacheMode.WRITE_BACK)));
        assertTrue(e.getMessage().contains("disk 'disk-a'"), e.getMessage());
        assertThrows(IOException.class, () -> BlockCache.open(arena, new ArenaIdentity("vm-7", "disk-a", 41),
                new MemoryImage(1 << 20), CacheSettings.of(16 * 4096, 16 * 4096, CacheMode.WRITE_BACK)));
        MemoryImage image = new MemoryImage(1 << 20);
        BlockCache newer = BlockCache.open(arena, new ArenaIdentity("vm-7", "disk-a", 43), image,
                CacheSettings.of(16 * 4096, 16 * 4096, CacheMode.WRITE_BACK));
        assertTrue(newer.attachReport().staleDiscarded());
        assertEquals(0, newer.attachReport().dirtyBlocksWrittenBack());
        newer.close();
    }
}
