package io.vigil.agent.cache;

import io.vigil.agent.disk.BlockDevice;
import io.vigil.agent.disk.FileImage;
import io.vigil.agent.disk.ForwardingBlockDevice;
import io.vigil.protocol.CacheMode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.concurrent.locks.LockSupport;

/**
 * The child of {@link CacheCrashTest}: writes random blocks through a write-back cache over a slow image and prints
 * {@code ACK <block> <sequence>} after each acknowledged write, until it is killed.
 * Args: arena path, image path, block count, cache frames.
 */
public final class CrashWriterMain {
    static final int BLOCK = 4096;

    private CrashWriterMain() {
    }

    /** A block's content for write number {@code seq}: the sequence, the block, then bytes derived from both. */
    static ByteBuffer content(long block, long seq) {
        ByteBuffer b = ByteBuffer.allocate(BLOCK);
        b.putLong(0, seq).putLong(8, block);
        for (int i = 16; i < BLOCK; i++) b.put(i, (byte) (seq * 31 + block * 7 + i));
        return b;
    }

    public static void main(String[] args) throws IOException {
        Path arena = Path.of(args[0]);
        BlockDevice image = new Slow(FileImage.open(Path.of(args[1])));
        int blocks = Integer.parseInt(args[2]);
        int frames = Integer.parseInt(args[3]);
        BlockCache cache = BlockCache.open(arena, new ArenaIdentity("vm-crash", "disk0", 5), image,
                CacheSettings.of((long) frames * BLOCK, (long) frames * BLOCK, CacheMode.WRITE_BACK_RECOVERABLE));
        SplittableRandom rnd = new SplittableRandom();
        for (long seq = 1; ; seq++) {
            long block = rnd.nextInt(blocks);
            cache.write(block * BLOCK, content(block, seq), false);
            System.out.println("ACK " + block + " " + seq);
            System.out.flush();
            if (seq % 200 == 0) cache.flush();
        }
    }

    /** 2 ms per image write, so that plenty of acknowledged writes are only in the arena when the kill comes. */
    private static final class Slow extends ForwardingBlockDevice {
        Slow(BlockDevice image) {
            super(image);
        }

        @Override
        public void write(long offset, ByteBuffer src, boolean fua) throws IOException {
            LockSupport.parkNanos(2_000_000);
            super.write(offset, src, fua);
        }
    }
}
