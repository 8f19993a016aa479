package io.vigil.agent.cache;

import static org.junit.jupiter.api.Assertions.*;

import io.vigil.protocol.CacheMode;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.locks.ReentrantLock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Random concurrent reads and writes (unaligned, spanning blocks, several threads on the same blocks) against a
 * reference copy, with a cache small enough that eviction and back-pressure happen. The test serializes requests
 * that share a 512-byte sector, so the expected content is exact, while requests on different sectors of one block
 * run concurrently in the cache.
 */
class BlockCacheIntegrityTest {
    private static final int DISK = 2 << 20;
    private static final int SECTOR = 512;
    private static final int THREADS = 4;
    private static final int OPS = 3000;

    @TempDir
    Path dir;

    @ParameterizedTest
    @EnumSource(CacheMode.class)
    void concurrentReadsAndWritesMatchTheReference(CacheMode mode) throws Exception {
        run(mode, 48 * 4096L, 4096);
    }

    @Test
    void smallBlocksAndATinyCacheStillMatch() throws Exception {
        run(CacheMode.WRITE_BACK, 4 * 1024L, 1024);
    }

    @Test
    void capacityZeroIsAPassThrough() throws Exception {
        run(CacheMode.WRITE_BACK, 0, 4096);
    }

    private void run(CacheMode mode, long capacity, int blockSize) throws Exception {
        MemoryImage image = new MemoryImage(DISK);
        byte[] reference = new byte[DISK];
        SplittableRandom seed = new SplittableRandom(mode.ordinal() * 31L + capacity);
        seed.nextBytes(reference);
        image.write(0, ByteBuffer.wrap(reference.clone()), false);
        Path arena = dir.resolve("arena-" + mode);
        BlockCache cache = BlockCache.open(arena, new ArenaIdentity("vm", "d", 1), image,
                new CacheSettings(capacity, 64 * 4096L, blockSize, mode, 0.5));
        ReentrantLock[] sectors = new ReentrantLock[DISK / SECTOR];
        for (int i = 0; i < sectors.length; i++) sectors[i] = new ReentrantLock();

        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        List<Future<?>> done = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            SplittableRandom rnd = seed.split();
            done.add(pool.submit(() -> {
                for (int op = 0; op < OPS; op++) {
                    // a hot 256 KiB region shared by all threads, plus the rest of the disk now and then
                    int span = rnd.nextInt(10) < 8 ? 256 << 10 : DISK;
                    int len = 1 + rnd.nextInt(3 * 4096);
                    int offset = rnd.nextBoolean() ? rnd.nextInt(span - len) : rnd.nextInt((span - len) / 4096) * 4096;
                    if (rnd.nextBoolean()) len = Math.min(4096, len); // plenty of single-block requests
                    int firstSector = offset / SECTOR;
                    int lastSector = (offset + len - 1) / SECTOR;
                    for (int s = firstSector; s <= lastSector; s++) sectors[s].lock();
                    try {
                        int kind = rnd.nextInt(100);
                        if (kind < 45) {
                            ByteBuffer dst = ByteBuffer.allocate(len);
                            if (!cache.tryRead(offset, dst)) cache.read(offset, dst);
                            assertFalse(dst.hasRemaining());
                            assertArrayEquals(Arrays.copyOfRange(reference, offset, offset + len), dst.array(),
                                    "read " + len + " at " + offset);
                        } else if (kind < 95) {
                            byte[] data = new byte[len];
                            rnd.nextBytes(data);
                            boolean fua = rnd.nextInt(50) == 0;
                            ByteBuffer src = ByteBuffer.wrap(data);
                            if (!cache.tryWrite(offset, src, fua)) {
                                assertEquals(0, src.position(), "a refused tryWrite does nothing");
                                cache.write(offset, src, fua);
                            }
                            System.arraycopy(data, 0, reference, offset, len);
                        } else if (kind < 98) {
                            cache.writeZeroes(offset, len, false, false);
                            Arrays.fill(reference, offset, offset + len, (byte) 0);
                        } else {
                            cache.flush();
                        }
                    } finally {
                        for (int s = firstSector; s <= lastSector; s++) sectors[s].unlock();
                    }
                }
                return null;
            }));
        }
        pool.shutdown();
        for (Future<?> f : done) f.get();

        // a large zeroing range (a barrier), then read everything back through the cache
        cache.writeZeroes(DISK / 2 + 100, 600 << 10, true, false);
        Arrays.fill(reference, DISK / 2 + 100, DISK / 2 + 100 + (600 << 10), (byte) 0);
        ByteBuffer all = ByteBuffer.allocate(DISK);
        cache.read(0, all);
        assertArrayEquals(reference, all.array());
        CacheStats stats = cache.stats();
        assertTrue(stats.dirtyBytes() <= capacity / 2 + 4096, stats.toString());
        cache.close();
        assertArrayEquals(reference, image.snapshot(), "after close the image holds every write");
        assertTrue(image.closed());
        assertFalse(Files.exists(arena));
    }
}
