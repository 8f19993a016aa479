package io.vigil.agent.cache;

import static org.junit.jupiter.api.Assertions.*;

import io.vigil.protocol.CacheMode;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Growing appends frames; shrinking writes back what no longer fits, keeps the data, and gives the memory back. */
class CacheResizeTest {
    private static final int BLOCK = 4096;
    private static final int DISK_BLOCKS = 2048;

    @TempDir
    Path dir;

    @Test
    void growThenShrinkWithDirtyBlocksKeepsEveryWrite() throws Exception {
        MemoryImage image = new MemoryImage(DISK_BLOCKS * BLOCK).slow(20_000_000); // write-back lags behind
        Path arena = dir.resolve("arena");
        BlockCache cache = BlockCache.open(arena, new ArenaIdentity("vm", "d", 1), image,
                new CacheSettings(128L * BLOCK, 1024L * BLOCK, BLOCK, CacheMode.WRITE_BACK_RECOVERABLE, 0.5));
        long smallFile = Files.size(arena);
        byte[] reference = new byte[DISK_BLOCKS * BLOCK];

        ResizeReport grow = cache.resize(1024L * BLOCK);
        assertEquals(1024L * BLOCK, grow.toBytes());
        assertEquals(1024L * BLOCK, cache.stats().capacityBytes());
        assertEquals(smallFile + 896L * BLOCK, Files.size(arena));

        SplittableRandom rnd = new SplittableRandom(11);
        for (int i = 0; i < 450; i++) { // about 44% of the frames dirty, the image too slow to keep up
            int b = rnd.nextInt(DISK_BLOCKS);
            byte[] data = new byte[BLOCK];
            rnd.nextBytes(data);
            cache.write((long) b * BLOCK, ByteBuffer.wrap(data), false);
            System.arraycopy(data, 0, reference, b * BLOCK, BLOCK);
            if (i % 100 == 99) cache.flush();
        }
        assertTrue(cache.stats().dirtyBytes() > 200L * BLOCK, cache.stats().toString());
        image.slow(0);

        ResizeReport shrink = cache.resize(100L * BLOCK);
        CacheStats after = cache.stats();
        assertEquals(100L * BLOCK, after.capacityBytes());
        assertTrue(after.dirtyBytes() <= 50L * BLOCK, after.toString());
        assertTrue(shrink.bytesWrittenBack() > 0, shrink.toString());
        assertEquals(ArenaReader.of(java.nio.channels.FileChannel.open(arena)).header().frameCount(), 100);
        assertEquals(smallFile - 28L * BLOCK, Files.size(arena), "truncated");

        ByteBuffer all = ByteBuffer.allocate(reference.length);
        cache.read(0, all);
        assertArrayEquals(reference, all.array(), "every write readable after the shrink");

        ResizeReport none = cache.resize(0);
        assertEquals(0, cache.stats().capacityBytes());
        assertArrayEquals(reference, image.snapshot(), "shrinking to 0 writes everything back");
        assertTrue(none.took().toMillis() < 5000);
        cache.write(0, ByteBuffer.wrap(new byte[] {9}), false); // pass-through now
        reference[0] = 9;
        cache.resize(64L * BLOCK);
        cache.write(BLOCK, ByteBuffer.wrap(new byte[] {8}), false);
        reference[BLOCK] = 8;
        cache.close();
        assertArrayEquals(reference, image.snapshot());
    }
}
