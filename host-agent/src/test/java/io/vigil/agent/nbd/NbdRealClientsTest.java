package io.vigil.agent.nbd;

import static io.vigil.agent.nbd.NbdProtocol.*;
import static org.junit.jupiter.api.Assertions.*;

import io.vigil.agent.disk.FileImage;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The server against the real clients: libnbd's nbdinfo and nbdcopy, qemu-img, and fio's nbd engine. */
@Timeout(120)
class NbdRealClientsTest {
    private static final int SIZE = 64 << 20;
    /** Debian packages, for the message when a client is missing. */
    private static final Map<String, String> PACKAGES =
            Map.of("nbdinfo", "libnbd-bin", "nbdcopy", "libnbd-bin", "qemu-img", "qemu-utils", "fio", "fio");

    @TempDir
    Path tmp;
    private NbdTestServer test;
    private Path image;
    private FileImage disk;
    private String uri;

    @BeforeEach
    void start() throws Exception {
        image = tmp.resolve("vda.raw");
        try (RandomAccessFile file = new RandomAccessFile(image.toFile(), "rw")) {
            file.setLength(SIZE); // sparse
        }
        disk = FileImage.open(image);
        test = new NbdTestServer();
        test.server.addExport("vm1/vda", "system disk", disk);
        test.server.addExport("vm1/vdb", "data disk", new MemoryDisk(1 << 20, true));
        uri = test.uri("vm1/vda");
    }

    @AfterEach
    void stop() throws Exception {
        test.close();
        disk.close();
    }

    @Test
    void nbdinfoSeesSizeExportsCapabilitiesAndHoles() throws Exception {
        assertEquals(String.valueOf(SIZE), run("nbdinfo", "--size", uri).strip());
        String list = run("nbdinfo", "--list", "nbd+unix://?socket=" + test.socket);
        assertTrue(list.contains("export=\"vm1/vda\"") && list.contains("export=\"vm1/vdb\""), list);
        for (String can : List.of("flush", "fua", "trim", "zero", "multi-conn")) {
            assertEquals(0, exitCode("nbdinfo", "--can", can, uri), "can " + can);
        }
        assertNotEquals(0, exitCode("nbdinfo", "--can", "fast-zero", uri));

        byte[] data = random(8 << 20, 3);
        Files.write(image, data, StandardOpenOption.WRITE);
        try (NbdTestClient client = NbdTestClient.open(test.socket, "vm1/vda", true)) {
            assertEquals(0, client.call(0, CMD_TRIM, 1 << 20, 1 << 20, null).error());
            assertEquals(0, client.call(0, CMD_WRITE_ZEROES, 4 << 20, 1 << 20, null).error());
            assertEquals(0, client.call(CMD_FLAG_NO_HOLE, CMD_WRITE_ZEROES, 6 << 20, 1 << 20, null).error());
            assertArrayEquals(new byte[1 << 20], client.read(4 << 20, 1 << 20));
            assertArrayEquals(new byte[1 << 20], client.read(6 << 20, 1 << 20));
        }
        String map = run("nbdinfo", "--map", uri);
        assertTrue(map.matches("(?s)\\s*0\\s+1048576\\s+0\\s+data\\s+1048576\\s+1048576\\s+3\\s+hole,zero\\s+"
                + "2097152\\s+2097152\\s+0\\s+data\\s+4194304\\s+1048576\\s+3\\s+hole,zero.*"), map);
        assertTrue(map.strip().endsWith("8388608    58720256    3  hole,zero"), map);
    }

    @Test
    void nbdcopyCopiesInAndOutByteForByte() throws Exception {
        Path source = tmp.resolve("source.raw");
        byte[] data = random(SIZE, 4);
        Files.write(source, data);
        run("nbdcopy", source.toString(), uri);
        assertArrayEquals(data, Files.readAllBytes(image));
        Path copy = tmp.resolve("copy.raw");
        run("nbdcopy", uri, copy.toString());
        assertArrayEquals(data, Files.readAllBytes(copy));
    }

    @Test
    void qemuImgConvertsIntoAndOutOfTheExportAndComparesEqual() throws Exception {
        Path source = tmp.resolve("source.raw");
        byte[] data = random(SIZE, 5);
        Arrays.fill(data, 16 << 20, 32 << 20, (byte) 0); // a zero run: qemu-img writes it as zeroes or skips it
        Files.write(source, data);
        Files.write(image, random(SIZE, 6), StandardOpenOption.WRITE); // stale contents to overwrite
        run("qemu-img", "convert", "-n", "-f", "raw", "-O", "raw", source.toString(), uri);
        assertArrayEquals(data, Files.readAllBytes(image));
        run("qemu-img", "compare", "-f", "raw", "-F", "raw", source.toString(), uri);
        Path copy = tmp.resolve("copy.raw");
        run("qemu-img", "convert", "-f", "raw", "-O", "raw", uri, copy.toString());
        assertArrayEquals(data, Files.readAllBytes(copy));
    }

    @Test
    void qemuImgBenchReadsAndWritesAtQueueDepth16() throws Exception {
        run("qemu-img", "bench", "-f", "raw", "-w", "-d", "16", "-c", "4096", "-s", "4k", "--pattern=90", uri);
        byte[] written = new byte[16 << 20];
        Arrays.fill(written, (byte) 90);
        assertArrayEquals(written, Arrays.copyOf(Files.readAllBytes(image), 16 << 20));
        run("qemu-img", "bench", "-f", "raw", "-d", "16", "-c", "8192", "-s", "4k", uri);
    }

    @Test
    void fioVerifiesRandomWritesAndMixedTraffic() throws Exception {
        run("fio", "--name=randwrite", "--ioengine=nbd", "--uri=" + uri, "--rw=randwrite", "--bs=4k",
                "--iodepth=32", "--size=32m", "--verify=crc32c", "--do_verify=1", "--verify_fatal=1");
        run("fio", "--name=randrw", "--ioengine=nbd", "--uri=" + uri, "--rw=randrw", "--bs=4k,64k",
                "--iodepth=16", "--size=32m", "--offset=32m", "--verify=crc32c", "--do_verify=1", "--verify_fatal=1");
        // And the bytes fio left are what the export serves.
        byte[] onDisk = Files.readAllBytes(image);
        try (NbdTestClient client = NbdTestClient.open(test.socket, "vm1/vda", false)) {
            for (int offset = 0; offset < SIZE; offset += 8 << 20) {
                assertArrayEquals(Arrays.copyOfRange(onDisk, offset, offset + (8 << 20)), client.read(offset, 8 << 20));
            }
        }
    }

    private static byte[] random(int size, long seed) {
        byte[] data = new byte[size];
        new Random(seed).nextBytes(data);
        return data;
    }

    /** Runs a client to completion and returns its output; fails on a non-zero exit. */
    private String run(String... command) throws Exception {
        Result result = execute(command);
        assertEquals(0, result.exitCode(), String.join(" ", command) + " failed:\n" + result.output());
        return result.output();
    }

    private int exitCode(String... command) throws Exception {
        return execute(command).exitCode();
    }

    private record Result(int exitCode, String output) {}

    private Result execute(String... command) throws Exception {
        requireInstalled(command[0]);
        Path output = Files.createTempFile(tmp, "out", ".txt");
        Process process = new ProcessBuilder(new ArrayList<>(List.of(command))).redirectErrorStream(true)
                .directory(tmp.toFile()) // fio writes its verify state into its working directory
                .redirectOutput(output.toFile()).start();
        try {
            if (!process.waitFor(90, TimeUnit.SECONDS)) fail(String.join(" ", command) + " did not finish in 90 s");
            return new Result(process.exitValue(), Files.readString(output));
        } finally {
            process.destroyForcibly();
            process.waitFor();
        }
    }

    private static void requireInstalled(String program) throws IOException {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(":")) {
            if (Files.isExecutable(Path.of(dir, program))) return;
        }
        fail(program + " is not installed: install the Debian package " + PACKAGES.get(program));
    }
}
