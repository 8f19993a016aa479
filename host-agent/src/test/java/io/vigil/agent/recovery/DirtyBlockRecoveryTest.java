package io.vigil.agent.recovery;

import static org.junit.jupiter.api.Assertions.*;

import io.vigil.agent.cache.ArenaHeader;
import io.vigil.agent.cache.ArenaIdentity;
import io.vigil.agent.cache.ArenaReader;
import io.vigil.agent.cache.ArenaSlot;
import io.vigil.agent.cache.BlockCache;
import io.vigil.agent.cache.CacheSettings;
import io.vigil.agent.cache.MemoryImage;
import io.vigil.memory.RemoteMemory;
import io.vigil.memory.RemoteMemoryException;
import io.vigil.memory.RemoteRead;
import io.vigil.memory.RemoteRegion;
import io.vigil.protocol.CacheMode;
import io.vigil.protocol.memory.MemoryKeeperEndpoint;
import io.vigil.protocol.memory.RecoveryReport;
import io.vigil.protocol.memory.RecoverySource;
import io.vigil.protocol.memory.Regions;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Recovery of a failed host's arenas read through a {@link RemoteMemory} that serves arena files from a directory
 * (the reads a memory keeper serves; the keeper itself is tested in rdma-native and end to end in e2e).
 */
class DirtyBlockRecoveryTest {
    private static final int BLOCK = 4096;
    private static final MemoryKeeperEndpoint KEEPER = new MemoryKeeperEndpoint("h1", "127.0.0.1", 1, 0, "a2V5");

    @TempDir
    Path dir;

    /** Serves the arena files of a directory, as a keeper would; counts reads. */
    static final class DirectoryMemory implements RemoteMemory {
        final Path arenas;
        boolean reachable = true;
        int reads;

        DirectoryMemory(Path arenas) {
            this.arenas = arenas;
        }

        @Override
        public String transport() {
            return "test";
        }

        @Override
        public RemoteRegion open(MemoryKeeperEndpoint keeper, String region, String grant, Duration timeout)
                throws IOException {
            if (!reachable) throw new RemoteMemoryException(RemoteMemoryException.Kind.UNREACHABLE, "connection refused");
            Path file = arenas.resolve(Regions.fileName(region));
            if (!Files.exists(file)) throw new RemoteMemoryException(RemoteMemoryException.Kind.NO_SUCH_REGION, region);
            FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
            long size = ch.size();
            return new RemoteRegion() {
                public String name() { return region; }
                public long size() { return size; }
                public void read(List<RemoteRead> list) throws IOException {
                    for (RemoteRead r : list) {
                        reads++;
                        if (r.offset() + r.dst().remaining() > size)
                            throw new RemoteMemoryException(RemoteMemoryException.Kind.OUT_OF_RANGE, "past " + size);
                        long at = r.offset();
                        while (r.dst().hasRemaining()) at += ch.read(r.dst(), at);
                    }
                }
                public void close() {
                    try { ch.close(); } catch (IOException ignored) { }
                }
            };
        }

        @Override
        public void close() {}
    }

    private static byte[] block(int seed) {
        byte[] b = new byte[BLOCK];
        new Random(seed).nextBytes(b);
        return b;
    }

    /** An arena of VM vm-1 disk vda, generation 7, holding dirty writes the image never got (write-back failing). */
    private Path dirtyArena(int[] blocks) throws IOException {
        Path arena = dir.resolve(Regions.fileName("vm-1/vda"));
        MemoryImage failing = new MemoryImage(64 * BLOCK).unavailable(true);
        BlockCache cache = BlockCache.open(arena, new ArenaIdentity("vm-1", "vda", 7), failing,
                CacheSettings.of(128L * BLOCK, 128L * BLOCK, CacheMode.WRITE_BACK_RECOVERABLE));
        for (int i = 0; i < blocks.length; i++) cache.write((long) blocks[i] * BLOCK, ByteBuffer.wrap(block(i)), false);
        cache.detach(); // as a crashed host leaves it: every block dirty
        return arena;
    }

    private Path image() throws IOException {
        Path image = dir.resolve("disk.img");
        Files.write(image, new byte[64 * BLOCK]);
        return image;
    }

    private static RecoverySource from(long generation) {
        return new RecoverySource("h1", KEEPER, "v1:grant", generation, 500, 1234, 0);
    }

    @Test
    void writesEveryDirtyBlockInSequenceOrderSoTheNewestVersionWins() throws IOException {
        int[] blocks = {3, 9, 3, 10, 11, 12, 40, 9}; // 3 and 9 written twice; 10-12 adjacent on the disk
        dirtyArena(blocks);
        Path image = image();
        RecoveryReport r = new DirtyBlockRecovery(new DirectoryMemory(dir))
                .recover("vm-1", List.of(new DirtyBlockRecovery.Disk("vda", image)), from(7));
        assertEquals(RecoveryReport.RECOVERED, r.outcome(), r.toString());
        assertEquals(1, r.arenas());
        assertEquals(0, r.torn());
        assertEquals(0, r.corrupt());
        byte[] disk = Files.readAllBytes(image);
        byte[] expected = new byte[64 * BLOCK];
        for (int i = 0; i < blocks.length; i++) System.arraycopy(block(i), 0, expected, blocks[i] * BLOCK, BLOCK);
        assertArrayEquals(expected, disk, "the image holds the newest version of every block");
        assertTrue(r.blocks() >= 6, "at least one version per distinct block applied: " + r.blocks());
        assertEquals(r.blocks() * BLOCK, r.bytes());
    }

    @Test
    void tornAndCorruptBlocksAreDetectedReportedAndNotApplied() throws IOException {
        Path arena = dirtyArena(new int[] {1, 2, 3, 4});
        ByteBuffer f;
        ArenaHeader h;
        List<ArenaSlot> dirty;
        try (FileChannel ch = FileChannel.open(arena, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ArenaReader reader = ArenaReader.of(ch);
            h = reader.header();
            dirty = reader.dirtyBlocks();
            assertEquals(4, dirty.size());
            ArenaSlot torn = dirty.get(0); // block 1
            ArenaSlot corrupt = dirty.get(2); // block 3
            ByteBuffer seq = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, torn.sequence() + 99);
            ch.write(seq, h.tableOffset() + (long) torn.frame() * ArenaReader.SLOT_BYTES + 56);
            ch.write(ByteBuffer.wrap(new byte[] {(byte) 0xEE}), h.framesOffset() + (long) corrupt.frame() * BLOCK + 17);
        }
        Path image = image();
        RecoveryReport r = new DirtyBlockRecovery(new DirectoryMemory(dir))
                .recover("vm-1", List.of(new DirtyBlockRecovery.Disk("vda", image)), from(7));
        assertEquals(RecoveryReport.RECOVERED, r.outcome());
        assertEquals(1, r.torn());
        assertEquals(1, r.corrupt());
        assertEquals(2, r.blocks());
        byte[] disk = Files.readAllBytes(image);
        assertArrayEquals(new byte[BLOCK], Arrays.copyOfRange(disk, BLOCK, 2 * BLOCK), "torn block 1 not applied");
        assertArrayEquals(block(1), Arrays.copyOfRange(disk, 2 * BLOCK, 3 * BLOCK));
        assertArrayEquals(new byte[BLOCK], Arrays.copyOfRange(disk, 3 * BLOCK, 4 * BLOCK), "corrupt block 3 not applied");
        assertArrayEquals(block(3), Arrays.copyOfRange(disk, 4 * BLOCK, 5 * BLOCK));
    }

    @Test
    void anArenaOfAnOlderGenerationIsStaleAndNotApplied() throws IOException {
        dirtyArena(new int[] {5});
        Path image = image();
        RecoveryReport r = new DirtyBlockRecovery(new DirectoryMemory(dir))
                .recover("vm-1", List.of(new DirtyBlockRecovery.Disk("vda", image)), from(8));
        assertEquals(RecoveryReport.RECOVERED, r.outcome());
        assertEquals(1, r.stale());
        assertEquals(0, r.blocks());
        assertArrayEquals(new byte[64 * BLOCK], Files.readAllBytes(image));
    }

    @Test
    void anotherVmsArenaUnderThisNameFailsTheRecoveryAndWritesNothing() throws IOException {
        Path arena = dirtyArena(new int[] {5});
        Files.move(arena, dir.resolve(Regions.fileName("vm-2/vda")));
        Path image = image();
        RecoveryReport r = new DirtyBlockRecovery(new DirectoryMemory(dir))
                .recover("vm-2", List.of(new DirtyBlockRecovery.Disk("vda", image)), from(7));
        assertEquals(RecoveryReport.FAILED, r.outcome());
        assertTrue(r.detail().contains("belongs to VM 'vm-1'"), r.detail());
        assertArrayEquals(new byte[64 * BLOCK], Files.readAllBytes(image));
    }

    @Test
    void anUnreachableKeeperIsReportedWithTheUnflushedWindowAndNothingIsWritten() throws IOException {
        dirtyArena(new int[] {5});
        Path image = image();
        DirectoryMemory memory = new DirectoryMemory(dir);
        memory.reachable = false;
        RecoveryReport r = new DirtyBlockRecovery(memory)
                .recover("vm-1", List.of(new DirtyBlockRecovery.Disk("vda", image)), from(7));
        assertEquals(RecoveryReport.UNREACHABLE, r.outcome());
        assertEquals(1234, r.lastWriteBackMillis(), "the failed host's last reported write-back");
        assertTrue(r.detail().contains("could not be reached within 500 ms"), r.detail());
        assertArrayEquals(new byte[64 * BLOCK], Files.readAllBytes(image));
    }

    @Test
    void aDiskWithoutAnArenaHasNothingToRecover() throws IOException {
        Path image = image();
        RecoveryReport r = new DirtyBlockRecovery(new DirectoryMemory(dir))
                .recover("vm-1", List.of(new DirtyBlockRecovery.Disk("vdb", image)), from(7));
        assertEquals(RecoveryReport.RECOVERED, r.outcome());
        assertEquals(0, r.arenas());
        assertEquals(0, r.blocks());
    }

    @Test
    void manyBlocksSpanSeveralBatchesAndCoalescedReads() throws IOException {
        // 20,000 blocks: over two 32 MiB batches; frames adjacent in the arena are read together
        int n = 20_000;
        Path arena = dir.resolve(Regions.fileName("vm-1/vda"));
        MemoryImage failing = new MemoryImage(n * BLOCK).unavailable(true);
        BlockCache cache = BlockCache.open(arena, new ArenaIdentity("vm-1", "vda", 7), failing,
                new CacheSettings(2L * n * BLOCK + BLOCK * 8L, 2L * n * BLOCK + BLOCK * 8L, BLOCK,
                        CacheMode.WRITE_BACK_RECOVERABLE, 0.9));
        int[] order = new Random(5).ints(0, n).distinct().limit(n).toArray();
        byte[] expected = new byte[n * BLOCK];
        for (int i = 0; i < order.length; i++) {
            byte[] b = new byte[BLOCK];
            ByteBuffer.wrap(b).putInt(0, order[i]).putInt(BLOCK - 4, i);
            System.arraycopy(b, 0, expected, order[i] * BLOCK, BLOCK);
            cache.write((long) order[i] * BLOCK, ByteBuffer.wrap(b), false);
        }
        cache.detach();
        Path image = dir.resolve("big.img");
        Files.write(image, new byte[n * BLOCK]);
        DirectoryMemory memory = new DirectoryMemory(dir);
        RecoveryReport r = new DirtyBlockRecovery(memory)
                .recover("vm-1", List.of(new DirtyBlockRecovery.Disk("vda", image)), from(7));
        assertEquals(RecoveryReport.RECOVERED, r.outcome());
        assertEquals(order.length, r.blocks());
        assertArrayEquals(expected, Files.readAllBytes(image));
        assertTrue(memory.reads < order.length / 8, "adjacent frames read together: " + memory.reads + " reads");
    }
}
