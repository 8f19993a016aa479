package io.vigil.agent.cache;

import static org.junit.jupiter.api.Assertions.*;

import io.vigil.protocol.CacheMode;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The dirty bound under a writer faster than the image, and scan resistance of the replacement policy. */
class CachePolicyTest {
    private static final int BLOCK = 4096;

    @TempDir
    Path dir;

    @Test
    void aWriterFasterThanTheImageNeverExceedsTheDirtyBound() throws Exception {
        int frames = 64;
        MemoryImage image = new MemoryImage(1024 * BLOCK).slow(1_000_000); // 1 ms per image write
        BlockCache cache = BlockCache.open(dir.resolve("arena"), new ArenaIdentity("vm", "d", 1), image,
                new CacheSettings(frames * BLOCK, frames * BLOCK, BLOCK, CacheMode.WRITE_BACK, 0.25));
        long bound = (long) (frames * 0.25) * BLOCK;
        AtomicBoolean writing = new AtomicBoolean(true);
        AtomicLong maxSeen = new AtomicLong();
        Thread sampler = new Thread(() -> {
            while (writing.get()) maxSeen.accumulateAndGet(cache.stats().dirtyBytes(), Math::max);
        });
        sampler.start();
        SplittableRandom rnd = new SplittableRandom(3);
        int refused = 0;
        long deadline = System.nanoTime() + 1_000_000_000L;
        int writes = 0;
        while (System.nanoTime() < deadline) {
            ByteBuffer data = ByteBuffer.allocate(rnd.nextBoolean() ? BLOCK : 3 * BLOCK);
            long offset = (long) rnd.nextInt(1000) * BLOCK;
            if (!cache.tryWrite(offset, data, false)) {
                refused++;
                cache.write(offset, data, false);
            }
            writes++;
        }
        writing.set(false);
        sampler.join();
        assertTrue(refused > 0, "tryWrite refuses when at the bound");
        assertTrue(maxSeen.get() <= bound, "dirty " + maxSeen.get() + " > bound " + bound);
        assertTrue(maxSeen.get() >= bound / 2, "the bound was approached: " + maxSeen.get());
        assertTrue(writes > 50, "writes " + writes);
        image.slow(0);
        cache.close();
    }

    @Test
    void aHotSetSurvivesALargeSequentialScan() throws Exception {
        int frames = 256;
        MemoryImage image = new MemoryImage(8192 * BLOCK);
        BlockCache cache = BlockCache.open(dir.resolve("arena"), new ArenaIdentity("vm", "d", 1), image,
                CacheSettings.of(frames * BLOCK, frames * BLOCK, CacheMode.WRITE_BACK));
        ByteBuffer buf = ByteBuffer.allocate(BLOCK);
        int hot = 100;
        for (int round = 0; round < 3; round++)
            for (int b = 0; b < hot; b++) cache.read((long) b * BLOCK, buf.clear());
        for (int b = 1000; b < 8000; b++) cache.read((long) b * BLOCK, buf.clear()); // 27x the cache, read once
        long missesBefore = cache.stats().misses();
        int hits = 0;
        for (int b = 0; b < hot; b++) if (cache.tryRead((long) b * BLOCK, buf.clear())) hits++;
        assertTrue(hits >= hot * 9 / 10, "hot blocks still cached after the scan: " + hits + " of " + hot);
        assertEquals(missesBefore, cache.stats().misses());
        cache.close();
    }
}
