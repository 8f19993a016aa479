package io.vigil.memory.keeper;

import static org.junit.jupiter.api.Assertions.*;

import io.vigil.memory.RemoteRegion;
import io.vigil.memory.tcp.TcpRemoteMemory;
import io.vigil.protocol.memory.MemoryKeeperEndpoint;
import io.vigil.protocol.memory.RegionGrant;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The keeper program as hosts run it: a separate JVM. */
class MemoryKeeperMainTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(5);

    @TempDir
    Path dir;

    private final List<Process> children = new ArrayList<>();

    @AfterEach
    void killChildren() throws InterruptedException {
        for (Process p : children) {
            if (p.isAlive()) {
                p.destroyForcibly();
                p.waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    private Process start(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx64m", "-cp", System.getProperty("java.class.path"), MemoryKeeperMain.class.getName()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(dir.resolve("keeper-" + children.size() + ".log").toFile()).start();
        children.add(p);
        return p;
    }

    private String log(int i) throws Exception {
        return Files.readString(dir.resolve("keeper-" + i + ".log"));
    }

    private MemoryKeeperEndpoint awaitEndpoint(Path state, Process p, int run) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            Optional<MemoryKeeperEndpoint> e = MemoryKeeperFiles.readEndpoint(state);
            if (e.isPresent()) return e.get();
            assertTrue(p.isAlive(), () -> "the keeper ended early: " + readLog(run));
            Thread.sleep(50);
        }
        throw new AssertionError("no keeper.json: " + log(run));
    }

    private String readLog(int run) {
        try {
            return log(run);
        } catch (Exception e) {
            return e.toString();
        }
    }

    @Test
    void theKeeperPublishesItsEndpointServesKeepsItsKeyAcrossRestartsAndStopsOnSigterm() throws Exception {
        Path arenas = dir.resolve("shm/vigil-h1");
        Path state = dir.resolve("state");
        String[] args = {"--host", "h1", "--arenas", arenas.toString(), "--state", state.toString(), "--listen", "127.0.0.1:0"};
        Process first = start(args);
        MemoryKeeperEndpoint endpoint = awaitEndpoint(state, first, 0);
        assertEquals("h1", endpoint.host());
        assertEquals("127.0.0.1", endpoint.address());
        assertTrue(endpoint.tcpPort() > 0);
        assertEquals(0, endpoint.verbsPort());
        assertEquals(Files.readString(state.resolve(MemoryKeeperFiles.GRANT_KEY_FILE)).strip(), endpoint.grantKey());
        assertEquals("rw-------", mode(state.resolve(MemoryKeeperFiles.ENDPOINT_FILE)));
        assertEquals("rw-------", mode(state.resolve(MemoryKeeperFiles.GRANT_KEY_FILE)));
        assertEquals("rwx------", mode(arenas));
        assertTrue(log(0).contains("serves the arenas in " + arenas), log(0));

        byte[] arena = new byte[1 << 20];
        new Random(1).nextBytes(arena);
        Files.write(arenas.resolve("web-1.vda.arena"), arena);
        String grant = RegionGrant.issue(endpoint.grantKey(), "web-1", "h1", "h2", System.currentTimeMillis() + 600_000).token();
        try (TcpRemoteMemory memory = new TcpRemoteMemory()) {
            assertArrayEquals(arena, readAll(memory, endpoint, grant));

            first.destroy(); // SIGTERM
            assertTrue(first.waitFor(20, TimeUnit.SECONDS), "the keeper stops on SIGTERM");
            assertEquals(143, first.exitValue());
            assertTrue(log(0).contains("memory keeper of h1 stopped"), log(0));
            assertEquals(Optional.empty(), MemoryKeeperFiles.readEndpoint(state), "a stopped keeper's endpoint is withdrawn");

            Process second = start(args);
            MemoryKeeperEndpoint again = awaitEndpoint(state, second, 1);
            assertEquals(endpoint.grantKey(), again.grantKey(), "the same key after a restart");
            assertArrayEquals(arena, readAll(memory, again, grant), "grants issued before the restart still work");
            second.destroy();
            assertTrue(second.waitFor(20, TimeUnit.SECONDS));
        }
    }

    private static byte[] readAll(TcpRemoteMemory memory, MemoryKeeperEndpoint endpoint, String grant) throws Exception {
        try (RemoteRegion region = memory.open(endpoint, "web-1/vda", grant, TIMEOUT)) {
            ByteBuffer dst = ByteBuffer.allocate((int) region.size());
            region.read(0, dst);
            return dst.array();
        }
    }

    @Test
    void badArgumentsExitWithStatusTwoNamingTheProblem() throws Exception {
        Process p = start("--host", "h1", "--state", dir.toString());
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(2, p.exitValue());
        assertTrue(log(0).contains("--arenas is required"), log(0));

        Process q = start("--host", "h1", "--arenas", dir.toString(), "--state", dir.toString(), "--listen", "127.0.0.1:x");
        assertTrue(q.waitFor(30, TimeUnit.SECONDS));
        assertEquals(2, q.exitValue());
        assertTrue(log(1).contains("port must be a number"), log(1));
    }

    @Test
    void aPortInUseIsAFailureToStart() throws Exception {
        try (var taken = java.nio.channels.ServerSocketChannel.open().bind(new InetSocketAddress("127.0.0.1", 0))) {
            int port = ((InetSocketAddress) taken.getLocalAddress()).getPort();
            Process p = start("--host", "h1", "--arenas", dir.resolve("a").toString(), "--state", dir.resolve("s").toString(),
                    "--listen", "127.0.0.1:" + port);
            assertTrue(p.waitFor(30, TimeUnit.SECONDS));
            assertEquals(1, p.exitValue());
            assertTrue(log(0).contains("cannot listen on"), log(0));
            assertFalse(Files.exists(dir.resolve("s").resolve(MemoryKeeperFiles.ENDPOINT_FILE)));
        }
    }

    @Test
    void argumentsParse() {
        MemoryKeeperMain.Args a = MemoryKeeperMain.parse(new String[] {"--host=h1", "--arenas", "/dev/shm/vigil-h1",
                "--state", "/var/lib/vigil/keeper", "--listen", "[::1]:7000", "--advertise", "10.1.2.3"});
        assertEquals("h1", a.host());
        assertEquals(Path.of("/dev/shm/vigil-h1"), a.arenas());
        assertEquals(7000, a.listen().getPort());
        assertEquals("0:0:0:0:0:0:0:1", a.listen().getAddress().getHostAddress());
        assertEquals("10.1.2.3", a.advertise());
        MemoryKeeperMain.Args defaults = MemoryKeeperMain.parse(new String[] {"--host", "h1", "--arenas", "a", "--state", "s"});
        assertEquals(MemoryKeeperMain.DEFAULT_PORT, defaults.listen().getPort());
        assertTrue(defaults.listen().getAddress().isAnyLocalAddress());
        assertNull(MemoryKeeperMain.parse(new String[] {"--help"}));
        assertThrows(IllegalArgumentException.class, () -> MemoryKeeperMain.parse(new String[] {"--host", "h1", "--bogus", "x"}));
        assertThrows(IllegalArgumentException.class, () -> MemoryKeeperMain.listenAddress("127.0.0.1:70000"));
        assertEquals(7470, MemoryKeeperMain.listenAddress(":7470").getPort());
    }

    private static String mode(Path p) throws Exception {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
    }
}
