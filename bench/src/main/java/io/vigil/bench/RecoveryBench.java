package io.vigil.bench;

import io.vigil.agent.cache.ArenaIdentity;
import io.vigil.agent.cache.BlockCache;
import io.vigil.agent.cache.CacheSettings;
import io.vigil.agent.disk.BlockDevice;
import io.vigil.agent.disk.FileImage;
import io.vigil.agent.disk.ForwardingBlockDevice;
import io.vigil.agent.recovery.DirtyBlockRecovery;
import io.vigil.memory.keeper.MemoryKeeper;
import io.vigil.memory.tcp.TcpRemoteMemory;
import io.vigil.protocol.CacheMode;
import io.vigil.protocol.memory.MemoryKeeperEndpoint;
import io.vigil.protocol.memory.RecoveryReport;
import io.vigil.protocol.memory.RecoverySource;
import io.vigil.protocol.memory.RegionGrant;
import io.vigil.protocol.memory.Regions;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * bench/recovery: a failed host's arena holding {@code --dirty-mib} MiB of dirty 4 KiB blocks (written in random disk
 * order) is recovered over the tcp transport on loopback: a memory keeper serves it, {@link DirtyBlockRecovery} reads
 * the header, the dirty table and every dirty frame, checks each checksum and writes the blocks to an image in
 * /dev/shm, then fsyncs it. Beside it, in the same run, the same number of bytes copied over a plain loopback TCP
 * socket (64 KiB writes into 1 MiB reads), the limit for any transport over this socket. Target: recovery >= 70% of
 * the socket figure. Prints both, then one line of JSON.
 *   java -cp ... io.vigil.bench.RecoveryBench [--dir /dev/shm] [--dirty-mib 1024] [--runs 3]
 */
public final class RecoveryBench {
    private static final int BLOCK = CacheSettings.DEFAULT_BLOCK_SIZE;
    private static final double GIB = 1 << 30;

    private RecoveryBench() {}

    public static void main(String[] args) throws Exception {
        Path base = Path.of("/dev/shm");
        long dirtyMiB = 1024;
        int runs = 3;
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--dir" -> base = Path.of(args[i + 1]);
                case "--dirty-mib" -> dirtyMiB = Long.parseLong(args[i + 1]);
                case "--runs" -> runs = Integer.parseInt(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i]
                        + " (--dir DIR --dirty-mib MIB --runs N)");
            }
        }
        Path dir = Files.createTempDirectory(base, "vigil-recovery-bench");
        try {
            run(dir, dirtyMiB << 20, runs);
        } finally {
            try (var files = Files.walk(dir)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private static void run(Path dir, long dirtyBytes, int runs) throws Exception {
        Path arenas = Files.createDirectories(dir.resolve("arenas"));
        Path image = dir.resolve("vda.img");
        sized(image, dirtyBytes);
        System.out.printf("writing %d MiB of dirty blocks into an arena (the failed host's cache)...%n", dirtyBytes >> 20);
        int blocks = dirtyArena(arenas, image, dirtyBytes);

        String key = Base64.getEncoder().encodeToString(SecureRandom.getInstanceStrong().generateSeed(32));
        double[] recovery = new double[runs];
        double[] socket = new double[runs];
        long recoveredBlocks = 0;
        try (MemoryKeeper keeper = new MemoryKeeper("failed", arenas, key,
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), null);
             TcpRemoteMemory tcp = new TcpRemoteMemory()) {
            keeper.start();
            MemoryKeeperEndpoint endpoint = keeper.endpoint("127.0.0.1");
            DirtyBlockRecovery recoverer = new DirtyBlockRecovery(tcp);
            System.out.printf("%-4s %18s %18s%n", "run", "recovery GiB/s", "plain socket GiB/s");
            for (int r = 0; r < runs; r++) {
                sized(image, 0);
                sized(image, dirtyBytes);
                String grant = RegionGrant.issue(key, "bench", "failed", "target", System.currentTimeMillis() + 60_000).token();
                RecoverySource from = new RecoverySource("failed", endpoint, grant, 1, 5000, 0, dirtyBytes);
                long t0 = System.nanoTime();
                RecoveryReport report = recoverer.recover("bench", List.of(new DirtyBlockRecovery.Disk("vda", image)), from);
                long nanos = System.nanoTime() - t0;
                if (!report.reached() || report.blocks() != blocks)
                    throw new IllegalStateException("recovery did not apply every block: " + report);
                recoveredBlocks = report.blocks();
                recovery[r] = dirtyBytes / GIB / (nanos / 1e9);
                socket[r] = plainSocket(dirtyBytes);
                System.out.printf("%-4d %18.2f %18.2f%n", r + 1, recovery[r], socket[r]);
            }
        }
        double rec = median(recovery), sock = median(socket);
        double ratio = rec / sock;
        System.out.printf("recovered %d blocks (%d MiB): median %.2f GiB/s over tcp, plain loopback socket %.2f GiB/s: "
                + "%.0f%% (target >= 70%%: %s)%n", recoveredBlocks, dirtyBytes >> 20, rec, sock, ratio * 100,
                ratio >= 0.7 ? "met" : "MISSED");
        System.out.println(String.format(Locale.ROOT, "{\"benchmark\":\"recovery\",\"dirtyMiB\":%d,\"blocks\":%d,"
                + "\"runs\":%d,\"recoveryGiBps\":%.3f,\"plainSocketGiBps\":%.3f,\"ratioRecoveryOverSocket\":%.3f,"
                + "\"recoverySamplesGiBps\":%s,\"socketSamplesGiBps\":%s,\"target\":0.7,\"met\":%b}",
                dirtyBytes >> 20, recoveredBlocks, runs, rec, sock, ratio, samples(recovery), samples(socket), ratio >= 0.7));
    }

    /** Fills an arena with {@code bytes} of dirty blocks, each block of the image once, in random order. */
    private static int dirtyArena(Path arenas, Path image, long bytes) throws IOException {
        int blocks = (int) (bytes / BLOCK);
        long capacity = (long) Math.ceil(blocks / 0.9) * BLOCK + 64L * BLOCK;
        FailedImage failed = new FailedImage(FileImage.open(image));
        BlockCache cache = BlockCache.open(arenas.resolve(Regions.fileName("bench/vda")),
                new ArenaIdentity("bench", "vda", 1), failed,
                new CacheSettings(capacity, capacity, BLOCK, CacheMode.WRITE_BACK_RECOVERABLE, 0.9));
        int[] order = new int[blocks];
        for (int i = 0; i < blocks; i++) order[i] = i;
        SplittableRandom random = new SplittableRandom(7);
        for (int i = blocks - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        ByteBuffer block = ByteBuffer.allocateDirect(BLOCK);
        byte[] fill = new byte[BLOCK];
        for (int b : order) {
            random.nextBytes(fill);
            block.clear().put(fill).flip();
            cache.write((long) b * BLOCK, block, false);
        }
        cache.detach(); // as a host that died leaves it: every block dirty, nothing written back
        return blocks;
    }

    /** Copies {@code bytes} over a plain loopback TCP connection; returns GiB/s. */
    private static double plainSocket(long bytes) throws Exception {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Thread sender = new Thread(() -> {
                try (Socket s = server.accept(); OutputStream out = s.getOutputStream()) {
                    byte[] chunk = new byte[64 << 10];
                    Arrays.fill(chunk, (byte) 1);
                    for (long sent = 0; sent < bytes; sent += chunk.length) out.write(chunk, 0, (int) Math.min(chunk.length, bytes - sent));
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            });
            sender.start();
            long t0 = System.nanoTime();
            try (Socket s = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort()); InputStream in = s.getInputStream()) {
                byte[] buf = new byte[1 << 20];
                long got = 0;
                int n;
                while ((n = in.read(buf)) > 0) got += n;
                if (got != bytes) throw new IllegalStateException("socket copy got " + got + " of " + bytes);
            }
            long nanos = System.nanoTime() - t0;
            sender.join();
            return bytes / GIB / (nanos / 1e9);
        }
    }

    private static void sized(Path file, long bytes) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(bytes);
        }
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }

    private static String samples(double[] v) {
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < v.length; i++) b.append(i > 0 ? "," : "").append(String.format(Locale.ROOT, "%.3f", v[i]));
        return b.append(']').toString();
    }

    /** The image of a host that has failed: its cache can no longer write anything back. */
    private static final class FailedImage extends ForwardingBlockDevice {
        FailedImage(BlockDevice image) {
            super(image);
        }

        @Override
        public void write(long offset, ByteBuffer src, boolean fua) throws IOException {
            throw new IOException("the host failed before writing back");
        }
    }
}
