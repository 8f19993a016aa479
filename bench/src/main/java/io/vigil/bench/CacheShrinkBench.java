package io.vigil.bench;

import io.vigil.agent.cache.ArenaIdentity;
import io.vigil.agent.cache.BlockCache;
import io.vigil.agent.cache.CacheSettings;
import io.vigil.agent.cache.CacheStats;
import io.vigil.agent.cache.ResizeReport;
import io.vigil.agent.disk.BlockDevice;
import io.vigil.agent.disk.FileImage;
import io.vigil.agent.disk.ForwardingBlockDevice;
import io.vigil.protocol.CacheMode;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;

/**
 * The reclaim a failover waits for: a cache of {@code --cache-mib} MiB, 75% of its blocks clean and
 * {@code --dirty-percent} of them dirty (random 4 KiB blocks of a 4x larger image, held back from write-back while
 * they are written), shrunk to nothing; beside it, the image absorbing the same writes directly (the same blocks, in
 * the order the guest wrote them, then fsync). Target: shrink <= absorb + 100 ms. Prints both, then one JSON line.
 *   java -cp ... io.vigil.bench.CacheShrinkBench [--dir /dev/shm] [--cache-mib 1024] [--dirty-percent 25]
 */
public final class CacheShrinkBench {
    private static final int BLOCK = CacheSettings.DEFAULT_BLOCK_SIZE;

    private CacheShrinkBench() {}

    public static void main(String[] args) throws Exception {
        Path dir = Path.of("/dev/shm");
        long cacheMiB = 1024;
        int dirtyPercent = 25;
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--dir" -> dir = Path.of(args[i + 1]);
                case "--cache-mib" -> cacheMiB = Long.parseLong(args[i + 1]);
                case "--dirty-percent" -> dirtyPercent = Integer.parseInt(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        long cacheBytes = cacheMiB << 20;
        long imageBytes = 4 * cacheBytes;
        int frames = (int) (cacheBytes / BLOCK);
        int dirtyBlocks = (int) ((long) frames * dirtyPercent / 100);
        long[] offsets = distinctBlocks(dirtyBlocks, cacheBytes, imageBytes);

        Path image = sparse(dir.resolve("shrink.img"), imageBytes);
        Path arena = dir.resolve("shrink.arena");
        HeldWrites held = new HeldWrites(FileImage.open(image));
        BlockCache cache = BlockCache.open(arena, new ArenaIdentity("bench", "vda", 1), held,
                CacheSettings.of(cacheBytes, cacheBytes, CacheMode.WRITE_BACK));
        ByteBuffer mib = ByteBuffer.allocateDirect(1 << 20);
        for (long at = 0; at < cacheBytes * (100 - dirtyPercent) / 100; at += mib.capacity()) cache.read(at, mib.clear());
        ByteBuffer block = ByteBuffer.allocateDirect(BLOCK);
        for (long at : offsets) {
            block.clear().putLong(0, at);
            cache.write(at, block, false);
        }
        CacheStats before = cache.stats();
        held.release();
        ResizeReport shrink = cache.resize(0);
        cache.close();
        Files.deleteIfExists(image);

        Path direct = sparse(dir.resolve("absorb.img"), imageBytes);
        long start = System.nanoTime();
        try (FileChannel ch = FileChannel.open(direct, StandardOpenOption.WRITE)) {
            for (long at : offsets) {
                block.clear().putLong(0, at);
                while (block.hasRemaining()) ch.write(block, at + block.position());
            }
            ch.force(false);
        }
        double absorbMs = (System.nanoTime() - start) / 1e6;
        Files.deleteIfExists(direct);

        double shrinkMs = shrink.took().toNanos() / 1e6;
        System.out.printf("cache %d MiB, %d MiB used, %d MiB dirty (%d%% of its blocks)%n", cacheMiB,
                before.usedBytes() >> 20, before.dirtyBytes() >> 20, dirtyPercent);
        System.out.printf("shrink to 0: %.1f ms (%d MiB written back)%n", shrinkMs, shrink.bytesWrittenBack() >> 20);
        System.out.printf("the image absorbing the same %d writes of 4 KiB directly: %.1f ms%n", offsets.length, absorbMs);
        System.out.printf("{\"cacheMiB\":%d,\"dirtyMiB\":%d,\"shrinkMillis\":%.1f,\"absorbMillis\":%.1f,\"shrinkOverAbsorbMillis\":%.1f}%n",
                cacheMiB, before.dirtyBytes() >> 20, shrinkMs, absorbMs, shrinkMs - absorbMs);
    }

    /** {@code n} distinct block offsets in [from, to), in random order. */
    private static long[] distinctBlocks(int n, long from, long to) {
        int span = (int) ((to - from) / BLOCK);
        int[] all = new int[span];
        for (int i = 0; i < span; i++) all[i] = i;
        SplittableRandom rnd = new SplittableRandom(42);
        long[] out = new long[n];
        for (int i = 0; i < n; i++) {
            int j = i + rnd.nextInt(span - i);
            int t = all[i];
            all[i] = all[j];
            all[j] = t;
            out[i] = from + (long) all[i] * BLOCK;
        }
        return out;
    }

    private static Path sparse(Path file, long bytes) throws IOException {
        Files.deleteIfExists(file);
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(bytes);
        }
        return file;
    }

    /** The image, with writes held until {@link #release}: the dirty blocks stay dirty until the shrink. */
    private static final class HeldWrites extends ForwardingBlockDevice {
        private final CountDownLatch released = new CountDownLatch(1);

        HeldWrites(BlockDevice image) {
            super(image);
        }

        void release() {
            released.countDown();
        }

        @Override
        public void write(long offset, ByteBuffer src, boolean fua) throws IOException {
            try {
                released.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted");
            }
            super.write(offset, src, fua);
        }
    }
}
