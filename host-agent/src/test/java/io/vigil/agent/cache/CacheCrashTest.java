package io.vigil.agent.cache;

import static org.junit.jupiter.api.Assertions.*;

import io.vigil.agent.disk.FileImage;
import io.vigil.protocol.CacheMode;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An agent SIGKILLed in the middle of writes: a child JVM writes through a write-back cache and reports each
 * acknowledged write; after the kill, re-opening the arena puts every acknowledged write on the image (or a later
 * write of the same block, which the child may have made without getting to report it).
 */
class CacheCrashTest {
    private static final int BLOCKS = 1024;
    private static final int FRAMES = 512;

    @TempDir
    Path dir;

    private Process child;

    @AfterEach
    void killChild() throws InterruptedException {
        if (child != null && child.isAlive()) {
            child.destroyForcibly();
            child.waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void everyAcknowledgedWriteSurvivesAKill() throws Exception {
        Path arena = dir.resolve("arena");
        Path image = dir.resolve("image");
        try (var f = new java.io.RandomAccessFile(image.toFile(), "rw")) {
            f.setLength((long) BLOCKS * CrashWriterMain.BLOCK);
        }
        child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx64m",
                "-cp", System.getProperty("java.class.path"), CrashWriterMain.class.getName(),
                arena.toString(), image.toString(), Integer.toString(BLOCKS), Integer.toString(FRAMES))
                .redirectError(dir.resolve("child.log").toFile())
                .start();
        Map<Long, Long> acked = new HashMap<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.US_ASCII))) {
            String line;
            while (acked.size() < 400 || ackCount < 1500) {
                assertTrue(System.nanoTime() < deadline, "the child is too slow");
                line = out.readLine();
                assertNotNull(line, () -> "the child ended early: " + readLog());
                String[] p = line.split(" ");
                acked.merge(Long.parseLong(p[1]), Long.parseLong(p[2]), Math::max);
                ackCount++;
            }
            child.toHandle().destroyForcibly(); // SIGKILL mid-writes; unlike Process.destroyForcibly, keeps our end of the pipe open
            assertTrue(child.waitFor(10, TimeUnit.SECONDS));
            while ((line = out.readLine()) != null) { // acknowledged before the kill, still in the pipe
                String[] p = line.split(" ");
                if (p.length == 3) acked.merge(Long.parseLong(p[1]), Long.parseLong(p[2]), Math::max);
            }
        }
        assertTrue(ArenaReader.of(java.nio.channels.FileChannel.open(arena)).dirtyBlocks().size() > 10,
                "the kill left dirty blocks to recover");

        BlockCache cache = BlockCache.open(arena, new ArenaIdentity("vm-crash", "disk0", 5), FileImage.open(image),
                CacheSettings.of((long) FRAMES * CrashWriterMain.BLOCK, (long) FRAMES * CrashWriterMain.BLOCK, CacheMode.WRITE_BACK));
        AttachReport report = cache.attachReport();
        assertFalse(report.created());
        assertTrue(report.dirtyBlocksWrittenBack() > 0, report.toString());
        byte[] bytes = Files.readAllBytes(image); // what recovery put on the image, before the cache does anything else
        for (Map.Entry<Long, Long> e : acked.entrySet()) {
            long block = e.getKey();
            ByteBuffer got = ByteBuffer.wrap(bytes, (int) (block * CrashWriterMain.BLOCK), CrashWriterMain.BLOCK).slice();
            long seq = got.getLong(0);
            assertTrue(seq >= e.getValue(), "block " + block + " holds write " + seq + ", older than acknowledged " + e.getValue());
            assertEquals(CrashWriterMain.content(block, seq), got, "block " + block + " holds a whole write " + seq);
        }
        cache.close();
    }

    private long ackCount;

    private String readLog() {
        try {
            return Files.readString(dir.resolve("child.log"));
        } catch (Exception e) {
            return e.toString();
        }
    }
}
