package io.vigil.agent.cache;

import static org.junit.jupiter.api.Assertions.*;

import io.vigil.protocol.CacheMode;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Flush epochs reach the image in order: every block written in epoch e (including versions later overwritten in
 * e+1, the copy-on-write case) is written and fsynced before any block of e+1. Each block's content names its epoch.
 */
class CacheOrderingTest {
    private static final int BLOCK = 4096;
    private static final int BLOCKS = 256;
    private static final int EPOCHS = 12;

    @TempDir
    Path dir;

    private record Event(long block, int epoch, boolean flush) {
    }

    @Test
    void noBlockOfTheNextEpochBeforeTheWholeEpochIsWrittenAndFlushed() throws Exception {
        List<Event> events = new ArrayList<>();
        MemoryImage image = new MemoryImage(BLOCKS * BLOCK).slow(200_000).listen(new MemoryImage.Listener() {
            @Override
            public void written(long offset, ByteBuffer data) {
                for (int at = 0; at < data.remaining(); at += BLOCK)
                    events.add(new Event(offset / BLOCK + at / BLOCK, data.getInt(data.position() + at), false));
            }

            @Override
            public void flushed() {
                events.add(new Event(-1, -1, true));
            }
        });
        BlockCache cache = BlockCache.open(dir.resolve("arena"), new ArenaIdentity("vm", "d", 1), image,
                new CacheSettings(BLOCKS * BLOCK, BLOCKS * BLOCK, BLOCK, CacheMode.WRITE_BACK_RECOVERABLE, 0.9));
        SplittableRandom rnd = new SplittableRandom(7);
        List<Set<Long>> written = new ArrayList<>();
        for (int e = 1; e <= EPOCHS; e++) {
            Set<Long> blocks = new HashSet<>();
            for (int i = 0; i < 12; i++) {
                // a hot range, so blocks dirty in the previous epoch are overwritten (copy-on-write) often
                long b = rnd.nextInt(4) == 0 ? rnd.nextInt(BLOCKS) : rnd.nextInt(16);
                ByteBuffer data = ByteBuffer.allocate(BLOCK);
                data.putInt(0, e);
                data.putLong(8, b);
                cache.write(b * BLOCK, data, false);
                blocks.add(b);
            }
            written.add(blocks);
            cache.flush(); // recoverable mode: returns at once, epochs pile up behind the slow image
        }
        ByteBuffer fua = ByteBuffer.allocate(BLOCK);
        fua.putInt(0, EPOCHS + 1);
        cache.write(3L * BLOCK, fua, true); // FUA: every older epoch first, then this block, fsynced
        List<Event> atFua;
        synchronized (image) {
            atFua = new ArrayList<>(events);
        }
        assertTrue(atFua.stream().anyMatch(ev -> ev.epoch() == EPOCHS + 1), "the FUA write is on the image when it returns");
        assertTrue(atFua.get(atFua.size() - 1).flush(), "and fsynced");
        cache.close();

        // replay the event log: when epoch e+1 first appears, all of epoch e must be written and then flushed
        List<Event> log = new ArrayList<>(events);
        Set<Long> seen = new HashSet<>();
        int highest = 0;
        boolean flushedSinceWrite = true;
        for (Event ev : log) {
            if (ev.flush()) {
                flushedSinceWrite = true;
                continue;
            }
            if (ev.epoch() > highest) {
                for (int e = highest; e >= 1 && e < ev.epoch(); e++) {
                    for (long b : written.get(e - 1))
                        assertTrue(seen.contains(b << 8 | e), "block " + b + " of epoch " + e + " before epoch " + ev.epoch());
                }
                assertTrue(flushedSinceWrite, "a flush between epoch " + highest + " and " + ev.epoch());
                highest = ev.epoch();
            }
            assertTrue(ev.epoch() >= highest, "epoch " + ev.epoch() + " written after epoch " + highest);
            seen.add(ev.block() << 8 | ev.epoch());
            flushedSinceWrite = false;
        }
        assertEquals(EPOCHS + 1, highest);
        for (int e = 1; e <= EPOCHS; e++)
            for (long b : written.get(e - 1)) assertTrue(seen.contains(b << 8 | e), "block " + b + " of epoch " + e);
    }
}
