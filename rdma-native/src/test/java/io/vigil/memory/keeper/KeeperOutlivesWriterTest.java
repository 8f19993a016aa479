package io.vigil.memory.keeper;

import static org.junit.jupiter.api.Assertions.*;

import io.vigil.memory.RemoteRegion;
import io.vigil.memory.tcp.TcpRemoteMemory;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The keeper serves an arena after the process that wrote it (the agent, in production) was SIGKILLed. */
class KeeperOutlivesWriterTest {
    private static final String REGION = "web-1/vda";
    private static final int SIZE = 8 << 20;

    @TempDir
    Path arenas;

    private Process writer;

    @AfterEach
    void killWriter() throws InterruptedException {
        if (writer != null && writer.isAlive()) {
            writer.destroyForcibly();
            writer.waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void anArenaIsServedWholeAfterItsWriterWasKilled() throws Exception {
        try (KeeperFixture keeper = new KeeperFixture(arenas); TcpRemoteMemory memory = new TcpRemoteMemory()) {
            writer = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx64m",
                    "-cp", System.getProperty("java.class.path"), ArenaWriterMain.class.getName(),
                    keeper.file(REGION).toString(), Integer.toString(SIZE), "42")
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            try (BufferedReader out = new BufferedReader(new InputStreamReader(writer.getInputStream(), StandardCharsets.US_ASCII))) {
                assertEquals("ready", out.readLine(), "the writer filled the arena");
            }
            RemoteRegion region = memory.open(keeper.endpoint(), REGION, keeper.grant("web-1"), Duration.ofSeconds(5));
            ByteBuffer before = ByteBuffer.allocateDirect(SIZE);
            region.read(0, before); // while the writer still runs

            writer.toHandle().destroyForcibly(); // SIGKILL
            assertTrue(writer.waitFor(10, TimeUnit.SECONDS));
            assertEquals(137, writer.exitValue(), "killed by SIGKILL");

            byte[] expected = ArenaWriterMain.content(SIZE, 42);
            ByteBuffer stable = ByteBuffer.allocate(SIZE / 2);
            region.read(0, stable); // the region opened before the kill still reads
            assertArrayEquals(java.util.Arrays.copyOf(expected, SIZE / 2), stable.array());
            region.close();

            try (RemoteRegion reopened = memory.open(keeper.endpoint(), REGION, keeper.grant("web-1"), Duration.ofSeconds(5))) {
                assertEquals(SIZE, reopened.size());
                ByteBuffer first = ByteBuffer.allocate(SIZE);
                ByteBuffer second = ByteBuffer.allocate(SIZE);
                reopened.read(0, first);
                reopened.read(0, second);
                assertArrayEquals(java.util.Arrays.copyOf(expected, SIZE / 2), java.util.Arrays.copyOf(first.array(), SIZE / 2));
                assertArrayEquals(first.array(), second.array(), "nothing writes the arena any more: it reads the same twice");
            }
        }
    }
}
