package io.vigil.agent.disk;

import static org.junit.jupiter.api.Assertions.*;

import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileImageTest {
    private static final int MIB = 1 << 20;

    @TempDir
    Path tmp;

    private FileImage image(int size, boolean sparse) throws Exception {
        Path path = tmp.resolve("vda.raw");
        if (sparse) {
            try (RandomAccessFile file = new RandomAccessFile(path.toFile(), "rw")) {
                file.setLength(size);
            }
        } else {
            byte[] data = new byte[size];
            new Random(1).nextBytes(data);
            Files.write(path, data);
        }
        return FileImage.open(path);
    }

    @Test
    void readsWhatWasWritten() throws Exception {
        try (FileImage image = image(4 * MIB, true)) {
            assertEquals(4 * MIB, image.size());
            byte[] data = new byte[10_000];
            new Random(2).nextBytes(data);
            image.write(12345, ByteBuffer.wrap(data), true);
            ByteBuffer back = ByteBuffer.allocate(data.length);
            image.read(12345, back);
            assertArrayEquals(data, back.array());
            assertFalse(back.hasRemaining());
        }
    }

    @Test
    void aSparseImageIsOneHoleUntilWritten() throws Exception {
        try (FileImage image = image(4 * MIB, true)) {
            assertEquals(List.of(new Extent(4 * MIB, true, true)), image.allocation(0, 4 * MIB));
            image.write(MIB, ByteBuffer.wrap(new byte[MIB]), false);
            assertEquals(List.of(new Extent(MIB, true, true), Extent.data(MIB), new Extent(2 * MIB, true, true)),
                    image.allocation(0, 4 * MIB));
            assertEquals(List.of(Extent.data(MIB / 2), new Extent(MIB, true, true)),
                    image.allocation(MIB + MIB / 2, 3 * MIB / 2), "from the middle, up to the length asked");
        }
    }

    @Test
    void trimAndZeroingPunchHolesUnlessAskedNotTo() throws Exception {
        try (FileImage image = image(4 * MIB, false)) {
            assertEquals(List.of(Extent.data(4 * MIB)), image.allocation(0, 4 * MIB));
            image.trim(0, MIB);
            image.writeZeroes(2 * MIB, MIB, true, true);
            image.writeZeroes(3 * MIB + 100, 1000, false, false);
            List<Extent> map = image.allocation(0, 4 * MIB);
            assertEquals(new Extent(MIB, true, true), map.get(0));
            assertEquals(Extent.data(MIB), map.get(1));
            assertEquals(new Extent(MIB, true, true), map.get(2));
            assertFalse(map.get(3).hole(), "NO_HOLE zeroing keeps the storage");
            ByteBuffer zeroed = ByteBuffer.allocate(MIB);
            image.read(2 * MIB, zeroed);
            assertArrayEquals(new byte[MIB], zeroed.array());
            ByteBuffer small = ByteBuffer.allocate(1200);
            image.read(3 * MIB, small);
            assertArrayEquals(new byte[1000], Arrays.copyOfRange(small.array(), 100, 1100));
            assertNotEquals(0, small.get(99) | small.get(1100) | small.get(0), "bytes around the range are kept");
        }
    }
}
