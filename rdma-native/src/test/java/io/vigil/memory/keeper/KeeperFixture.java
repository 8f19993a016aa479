package io.vigil.memory.keeper;

import io.vigil.memory.VerbsExporter;
import io.vigil.protocol.memory.MemoryKeeperEndpoint;
import io.vigil.protocol.memory.RegionGrant;
import io.vigil.protocol.memory.Regions;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.Random;

/** A memory keeper on loopback with short timeouts, over an arena directory of the test's, and grants for it. */
public final class KeeperFixture implements AutoCloseable {
    public static final String HOST = "keeper-host";
    /** 8 serving; handshakes: 1 s, 8 at once, 4 per address (every test peer is 127.0.0.1), 64 waiting. */
    public static final KeeperLimits LIMITS = new KeeperLimits(8, 1 << 20, Duration.ofSeconds(1), Duration.ofSeconds(5),
            Duration.ofSeconds(2), 8, 4, 64);

    public final Path arenas;
    public final String key = newKey();
    public final MemoryKeeper keeper;

    public KeeperFixture(Path arenas) throws IOException {
        this(arenas, LIMITS, null);
    }

    public KeeperFixture(Path arenas, KeeperLimits limits, VerbsExporter verbs) throws IOException {
        this.arenas = arenas;
        keeper = new MemoryKeeper(HOST, arenas, key, new InetSocketAddress("127.0.0.1", 0), verbs, limits, Clock.systemUTC());
        keeper.start();
    }

    public static String newKey() {
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        return Base64.getEncoder().encodeToString(key);
    }

    public MemoryKeeperEndpoint endpoint() {
        return keeper.endpoint("127.0.0.1");
    }

    public int port() {
        return keeper.port();
    }

    /** A valid grant for every region of {@code vm}, good for ten minutes. */
    public String grant(String vm) {
        return RegionGrant.issue(key, vm, HOST, "taker-host", System.currentTimeMillis() + 600_000).token();
    }

    /** Writes an arena file of {@code size} random bytes for {@code region}; returns its bytes. */
    public byte[] arena(String region, int size, long seed) throws IOException {
        byte[] bytes = new byte[size];
        new Random(seed).nextBytes(bytes);
        Path file = arenas.resolve(Regions.fileName(region));
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer buf = ByteBuffer.wrap(bytes);
            while (buf.hasRemaining()) ch.write(buf);
        }
        return bytes;
    }

    public Path file(String region) {
        return arenas.resolve(Regions.fileName(region));
    }

    /** Waits until the keeper holds at most {@code n} connections; false if it does not within {@code timeout}. */
    public boolean awaitConnections(int n, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (keeper.connections() > n) {
            if (System.nanoTime() > deadline) return false;
            Thread.sleep(10);
        }
        return true;
    }

    @Override
    public void close() {
        keeper.close();
    }

}
