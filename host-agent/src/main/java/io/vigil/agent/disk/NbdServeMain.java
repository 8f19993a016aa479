package io.vigil.agent.disk;

import io.vigil.agent.cache.ArenaIdentity;
import io.vigil.agent.cache.BlockCache;
import io.vigil.agent.cache.CacheSettings;
import io.vigil.agent.nbd.NbdServer;
import io.vigil.protocol.CacheMode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

/**
 * {@code vigil nbd-serve}: serves one raw image over NBD on a UNIX socket through the agent's server and write-back
 * cache, like {@code qemu-nbd}, until SIGTERM or SIGINT; then writes the cache back and exits. Exit codes: 0 after a
 * clean stop, 2 for bad arguments, 1 when the image cannot be served.
 */
public final class NbdServeMain {
    private NbdServeMain() {}

    private static final String USAGE = """
            usage: vigil nbd-serve --image IMG --socket SOCK [--cache-mib N] [--mode MODE] [--export NAME] [--arena FILE]
              --image IMG     a raw disk image file
              --socket SOCK   the UNIX socket to listen on (replaced if stale)
              --cache-mib N   cache size in MiB (default 256; 0: no cache)
              --mode MODE     write-back (default), write-back-recoverable or write-through
              --export NAME   the export name (default: empty, as qemu-nbd)
              --arena FILE    the cache's shared-memory file (default /dev/shm/vigil-nbd-serve.<pid>.arena)
            """;

    record Options(Path image, Path socket, long cacheMiB, CacheMode mode, String export, Path arena) {}

    public static void main(String[] args) throws Exception {
        Options o;
        try {
            o = parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("vigil nbd-serve: " + e.getMessage());
            System.err.print(USAGE);
            System.exit(2);
            return;
        }
        if (o == null) {
            System.out.print(USAGE);
            return;
        }
        if (!Files.isRegularFile(o.image())) {
            System.err.println("vigil nbd-serve: " + o.image() + " is not a file");
            System.exit(1);
        }
        FileImage image = FileImage.open(o.image());
        long max = Math.max(o.cacheMiB() << 20, CacheSettings.DEFAULT_BLOCK_SIZE);
        BlockCache cache = BlockCache.open(o.arena(), new ArenaIdentity("nbd-serve", o.image().getFileName().toString(), 0),
                image, CacheSettings.of(o.cacheMiB() << 20, max, o.mode()));
        NbdServer server = NbdServer.start(o.socket(), Math.max(4, Runtime.getRuntime().availableProcessors() * 2));
        server.addExport(o.export(), o.image().toString(), cache);
        System.err.printf("vigil nbd-serve: serving %s on %s (export '%s'), %d MiB %s cache in %s%n", o.image(), o.socket(),
                o.export(), o.cacheMiB(), o.mode().wireName(), o.arena());
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            try {
                cache.close(); // every dirty block back on the image, the arena removed
                image.close();
            } catch (IOException e) {
                System.err.println("vigil nbd-serve: writing the cache back failed: " + e.getMessage());
            }
            stopped.countDown();
        }, "nbd-serve-stop"));
        stopped.await();
    }

    static Options parse(String[] args) {
        Path image = null;
        Path socket = null;
        long cacheMiB = 256;
        CacheMode mode = CacheMode.WRITE_BACK;
        String export = "";
        Path arena = null;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("-h") || a.equals("--help")) return null;
            if (i + 1 >= args.length) throw new IllegalArgumentException(a + " needs a value");
            String v = args[++i];
            switch (a) {
                case "--image" -> image = Path.of(v);
                case "--socket" -> socket = Path.of(v);
                case "--cache-mib" -> {
                    try {
                        cacheMiB = Long.parseLong(v);
                    } catch (NumberFormatException e) {
                        throw new IllegalArgumentException("--cache-mib must be a number of MiB, not '" + v + "'");
                    }
                    if (cacheMiB < 0) throw new IllegalArgumentException("--cache-mib must not be negative");
                }
                case "--mode" -> mode = CacheMode.fromWire(v);
                case "--export" -> export = v;
                case "--arena" -> arena = Path.of(v);
                default -> throw new IllegalArgumentException("unknown option " + a);
            }
        }
        if (image == null) throw new IllegalArgumentException("--image is required");
        if (socket == null) throw new IllegalArgumentException("--socket is required");
        if (arena == null) arena = Path.of("/dev/shm/vigil-nbd-serve." + ProcessHandle.current().pid() + ".arena");
        return new Options(image, socket, cacheMiB, mode, export, arena);
    }
}
