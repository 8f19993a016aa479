package io.vigil.memory.keeper;

import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;

/**
 * A stand-in for the agent in a child JVM: {@code ArenaWriterMain FILE SIZE SEED} creates an arena file, fills it
 * through a shared mapping (as the block cache writes its arenas) with {@link #content}, says "ready" and then keeps
 * rewriting the bytes from {@code SIZE / 2} on until it is killed.
 */
public final class ArenaWriterMain {
    private ArenaWriterMain() {}

    public static byte[] content(int size, long seed) {
        byte[] bytes = new byte[size];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    public static void main(String[] args) throws Exception {
        Path file = Path.of(args[0]);
        int size = Integer.parseInt(args[1]);
        long seed = Long.parseLong(args[2]);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                StandardOpenOption.WRITE)) {
            MappedByteBuffer map = ch.map(FileChannel.MapMode.READ_WRITE, 0, size);
            map.put(content(size, seed));
            System.out.println("ready");
            System.out.flush();
            Random random = new Random();
            while (true) map.put(size / 2 + random.nextInt(size / 2), (byte) random.nextInt());
        }
    }
}
