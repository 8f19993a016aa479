package io.vigil.agent.cache;

import io.vigil.agent.disk.FileImage;
import io.vigil.protocol.CacheMode;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.LongAdder;

/**
 * Figures for the cache, outside JUnit: 4k hit reads through tryRead (1 and 4 threads), 4k write-back writes, and
 * shrinking a 1 GiB cache with 25% dirty blocks to 0 against the image absorbing the same bytes directly.
 * Arena and image go to the directory given (default /dev/shm). Run: java -cp &lt;test classpath&gt; ...CacheBenchMain
 */
public final class CacheBenchMain {
    private static final int BLOCK = 4096;

    private CacheBenchMain() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Files.createTempDirectory(Path.of(args.length > 0 ? args[0] : "/dev/shm"), "cache-bench");
        try {
            hits(dir);
            writes(dir);
            shrink(dir);
        } finally {
            try (var files = Files.list(dir)) {
                for (Path p : (Iterable<Path>) files::iterator) Files.deleteIfExists(p);
            }
            Files.deleteIfExists(dir);
        }
    }

    private static Path image(Path dir, String name, long size) throws Exception {
        Path p = dir.resolve(name);
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.setLength(size);
        }
        return p;
    }

    private static void hits(Path dir) throws Exception {
        int blocks = 16384; // 64 MiB, all cached
        BlockCache cache = BlockCache.open(dir.resolve("hits.arena"), new ArenaIdentity("vm", "d", 1),
                FileImage.open(image(dir, "hits.img", (long) blocks * BLOCK)),
                CacheSettings.of((long) blocks * BLOCK, (long) blocks * BLOCK, CacheMode.WRITE_BACK));
        ByteBuffer warm = ByteBuffer.allocate(1 << 20);
        for (long at = 0; at < (long) blocks * BLOCK; at += warm.capacity()) cache.read(at, warm.clear());
        for (int threads : new int[] {1, 4}) {
            LongAdder ops = new LongAdder();
            long end = System.nanoTime() + 3_000_000_000L;
            Thread[] ts = new Thread[threads];
            for (int t = 0; t < threads; t++) {
                ts[t] = new Thread(() -> {
                    ByteBuffer buf = ByteBuffer.allocateDirect(BLOCK);
                    SplittableRandom rnd = new SplittableRandom();
                    long n = 0;
                    try {
                        while (System.nanoTime() < end) {
                            for (int i = 0; i < 1000; i++) {
                                if (!cache.tryRead((long) rnd.nextInt(blocks) * BLOCK, buf.clear())) throw new AssertionError("miss");
                            }
                            n += 1000;
                        }
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    }
                    ops.add(n);
                });
                ts[t].start();
            }
            for (Thread t : ts) t.join();
            System.out.printf("4k hit tryRead, %d thread(s): %,.0f ops/s%n", threads, ops.sum() / 3.0);
        }
        cache.close();
    }

    private static void writes(Path dir) throws Exception {
        int blocks = 65536; // 256 MiB disk, 128 MiB cache
        BlockCache cache = BlockCache.open(dir.resolve("w.arena"), new ArenaIdentity("vm", "d", 1),
                FileImage.open(image(dir, "w.img", (long) blocks * BLOCK)),
                CacheSettings.of(32768L * BLOCK, 32768L * BLOCK, CacheMode.WRITE_BACK));
        ByteBuffer buf = ByteBuffer.allocateDirect(BLOCK);
        SplittableRandom rnd = new SplittableRandom(1);
        long n = 0;
        long tries = 0;
        long start = System.nanoTime();
        long end = start + 3_000_000_000L;
        while (System.nanoTime() < end) {
            for (int i = 0; i < 1000; i++) {
                long at = (long) rnd.nextInt(blocks) * BLOCK;
                if (cache.tryWrite(at, buf.clear(), false)) tries++;
                else cache.write(at, buf.clear(), false);
            }
            n += 1000;
        }
        double secs = (System.nanoTime() - start) / 1e9;
        System.out.printf("4k write-back writes, 1 thread, random over 256 MiB, 128 MiB cache: %,.0f writes/s (%.0f%% via tryWrite), %s%n",
                n / secs, 100.0 * tries / n, cache.stats());
        cache.close();
    }

    private static void shrink(Path dir) throws Exception {
        int frames = 262144; // 1 GiB
        long disk = 4L << 30;
        BlockCache cache = BlockCache.open(dir.resolve("s.arena"), new ArenaIdentity("vm", "d", 1),
                new SlowStart(FileImage.open(image(dir, "s.img", disk))),
                new CacheSettings((long) frames * BLOCK, (long) frames * BLOCK, BLOCK, CacheMode.WRITE_BACK, 0.5));
        // fill: 75% clean (reads), 25% dirty (writes while write-back is held off)
        ByteBuffer big = ByteBuffer.allocate(1 << 20);
        for (long at = 0; at < (long) frames * 3 / 4 * BLOCK; at += big.capacity()) cache.read(at, big.clear());
        SlowStart.hold = true;
        SplittableRandom rnd = new SplittableRandom(5);
        ByteBuffer b = ByteBuffer.allocateDirect(BLOCK);
        int dirtyBlocks = frames / 4;
        long base = (long) frames * BLOCK;
        for (int i = 0; i < dirtyBlocks; i++) {
            long at = base + (long) rnd.nextInt((int) ((disk - base) / BLOCK)) * BLOCK;
            cache.write(at, b.clear(), false);
        }
        CacheStats before = cache.stats();
        SlowStart.hold = false;
        ResizeReport r = cache.resize(0);
        System.out.printf("shrink 1 GiB -> 0 with %d MiB dirty (%d MiB used): %d ms, %d MiB written back%n",
                before.dirtyBytes() >> 20, before.usedBytes() >> 20, r.took().toMillis(), r.bytesWrittenBack() >> 20);
        cache.close();

        // the same bytes written straight to an image: sequential pwrite + fsync
        Path direct = image(dir, "direct.img", disk);
        try (FileChannel ch = FileChannel.open(direct, StandardOpenOption.WRITE)) {
            ByteBuffer mb = ByteBuffer.allocateDirect(1 << 20);
            long bytes = (long) dirtyBlocks * BLOCK;
            long start = System.nanoTime();
            for (long at = 0; at < bytes; at += mb.capacity()) {
                mb.clear();
                while (mb.hasRemaining()) ch.write(mb, at + mb.position());
            }
            ch.force(false);
            System.out.printf("the image absorbing %d MiB directly (sequential 1 MiB pwrite + fsync): %d ms%n",
                    bytes >> 20, (System.nanoTime() - start) / 1_000_000);
        }
    }

    /** Holds image writes back while the benchmark dirties the cache. */
    private static final class SlowStart extends DelegatingImage {
        static volatile boolean hold;

        SlowStart(FileImage image) {
            super(image);
        }

        @Override
        public void write(long offset, ByteBuffer src, boolean fua) throws java.io.IOException {
            while (hold) Thread.onSpinWait();
            super.write(offset, src, fua);
        }
    }
}
