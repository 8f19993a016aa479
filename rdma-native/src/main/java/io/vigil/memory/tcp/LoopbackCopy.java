package io.vigil.memory.tcp;

import io.vigil.memory.RemoteRead;
import io.vigil.memory.RemoteRegion;
import io.vigil.memory.keeper.MemoryKeeper;
import io.vigil.protocol.memory.MemoryKeeperEndpoint;
import io.vigil.protocol.memory.RegionGrant;
import io.vigil.protocol.memory.Regions;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A throughput self-check, not a test: {@code LoopbackCopy [MiB] [readKiB] [rounds] [dir]} copies MiB (default 1024)
 * over a plain loopback socket (the sender writes from a 1 MiB direct buffer, the receiver reads into one), then reads
 * as many bytes of an arena file in {@code dir} (default /dev/shm) from an in-process memory keeper through
 * {@link TcpRemoteMemory} in pipelined reads of {@code readKiB} (default 1024) into one 1 MiB direct buffer, like the
 * plain receiver; {@code rounds} times each (default 5), alternating, and prints the median rates. The keeper should
 * come close to the plain socket.
 */
public final class LoopbackCopy {
    private static final int BUFFER = 1 << 20;

    private LoopbackCopy() {}

    public static void main(String[] args) throws Exception {
        long bytes = (args.length > 0 ? Long.parseLong(args[0]) : 1024) << 20;
        int readBytes = (args.length > 1 ? Integer.parseInt(args[1]) : 1024) << 10;
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 5;
        Path dir = Path.of(args.length > 3 ? args[3] : "/dev/shm");
        double[] socket = new double[rounds];
        double[] keeper = new double[rounds];
        Path arenas = Files.createTempDirectory(dir, "vigil-loopback-");
        Path file = arenas.resolve(Regions.fileName(REGION));
        try {
            fill(file, bytes);
            for (int i = 0; i < rounds; i++) { // alternating, so that a busy neighbour slows both alike
                socket[i] = socketCopy(bytes);
                keeper[i] = keeperRead(bytes, readBytes, arenas);
            }
        } finally {
            Files.deleteIfExists(file);
            Files.deleteIfExists(arenas);
        }
        double s = median(socket);
        double k = median(keeper);
        System.out.printf("plain loopback socket:  %.2f GiB/s (median of %d, %d MiB, 1 MiB writes) %s%n", s, rounds,
                bytes >> 20, java.util.Arrays.toString(socket));
        System.out.printf("memory keeper over TCP: %.2f GiB/s (median of %d, %d MiB, %d KiB reads) %s = %.0f%% of the plain socket%n",
                k, rounds, bytes >> 20, readBytes >> 10, java.util.Arrays.toString(keeper), 100 * k / s);
    }

    private static final String REGION = Regions.name("loopback", "vda");

    private static double median(double[] values) {
        double[] sorted = values.clone();
        java.util.Arrays.sort(sorted);
        for (int i = 0; i < values.length; i++) values[i] = Math.round(values[i] * 100) / 100.0;
        return sorted[sorted.length / 2];
    }

    static double socketCopy(long bytes) throws Exception {
        try (ServerSocketChannel server = ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            Thread sender = new Thread(() -> {
                try (SocketChannel out = SocketChannel.open(server.getLocalAddress())) {
                    ByteBuffer buf = ByteBuffer.allocateDirect(BUFFER);
                    ThreadLocalRandom.current().ints(BUFFER / 4).forEach(buf::putInt);
                    for (long left = bytes; left > 0; ) {
                        buf.clear().limit((int) Math.min(BUFFER, left));
                        while (buf.hasRemaining()) left -= out.write(buf);
                    }
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            }, "loopback-sender");
            sender.start();
            try (SocketChannel in = server.accept()) {
                ByteBuffer buf = ByteBuffer.allocateDirect(BUFFER);
                long start = System.nanoTime();
                long got = 0;
                while (got < bytes) {
                    int n = in.read(buf.clear());
                    if (n < 0) throw new IOException("sender ended after " + got + " bytes");
                    got += n;
                }
                double rate = gibPerSecond(bytes, System.nanoTime() - start);
                sender.join();
                return rate;
            }
        }
    }

    static double keeperRead(long bytes, int readBytes, Path arenas) throws Exception {
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        String grantKey = Base64.getEncoder().encodeToString(key);
        try (MemoryKeeper keeper = new MemoryKeeper("loopback-host", arenas, grantKey,
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), null);
                TcpRemoteMemory memory = new TcpRemoteMemory()) {
            keeper.start();
            MemoryKeeperEndpoint endpoint = keeper.endpoint(InetAddress.getLoopbackAddress().getHostAddress());
            String grant = RegionGrant.issue(grantKey, "loopback", "loopback-host", "self",
                    System.currentTimeMillis() + 600_000).token();
            try (RemoteRegion remote = memory.open(endpoint, REGION, grant, Duration.ofSeconds(5))) {
                // Every read lands in the same buffer, as the plain receiver's do, and all are one pipelined call.
                int slots = Math.max(1, BUFFER / readBytes);
                ByteBuffer dst = ByteBuffer.allocateDirect(slots * readBytes);
                List<RemoteRead> reads = new ArrayList<>();
                for (long off = 0; off < bytes; off += readBytes) {
                    int slot = (int) (off / readBytes % slots);
                    reads.add(new RemoteRead(off, dst.slice(slot * readBytes, (int) Math.min(readBytes, bytes - off))));
                }
                long start = System.nanoTime();
                remote.read(reads);
                return gibPerSecond(bytes, System.nanoTime() - start);
            }
        }
    }

    private static void fill(Path file, long bytes) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ByteBuffer buf = ByteBuffer.allocateDirect(BUFFER);
            ThreadLocalRandom.current().ints(BUFFER / 4).forEach(buf::putInt);
            for (long off = 0; off < bytes; off += BUFFER) {
                buf.clear().limit((int) Math.min(BUFFER, bytes - off));
                while (buf.hasRemaining()) ch.write(buf, off + buf.position());
            }
        }
    }

    private static double gibPerSecond(long bytes, long nanos) {
        return bytes / (double) (1L << 30) / (nanos / 1e9);
    }
}
