package io.vigil.agent.cache;

import static org.junit.jupiter.api.Assertions.*;

import io.vigil.protocol.CacheMode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** With a flush interval, dirty blocks wait in the arena until the oldest has waited it, or the dirty bound presses. */
class FlushIntervalTest {
    private static final int BLOCK = 4096;

    @TempDir
    Path dir;

    private static ByteBuffer block(int value) {
        byte[] b = new byte[BLOCK];
        Arrays.fill(b, (byte) value);
        return ByteBuffer.wrap(b);
    }

    private static void await(String what, java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) fail("timed out waiting for " + what);
            Thread.sleep(10);
        }
    }

    @Test
    void dirtyBlocksStayInTheArenaUntilTheOldestHasWaitedTheInterval() throws Exception {
        MemoryImage image = new MemoryImage(256 * BLOCK);
        BlockCache cache = BlockCache.open(dir.resolve("arena"), new ArenaIdentity("vm", "vda", 1), image,
                CacheSettings.of(64L * BLOCK, 64L * BLOCK, CacheMode.WRITE_BACK).withWriteBackDelay(3000));
        long written = System.nanoTime();
        cache.write(5L * BLOCK, block(7), false);
        Thread.sleep(200);
        if (System.nanoTime() - written < 2_500_000_000L) { // on a machine this slow the check below means nothing
            assertEquals(BLOCK, cache.stats().dirtyBytes(), "still dirty within the interval");
            assertEquals(0, image.snapshot()[5 * BLOCK], "not on the image yet");
        }
        await("the write-back after the interval", () -> cache.stats().dirtyBytes() == 0);
        assertTrue(System.nanoTime() - written >= 3_000_000_000L, "written back no sooner than the interval");
        assertEquals(7, image.snapshot()[5 * BLOCK]);
        assertTrue(cache.stats().lastWriteBackCompletedMillis() > 0);
        cache.close();
    }

    @Test
    void halfTheDirtyBoundWritesBackWithoutWaitingAndFlushStillDrains() throws Exception {
        MemoryImage image = new MemoryImage(256 * BLOCK);
        // 64 frames, half may be dirty: 32; write-back starts at 16 without waiting for the (long) interval
        BlockCache cache = BlockCache.open(dir.resolve("arena"), new ArenaIdentity("vm", "vda", 1), image,
                CacheSettings.of(64L * BLOCK, 64L * BLOCK, CacheMode.WRITE_BACK).withWriteBackDelay(600_000));
        for (int i = 0; i < 24; i++) cache.write((long) i * BLOCK, block(i + 1), false);
        await("write-back under pressure", () -> cache.stats().dirtyBytes() < 16L * BLOCK);
        cache.write(100L * BLOCK, block(99), false);
        cache.flush(); // write-back mode: FLUSH returns once the image has it
        assertEquals(99, image.snapshot()[100 * BLOCK]);
        cache.close();
    }
}
